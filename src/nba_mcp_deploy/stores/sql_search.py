"""A SearchQuery as SQL that sqlite and PostgreSQL both run (only the placeholder differs).

Nothing from the query is pasted into the SQL text except names from fixed tables (sort
columns, operators); every value travels as a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nba_mcp_deploy.registry.search import Operator, SearchQuery, SortKey
from nba_mcp_deploy.registry.stages import Stage

STAGE_RANK = "CASE v.stage " + " ".join(f"WHEN '{s.value}' THEN {s.rank}" for s in Stage) + " END"
SORT_COLUMNS = {
    "registered_at": "v.registered_at",
    "stage_changed_at": "v.stage_changed_at",
    "model_id": "v.model_id",
    "version": "v.version_sort",
    "stage": STAGE_RANK,
    "framework": "v.framework",
    "algorithm": "v.algorithm",
}
SQL_OPERATORS = {
    Operator.GE: ">=",
    Operator.LE: "<=",
    Operator.GT: ">",
    Operator.LT: "<",
    Operator.EQ: "=",
    Operator.NE: "<>",
}
_SAME_VERSION = "v.id IN (SELECT version_id FROM {table} WHERE {condition})"


@dataclass(frozen=True)
class Dialect:
    """What differs between SQL databases here: the placeholder and case-insensitive matching."""

    placeholder: str
    # A condition true when {column} contains the LIKE pattern {ph}, ignoring ASCII case.
    contains: str


# sqlite's LIKE already ignores ASCII case (and only ASCII case).
SQLITE = Dialect("?", "{column} LIKE {ph} ESCAPE '\\'")
POSTGRESQL = Dialect("%s", "{column} ILIKE {ph} ESCAPE '\\'")


@dataclass(frozen=True)
class SearchSql:
    """The statements of one query: the ids of the page in order, and the count of all matches.

    Sorting ids (not whole rows) keeps the sort small; the store then reads the page's rows
    by id, and runs the count only when the page does not already tell the total.
    """

    ids: str
    ids_params: tuple[Any, ...]
    count: str
    count_params: tuple[Any, ...]


def escape_like(text: str) -> str:
    """`text` as a LIKE pattern that matches it literally anywhere (escape character '\\')."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def where_clause(query: SearchQuery, dialect: Dialect) -> tuple[str, list[Any]]:
    """The WHERE condition (without the keyword) and its parameters; '1 = 1' when unfiltered."""
    ph = dialect.placeholder
    terms: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("model_id", query.model_id),
        ("framework", query.framework),
        ("algorithm", query.algorithm),
    ):
        if value is not None:
            terms.append(f"v.{column} = {ph}")
            params.append(value)
    if query.stages:
        terms.append(f"v.stage IN ({', '.join(ph for _ in query.stages)})")
        params.extend(stage.value for stage in query.stages)
    for key, value in query.tags.items():
        terms.append(_SAME_VERSION.format(table="version_tags", condition=f"key = {ph} AND value = {ph}"))
        params.extend((key, value))
    for cond in query.conditions:
        condition = f"name = {ph} AND value {SQL_OPERATORS[cond.op]} {ph}"
        terms.append(_SAME_VERSION.format(table="version_metrics", condition=condition))
        params.extend((cond.metric, cond.value))
    if query.text:
        condition = dialect.contains.format(column="description", ph=ph)
        terms.append(_SAME_VERSION.format(table="version_details", condition=condition))
        params.append(escape_like(query.text))
    return (" AND ".join(terms) or "1 = 1"), params


def order_clause(keys: tuple[SortKey, ...], ph: str) -> tuple[str, str, list[Any]]:
    """LEFT JOINs for metric keys, the ORDER BY list (tie-breakers included) and the join parameters."""
    joins: list[str] = []
    params: list[Any] = []
    order: list[str] = []
    for index, key in enumerate(keys):
        direction = "DESC" if key.descending else "ASC"
        if key.metric is None:
            order.append(f"{SORT_COLUMNS[key.field]} {direction}")
            continue
        alias = f"s{index}"
        joins.append(
            f"LEFT JOIN version_metrics {alias} ON {alias}.version_id = v.id AND {alias}.name = {ph}"
        )
        params.append(key.metric)
        # Missing metrics last in both directions (portable spelling of NULLS LAST).
        order.extend((f"CASE WHEN {alias}.value IS NULL THEN 1 ELSE 0 END", f"{alias}.value {direction}"))
    order.extend(("v.model_id ASC", "v.version_sort ASC"))
    return " ".join(joins), ", ".join(order), params


def search_sql(query: SearchQuery, dialect: Dialect = SQLITE) -> SearchSql:
    """The statements for `query` in `dialect`."""
    ph = dialect.placeholder
    where, where_params = where_clause(query, dialect)
    joins, order, join_params = order_clause(query.order_by, ph)
    ids = f"SELECT v.id FROM versions v {joins} WHERE {where} ORDER BY {order} LIMIT {ph} OFFSET {ph}"
    count = f"SELECT COUNT(*) FROM versions v WHERE {where}"
    return SearchSql(
        ids, (*join_params, *where_params, query.limit, query.offset), count, tuple(where_params)
    )
