"""Checking what a caller registers, once, at the registry's door.

Every rule is bounded (lengths, counts, sizes) because the caller may be an agent passing
whatever it was given; every refusal names the field, the value and what is allowed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.identifiers import validate_version, version_key

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$"
NAME_RULE = "names are 1-64 characters of letters, digits, '_', '.', '-', starting with a letter or '_'"
LABEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.+\- ]{0,63}$"
LABEL_RULE = "1-64 characters of letters, digits, '_', '.', '+', '-' and spaces, starting with a letter or digit"
MAX_METRICS = 100
MAX_TAGS = 50
MAX_TAG_VALUE = 256
MAX_DESCRIPTION = 4_000
MAX_NOTE = 500
MAX_URI = 1_024
MAX_ACTOR = 128
MAX_HYPERPARAMETERS_JSON = 64 * 1024

_HYPERPARAMETERS_JSON = json.JSONEncoder(allow_nan=False, sort_keys=True)
_NAME = re.compile(NAME_PATTERN)
_LABEL = re.compile(LABEL_PATTERN)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def canonical_version(value: Any, field: str = "version") -> str:
    """A valid version in its one spelling: 'v1.01' and 'v01.1' are both 'v1.1' (the same version)."""
    return "v" + ".".join(str(part) for part in version_key(validate_version(value, field)))


def validate_name(value: Any, field: str) -> str:
    """A metric, tag or hyperparameter name."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise InvalidInputError(field, value, NAME_RULE)
    return value


def validate_label(value: Any, field: str) -> str:
    """A framework or algorithm name, normalised to lower case so searches need not guess case."""
    if not isinstance(value, str) or not _LABEL.fullmatch(value.strip()):
        raise InvalidInputError(field, value, f"{field} is {LABEL_RULE} (e.g. 'sklearn')")
    return value.strip().lower()


def validate_text(value: Any, field: str, *, max_length: int, single_line: bool = False) -> str:
    """Free text with a bounded length (and no control characters when single-line)."""
    if not isinstance(value, str) or len(value) > max_length:
        raise InvalidInputError(field, value, f"expected text of at most {max_length} characters")
    if single_line and _CONTROL.search(value):
        raise InvalidInputError(field, value, "expected a single line without control characters")
    return value


def validate_actor(value: Any) -> str:
    """Who made a change: a non-empty single line, recorded in the history."""
    text = validate_text(value, "actor", max_length=MAX_ACTOR, single_line=True).strip()
    if not text:
        raise InvalidInputError("actor", value, "expected a non-empty name of who makes the change")
    return text


def validate_number(value: Any, field: str) -> float:
    """A finite real number (booleans are refused: True is not a score)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(field, value, "expected a finite number")
    return float(value)


def validate_metrics(value: Any) -> dict[str, float]:
    """Metric name -> finite number."""
    mapping = _mapping(value, "metrics", MAX_METRICS)
    return {validate_name(k, "metrics"): validate_number(v, f"metrics.{k}") for k, v in mapping.items()}


def validate_tags(value: Any) -> dict[str, str]:
    """Tag name -> short single-line text."""
    mapping = _mapping(value, "tags", MAX_TAGS)
    tags = {}
    for k, v in mapping.items():
        name = validate_name(k, "tags")
        tags[name] = validate_text(v, "tags." + name, max_length=MAX_TAG_VALUE, single_line=True)
    return tags


def validate_hyperparameters(value: Any) -> dict[str, Any]:
    """Name -> any JSON value (numbers finite), at most MAX_HYPERPARAMETERS_JSON characters once serialised.

    The result is what JSON gives back (a copy, keys sorted).
    """
    mapping = _mapping(value, "hyperparameters", None)
    for key in mapping:
        validate_name(key, "hyperparameters")
    try:
        encoded = _HYPERPARAMETERS_JSON.encode(mapping)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            "hyperparameters", value, f"expected JSON values (text, finite numbers, booleans, lists): {exc}"
        ) from None
    if len(encoded) > MAX_HYPERPARAMETERS_JSON:
        raise InvalidInputError(
            "hyperparameters", value, f"expected at most {MAX_HYPERPARAMETERS_JSON // 1024} KiB once written as JSON"
        )
    decoded: dict[str, Any] = json.loads(encoded)
    return decoded


def validate_model_uri(value: Any) -> str | None:
    """Where the model's artifact lives; the loader decides later whether it is trusted."""
    if value is None:
        return None
    text = validate_text(value, "model_uri", max_length=MAX_URI, single_line=True).strip()
    return text or None


def _mapping(value: Any, field: str, max_items: int | None) -> Mapping[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInputError(field, value, "expected a mapping of names to values")
    if max_items is not None and len(value) > max_items:
        raise InvalidInputError(field, f"{len(value)} entries", f"at most {max_items} entries")
    return value
