"""Tool results: each a dataclass, shown to the agent through a pydantic model derived from it.

A tool returns what the core returns (a frozen dataclass) or a small dataclass of this package
that adds context. `output_model(cls)` derives the pydantic model the SDK publishes as the
tool's output schema and validates the result against: the fields, their types and their order
are the dataclass's; what an agent reads about each field comes from one table
(`descriptions.py`). A dataclass inside a dataclass becomes a model inside a model, so each
class has exactly one model, named after it. `ToolBoundary` (errors.py) applies it to every tool.

The result classes of the services' packages (serving, registry, monitoring, experiments,
MLflow) are read through their copies in `shapes.py`, generated from them: importing those
packages would import NumPy before the first `tools/list`. A tool names such a class in its
return annotation as text; its result, the core's instance, is shown through the copy's model.

How results are presented therefore lives here and nowhere else: a change to every result
(another spelling of times, shared definitions across tools) is a change to this module.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from nba_mcp_deploy.server import shapes
from nba_mcp_deploy.server.descriptions import SHOWN, Shown


def nullable_as_type_list(schema: dict[str, Any], _: Any = None) -> None:
    """Rewrite `anyOf: [{type: T, ...}, {type: null}]` into `{type: [T, null], ...}`, in place.

    The same meaning in the spelling clients that validate every result against the output
    schema (the Python SDK does, with `jsonschema`) check more cheaply.
    """
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
    """Frozen, read from the attributes of the dataclass it shows."""

    model_config = ConfigDict(from_attributes=True, frozen=True, json_schema_extra=nullable_as_type_list)


def shown_class(annotation: Any) -> type | None:
    """The dataclass a tool's return annotation declares: a class, or the name of a class copied
    into `shapes.py`; None for anything else (a pydantic model, a `CallToolResult`)."""
    if isinstance(annotation, str):
        copied = getattr(shapes, annotation, None)
        if not (isinstance(copied, type) and dataclasses.is_dataclass(copied)):
            raise TypeError(f"a return annotation written as text must name a class of shapes.py: {annotation!r}")
        return copied
    return annotation if isinstance(annotation, type) and dataclasses.is_dataclass(annotation) else None


def shown_as(source: type) -> Shown:
    """How `source` is shown: its own entry over those of the classes it extends."""
    entries = [SHOWN[cls] for cls in reversed(source.__mro__) if cls in SHOWN]
    return Shown(
        fields={name: text for entry in entries for name, text in entry.fields.items()},
        about=next((entry.about for entry in reversed(entries) if entry.about is not None), None),
        hidden=tuple(name for entry in entries for name in entry.hidden),
    )


@functools.cache
def output_model(source: type) -> type[ToolOutput]:
    """The pydantic model that shows the dataclass `source` (built once per class)."""
    shown = shown_as(source)
    hints = typing.get_type_hints(source)
    names = [f.name for f in dataclasses.fields(source) if f.name not in shown.hidden]
    fields: dict[str, Any] = {
        name: (_model_type(hints[name]), Field(description=shown.fields.get(name))) for name in names
    }
    model: type[ToolOutput] = create_model(
        source.__name__, __base__=ToolOutput, __doc__=shown.about, __module__=__name__, **fields
    )
    return model


def show(result: Any) -> Any:
    """`result` as its derived model, when it is a dataclass instance (anything else as it is)."""
    if not dataclasses.is_dataclass(result) or isinstance(result, type):
        return result
    kind = type(result)
    source = shapes.MIRRORS.get(f"{kind.__module__}.{kind.__qualname__}", kind)
    return output_model(source).model_validate(result)


def _model_type(annotation: Any) -> Any:
    """`annotation` with every dataclass in it replaced by its model, sequences as lists and
    mappings as dicts (what JSON has)."""
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return output_model(annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is None or origin is Literal:
        return annotation
    if origin is Annotated:
        return Annotated[(_model_type(args[0]), *args[1:])]
    if origin in (Union, types.UnionType):
        return Union[tuple(_model_type(arg) for arg in args)]  # noqa: UP007 - built from a tuple
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        raise TypeError(f"a fixed-length tuple has no output type: {annotation!r}")
    if origin in (list, tuple, Sequence):
        return list[_model_type(args[0])]  # type: ignore[misc]
    if origin in (dict, Mapping):
        return dict[_model_type(args[0]), _model_type(args[1])]  # type: ignore[misc]
    raise TypeError(f"no output type for {annotation!r}")
