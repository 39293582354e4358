"""Argument types shared by the tools, each taken from the core rule it stands for.

The JSON schema tells the agent what is allowed, and its limits, patterns and choices are the
core's own constants (read from `shapes.py` where the core's module is not imported at start-up);
an identifier the core refuses fails with the core's rule text. Bounds that only the MCP layer
sets (the core has no such rule) are named constants here and say why.

No `from __future__ import annotations`: pydantic evaluates these annotations.
"""

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Annotated, Any, Literal

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
from nba_mcp_deploy.server.shapes import LABEL_PATTERN, LABEL_RULE, MAX_URI, REGISTRATION_STAGES, Stage

# The MCP layer's own bound on a sticky routing key: the core only hashes it, and a bound keeps
# an agent from sending megabytes through a field meant for an id.
MAX_REQUEST_KEY = 256


def core_rule(check: Callable[[Any], Any]) -> AfterValidator:
    """Validate with the core's `check`; its refusal reaches the agent as the rule it names."""

    def validate(value: Any) -> Any:
        try:
            return check(value)
        except InvalidInputError as exc:
            raise ValueError(exc.allowed) from None

    return AfterValidator(validate)


def one_of(values: Iterable[str]) -> Any:
    """A `Literal` of `values` (the names the core gives its choices): the schema lists them and
    pydantic refuses anything else, naming them. The tool receives the name; the core parses it.

    Type checkers cannot follow a `Literal` built at run time, so each alias built with it is
    declared as `str` for them (`if TYPE_CHECKING:`), beside the real one.
    """
    return Literal[tuple(values)]


ModelId = Annotated[
    str,
    core_rule(validate_model_id),
    WithJsonSchema(
        {"type": "string", "pattern": MODEL_ID_PATTERN, "maxLength": MAX_ID_LENGTH, "description": MODEL_ID_RULE}
    ),
]

Version = Annotated[
    str,
    core_rule(validate_version),
    WithJsonSchema({"type": "string", "pattern": VERSION_PATTERN, "description": VERSION_RULE}),
]

ModelUri = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_URI,
        description=(
            "models:/name/N, models:/name@alias, runs:/run_id/path, or a path (relative to the first "
            "trusted model root, or absolute inside one) to an MLflow model directory, a .skops file "
            "or a .joblib/.pkl file"
        ),
    ),
]

Label = Annotated[str, Field(pattern=LABEL_PATTERN, description=LABEL_RULE)]

if TYPE_CHECKING:
    StageName = str
    RegistrationStage = str
else:
    StageName = one_of(stage.value for stage in Stage)
    RegistrationStage = one_of(stage.value for stage in REGISTRATION_STAGES)

RequestKey = Annotated[
    str | None,
    Field(
        max_length=MAX_REQUEST_KEY,
        description="sticky routing key (e.g. a user or game id): the same key always reaches the same A/B version",
    ),
]

Fraction = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
