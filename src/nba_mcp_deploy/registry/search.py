"""Search queries: parsed and checked here, executed by the store.

Metric conditions arrive as text (`accuracy >= 0.9`) from agents; they are parsed with one
regular expression into (metric, operator, number) — nothing is ever evaluated. Sort keys are
checked against a fixed list so a store can map them onto its own columns without quoting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.identifiers import validate_model_id
from nba_mcp_deploy.registry.records import ModelVersion
from nba_mcp_deploy.registry.stages import Stage, parse_stage
from nba_mcp_deploy.registry.validation import (
    NAME_RULE,
    validate_label,
    validate_name,
    validate_number,
    validate_tags,
    validate_text,
)

MAX_LIMIT = 1_000
MAX_CONDITIONS = 20
MAX_SORT_KEYS = 5
MAX_TEXT = 200


class Operator(StrEnum):
    """The comparisons a metric condition may use."""

    GE = ">="
    LE = "<="
    GT = ">"
    LT = "<"
    EQ = "=="
    NE = "!="


OPERATOR_NAMES = ", ".join(op.value for op in Operator)

_CONDITION = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_.\-]{0,63})\s*"
    r"(?P<op>>=|<=|==|!=|=|>|<)\s*"
    r"(?P<value>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
CONDITION_RULE = f"expected '<metric> <operator> <number>' (e.g. 'accuracy >= 0.9'); operators: {OPERATOR_NAMES}"


@dataclass(frozen=True)
class MetricCondition:
    """`metric op value`; a version without the metric never matches."""

    metric: str
    op: Operator
    value: float

    def __str__(self) -> str:
        return f"{self.metric} {self.op.value} {self.value:g}"


def parse_metric_condition(value: Any) -> MetricCondition:
    """A condition from text like `accuracy >= 0.9` (a MetricCondition passes through checked)."""
    if isinstance(value, MetricCondition):
        return MetricCondition(
            validate_name(value.metric, "metrics"),
            Operator(value.op),
            validate_number(value.value, "metrics"),
        )
    match = _CONDITION.fullmatch(value) if isinstance(value, str) and len(value) <= 200 else None
    if match is None:
        raise InvalidInputError("metrics", value, CONDITION_RULE)
    op = "==" if match["op"] == "=" else match["op"]
    number = validate_number(float(match["value"]), "metrics")
    return MetricCondition(match["metric"], Operator(op), number)


SORT_FIELDS = (
    "registered_at",
    "stage_changed_at",
    "model_id",
    "version",
    "stage",
    "framework",
    "algorithm",
)
METRIC_SORT_PREFIX = "metrics."
SORT_RULE = (
    f"expected '<field> [asc|desc]' where field is one of {', '.join(SORT_FIELDS)} "
    f"or '{METRIC_SORT_PREFIX}<metric name>' (e.g. 'metrics.accuracy desc')"
)


@dataclass(frozen=True)
class SortKey:
    """One ORDER BY term: a field from SORT_FIELDS, or a metric (missing values sort last)."""

    field: str
    descending: bool = False
    metric: str | None = None


def parse_sort_key(value: Any) -> SortKey:
    """A sort key from text like `registered_at desc` or `metrics.accuracy desc`."""
    if isinstance(value, SortKey):
        name = f"{METRIC_SORT_PREFIX}{value.metric}" if value.metric else value.field
        value = f"{name} {'desc' if value.descending else 'asc'}"
    parts = value.split() if isinstance(value, str) else []
    if not 1 <= len(parts) <= 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
        raise InvalidInputError("order_by", value, SORT_RULE)
    name, descending = parts[0], len(parts) == 2 and parts[1].lower() == "desc"
    if name.lower() in SORT_FIELDS:
        return SortKey(name.lower(), descending)
    if name.startswith(METRIC_SORT_PREFIX):
        metric = name[len(METRIC_SORT_PREFIX) :]
        try:
            return SortKey("metric", descending, validate_name(metric, "order_by"))
        except InvalidInputError:
            raise InvalidInputError("order_by", value, f"{SORT_RULE}; metric {NAME_RULE}") from None
    raise InvalidInputError("order_by", value, SORT_RULE)


@dataclass(frozen=True)
class SearchQuery:
    """A checked search: every filter is ANDed; results are paged after sorting.

    Ties are always broken by model id then semantic version, so pages never overlap.
    `text` matches the description, case-insensitively (ASCII), as a substring.
    """

    model_id: str | None = None
    framework: str | None = None
    algorithm: str | None = None
    stages: tuple[Stage, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    conditions: tuple[MetricCondition, ...] = ()
    text: str | None = None
    order_by: tuple[SortKey, ...] = (SortKey("registered_at", descending=True),)
    offset: int = 0
    limit: int = 50


def build_query(
    *,
    model_id: str | None = None,
    framework: str | None = None,
    algorithm: str | None = None,
    stage: Any = None,
    tags: Mapping[str, str] | None = None,
    metrics: Sequence[Any] | str | None = None,
    text: str | None = None,
    order_by: Sequence[Any] | str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> SearchQuery:
    """Check every argument of a search and return the query a store executes."""
    stages: tuple[Stage, ...] = ()
    if stage is not None:
        stage_list = [stage] if isinstance(stage, str | Stage) else list(stage)
        stages = tuple(dict.fromkeys(parse_stage(s, "stage") for s in stage_list))
    conditions = tuple(parse_metric_condition(c) for c in _as_list(metrics, "metrics", MAX_CONDITIONS))
    sort_keys = tuple(parse_sort_key(k) for k in _as_list(order_by, "order_by", MAX_SORT_KEYS))
    if text is not None:
        text = validate_text(text, "text", max_length=MAX_TEXT).strip() or None
    return SearchQuery(
        model_id=None if model_id is None else validate_model_id(model_id),
        framework=None if framework is None else validate_label(framework, "framework"),
        algorithm=None if algorithm is None else validate_label(algorithm, "algorithm"),
        stages=stages,
        tags=validate_tags(tags),
        conditions=conditions,
        text=text,
        order_by=sort_keys or SearchQuery.order_by,
        offset=_bounded_int(offset, "offset", 0, None),
        limit=_bounded_int(limit, "limit", 1, MAX_LIMIT),
    )


@dataclass(frozen=True)
class SearchPage:
    """One page of results, with the total count and where the next page starts (None at the end)."""

    items: tuple[ModelVersion, ...]
    total: int
    offset: int
    limit: int
    # A field, not a property, so that serialisers (pydantic, json) include it; see `build`.
    next_offset: int | None

    @classmethod
    def build(cls, items: tuple[ModelVersion, ...], total: int, offset: int, limit: int) -> SearchPage:
        """The page, with `next_offset` computed from the others."""
        following = offset + len(items)
        return cls(items, total, offset, limit, following if following < total else None)


def _as_list(value: Sequence[Any] | str | None, field: str, max_items: int) -> list[Any]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    if len(items) > max_items:
        raise InvalidInputError(field, f"{len(items)} entries", f"at most {max_items} entries")
    return items


def _bounded_int(value: Any, field: str, low: int, high: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"between {low} and {high}"
        raise InvalidInputError(field, value, f"expected a whole number {bound}")
    return value
