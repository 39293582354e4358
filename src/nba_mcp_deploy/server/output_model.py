"""The base of every tool result model.

Results are built from the core's dataclasses by attribute. Their JSON schema spells an optional
field as `"type": ["string", "null"]` rather than pydantic's `anyOf`: the same meaning, and
clients that validate every result against the output schema (the Python SDK does, with
`jsonschema`) check it about a third faster.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict


def nullable_as_type_list(schema: dict[str, Any], _: Any = None) -> None:
    """Rewrite `anyOf: [{type: T, ...}, {type: null}]` into `{type: [T, null], ...}`, in place."""
    properties = schema.get("properties", {})
    for field in properties.values():
        options = field.get("anyOf")
        if not isinstance(options, list) or len(options) != 2 or {"type": "null"} not in options:
            continue
        other = next(o for o in options if o != {"type": "null"})
        if isinstance(other.get("type"), str) and "$ref" not in other:
            del field["anyOf"]
            field.update({**other, "type": [other["type"], "null"]})


class ToolOutput(BaseModel):
    """Frozen, built from attributes, with the cheaper nullable spelling in its schema."""

    model_config = ConfigDict(from_attributes=True, frozen=True, json_schema_extra=nullable_as_type_list)
