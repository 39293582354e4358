"""Whether the tests run in CI, where a missing dependency fails a test instead of skipping it."""

from __future__ import annotations

import os


def in_ci() -> bool:
    """`CI` set to a true value (`.ci/run` exports CI=true)."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
