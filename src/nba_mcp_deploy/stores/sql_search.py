"""A SearchQuery as SQL that sqlite and PostgreSQL both run (only case-insensitive matching differs).

Nothing from the query is pasted into the SQL text except names from fixed tables (sort
columns, operators); every value travels as a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


PLACEHOLDER = "?"


@dataclass(frozen=True)
class Dialect:
    """What differs between SQL databases here: case-insensitive matching. Both take `?`
    placeholders (the PostgreSQL store's connection turns them into the driver's `%s`)."""

    # A condition true when {column} contains the LIKE pattern {ph}, ignoring ASCII case.
    contains: str


# sqlite's LIKE already ignores ASCII case (and only ASCII case). PostgreSQL's ILIKE would also
# fold non-ASCII letters (by the database's locale), so both sides are folded in ASCII only. The
# PostgreSQL store's connection turns `?` into the driver's `%s` (see stores/postgres.py).
SQLITE = Dialect("{column} LIKE {ph} ESCAPE '\\'")
_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
POSTGRESQL = Dialect(
    f"translate({{column}}, '{_UPPER}', '{_LOWER}') LIKE translate({{ph}}, '{_UPPER}', '{_LOWER}') ESCAPE '\\'",
)


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


@dataclass
class Filters:
    """A query's filters: JOINs on the side tables (one row at most per version each), then WHERE."""

    joins: list[str] = field(default_factory=list)
    join_params: list[Any] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    @property
    def where(self) -> str:
        return " AND ".join(self.terms) or "1 = 1"


def filters(query: SearchQuery, dialect: Dialect) -> Filters:
    """Columns of `versions` become WHERE terms; tags, metrics and text join their tables.

    Each side table has at most one row per (version, name), so an inner join filters without
    multiplying rows, and lets the database start from the most selective index.
    """
    ph = PLACEHOLDER
    out = Filters()
    for column, value in (
        ("model_id", query.model_id),
        ("framework", query.framework),
        ("algorithm", query.algorithm),
    ):
        if value is not None:
            out.terms.append(f"v.{column} = {ph}")
            out.params.append(value)
    if query.stages:
        out.terms.append(f"v.stage IN ({', '.join(ph for _ in query.stages)})")
        out.params.extend(stage.value for stage in query.stages)
    for index, (key, value) in enumerate(query.tags.items()):
        alias = f"t{index}"
        out.joins.append(
            f"JOIN version_tags {alias} ON {alias}.version_id = v.id AND {alias}.key = {ph} AND {alias}.value = {ph}"
        )
        out.join_params.extend((key, value))
    for index, cond in enumerate(query.conditions):
        alias = f"c{index}"
        out.joins.append(
            f"JOIN version_metrics {alias} ON {alias}.version_id = v.id "
            f"AND {alias}.name = {ph} AND {alias}.value {SQL_OPERATORS[cond.op]} {ph}"
        )
        out.join_params.extend((cond.metric, cond.value))
    if query.text:
        contains = dialect.contains.format(column="d.description", ph=ph)
        out.joins.append(f"JOIN version_details d ON d.version_id = v.id AND {contains}")
        out.join_params.append(escape_like(query.text))
    return out


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
        joins.append(f"LEFT JOIN version_metrics {alias} ON {alias}.version_id = v.id AND {alias}.name = {ph}")
        params.append(key.metric)
        # Missing metrics last in both directions (portable spelling of NULLS LAST).
        order.extend((f"CASE WHEN {alias}.value IS NULL THEN 1 ELSE 0 END", f"{alias}.value {direction}"))
    order.extend(("v.model_id ASC", "v.version_sort ASC"))
    return " ".join(joins), ", ".join(order), params


def search_sql(query: SearchQuery, dialect: Dialect = SQLITE) -> SearchSql:
    """The statements for `query` in `dialect`."""
    ph = PLACEHOLDER
    f = filters(query, dialect)
    sort_joins, order, sort_params = order_clause(query.order_by, ph)
    source = f"FROM versions v {' '.join(f.joins)}"
    ids = f"SELECT v.id {source} {sort_joins} WHERE {f.where} ORDER BY {order} LIMIT {ph} OFFSET {ph}"
    count = f"SELECT COUNT(*) {source} WHERE {f.where}"
    return SearchSql(
        ids,
        (*f.join_params, *sort_params, *f.params, query.limit, query.offset),
        count,
        (*f.join_params, *f.params),
    )
