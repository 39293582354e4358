"""Argument types shared by the tools: the JSON schema tells the agent what is allowed, and a
failed check names the field, the value and the rule."""

from typing import Annotated, Any

from pydantic import AfterValidator, Field, WithJsonSchema

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.identifiers import (
    MAX_ID_LENGTH,
    MODEL_ID_PATTERN,
    MODEL_ID_RULE,
    VERSION_PATTERN,
    VERSION_RULE,
    validate_model_id,
    validate_version,
)


def _check(validator: Any) -> Any:
    def check(value: str) -> str:
        try:
            return str(validator(value))
        except InvalidInputError as exc:
            raise ValueError(exc.allowed) from None

    return check


ModelId = Annotated[
    str,
    AfterValidator(_check(validate_model_id)),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": MODEL_ID_PATTERN,
            "maxLength": MAX_ID_LENGTH,
            "description": MODEL_ID_RULE,
        }
    ),
]

Version = Annotated[
    str,
    AfterValidator(_check(validate_version)),
    WithJsonSchema({"type": "string", "pattern": VERSION_PATTERN, "description": VERSION_RULE}),
]

ModelUri = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4096,
        description=(
            "models:/name/N, models:/name@alias, runs:/run_id/path, or a path (relative to the first "
            "trusted model root, or absolute inside one) to an MLflow model directory, a .skops file "
            "or a .joblib/.pkl file"
        ),
    ),
]

RequestKey = Annotated[
    str | None,
    Field(
        max_length=256,
        description="sticky routing key (e.g. a user or game id): the same key always reaches the same A/B version",
    ),
]

Fraction = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
