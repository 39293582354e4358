"""Model ids and version names: validated once, so no path or query can be formed from them."""

from __future__ import annotations

import re
from typing import Any

from nba_mcp_deploy.errors import InvalidInputError

MAX_ID_LENGTH = 64
MODEL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
# The seed's scheme: "v" then 1 to 4 dot-separated numbers (v1, v1.0, v2.1.3).
VERSION_PATTERN = r"^v[0-9]{1,6}(\.[0-9]{1,6}){0,3}$"

_MODEL_ID = re.compile(MODEL_ID_PATTERN)
_VERSION = re.compile(VERSION_PATTERN)

MODEL_ID_RULE = (
    f"a model id is 1-{MAX_ID_LENGTH} characters of letters, digits, '_', '-' and '.', "
    "starting with a letter or digit (e.g. 'win_probability')"
)
VERSION_RULE = "a version is 'v' followed by 1 to 4 dot-separated numbers (e.g. 'v1.0', 'v2.1.3')"


def validate_model_id(model_id: Any, field: str = "model_id") -> str:
    """Return `model_id` if it is a valid id, else raise naming the field and the rule."""
    if not isinstance(model_id, str) or not _MODEL_ID.fullmatch(model_id) or ".." in model_id:
        raise InvalidInputError(field, model_id, MODEL_ID_RULE)
    return model_id


def validate_version(version: Any, field: str = "version") -> str:
    """Return `version` if it follows the scheme, else raise naming the field and the rule."""
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise InvalidInputError(field, version, VERSION_RULE)
    return version


def version_key(version: str) -> tuple[int, ...]:
    """Sort key that orders versions semantically (v1.10 after v1.9, v2 == v2.0 sorts before v2.0.1)."""
    return tuple(int(part) for part in version[1:].split("."))
