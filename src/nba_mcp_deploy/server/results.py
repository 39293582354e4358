"""What tools return besides the core's own dataclasses: a list wrapped in an object (a tool's
result is an object), or a core result with the context the call adds.

Shown like the core's dataclasses (`outputs.py`), with their descriptions in `descriptions.py`.
A subclass adds its fields after those of a core class's copy (`shapes.py`), keyword-only, and
is built from the core's instance with `extend`; like the copies it extends it is not frozen (it
is built and shown within one call).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from nba_mcp_deploy.access.audit import AuditEntry
from nba_mcp_deploy.server.shapes import ActualsResult, Alert, DeploymentInfo, DriftReport, StageChangeResult

T = TypeVar("T")


def extend(base: Any, subclass: type[T], /, **added: Any) -> T:
    """An instance of `subclass` (a dataclass extending the shape of `base`) with `added` and, for
    its other fields, `base`'s attributes of the same names (a field `base` lacks keeps its default)."""
    fields = dataclasses.fields(subclass)  # type: ignore[arg-type]
    taken = {f.name: getattr(base, f.name) for f in fields if f.name not in added and hasattr(base, f.name)}
    return subclass(**taken, **added)


@dataclass(frozen=True)
class Deployments:
    deployments: list[DeploymentInfo]

    @classmethod
    def of(cls, items: Iterable[Any]) -> Deployments:
        """From the core's `DeploymentInfo`s."""
        return cls(list(items))


@dataclass(frozen=True)
class Alerts:
    alerts: list[Alert]

    @classmethod
    def of(cls, items: Iterable[Any]) -> Alerts:
        """From the core's `Alert`s."""
        return cls(list(items))


@dataclass(frozen=True)
class AuditEntries:
    entries: list[AuditEntry]


@dataclass(kw_only=True)
class ServedStageChange(StageChangeResult):
    """A registry change and the version serving the model's traffic after it."""

    serving_active_version: str | None


@dataclass(kw_only=True)
class DriftCheck(DriftReport):
    """A drift report with what was checked: the model, the version and the kind of data."""

    model_id: str
    version: str | None
    kind: str
    reading: str | None


@dataclass(kw_only=True)
class LoggedActuals(ActualsResult):
    model_id: str
