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
    """What differs between SQL databases here: case-insensitive matching, and reading one metric
    from a version's metrics document. Both take `?` placeholders (the PostgreSQL store's
    connection turns them into the driver's `%s`)."""

    # A condition true when {column} contains the LIKE pattern {ph}, ignoring ASCII case.
    contains: str
    # The number under the key {ph} of the JSON object in {column}; NULL when it is missing.
    json_number: str
    # Whether {ph} of `json_number` is a JSON path (sqlite) rather than the bare key (PostgreSQL).
    json_path: bool

    def json_key(self, name: str) -> str:
        """The parameter `json_number` takes for the metric `name` (names are letters, digits,
        '_', '.', '-': a quoted path label holds any of them)."""
        return f'$."{name}"' if self.json_path else name


# sqlite's LIKE already ignores ASCII case (and only ASCII case). PostgreSQL's ILIKE would also
# fold non-ASCII letters (by the database's locale), so both sides are folded in ASCII only. The
# PostgreSQL store's connection turns `?` into the driver's `%s` (see stores/postgres.py).
# Metrics are written by one JSON encoder (finite floats only), which both databases read back
# exactly, so sorting by the document's number sorts as by the stored value.
SQLITE = Dialect("{column} LIKE {ph} ESCAPE '\\'", "json_extract({column}, {ph})", json_path=True)
_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
POSTGRESQL = Dialect(
    f"translate({{column}}, '{_UPPER}', '{_LOWER}') LIKE translate({{ph}}, '{_UPPER}', '{_LOWER}') ESCAPE '\\'",
    "CAST(CAST({column} AS jsonb) ->> {ph} AS DOUBLE PRECISION)",
    json_path=False,
)


@dataclass(frozen=True)
class SearchSql:
    """The statements of one query: the ids of the page in order, and the count of all matches.

    Sorting ids (not whole rows) keeps the sort small; the store then reads the page's rows
    by id, and runs the count only when the page does not already tell the total. When every
    match is read to be sorted anyway (a metric's value comes from each one's document), the
    ids come with the count of all matches (`counted`), and the count is not run again.
    """

    ids: str
    ids_params: tuple[Any, ...]
    count: str
    count_params: tuple[Any, ...]
    counted: bool = False


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
    """Columns of `versions` and metric conditions become WHERE terms; tags and text join their tables.

    A tag is looked up by its whole key (key, value, version), so its inner join filters without
    multiplying rows from either side; a metric condition is a range of its table's key
    (name, value), which the database reads once as a set of versions.
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
            f"JOIN version_tags {alias} ON {alias}.key = {ph} AND {alias}.value = {ph} AND {alias}.version_id = v.id"
        )
        out.join_params.extend((key, value))
    for cond in query.conditions:
        matching = f"SELECT version_id FROM version_metrics WHERE name = {ph} AND value {SQL_OPERATORS[cond.op]} {ph}"
        out.terms.append(f"v.id IN ({matching})")
        out.params.extend((cond.metric, cond.value))
    if query.text:
        contains = dialect.contains.format(column="d.description", ph=ph)
        out.joins.append(f"JOIN version_details d ON d.version_id = v.id AND {contains}")
        out.join_params.append(escape_like(query.text))
    return out


def order_clause(keys: tuple[SortKey, ...], dialect: Dialect) -> tuple[str, str, list[Any]]:
    """The join a metric key needs (the versions' metrics documents), the ORDER BY list
    (tie-breakers included) and its parameters."""
    params: list[Any] = []
    order: list[str] = []
    for key in keys:
        direction = "DESC" if key.descending else "ASC"
        if key.metric is None:
            order.append(f"{SORT_COLUMNS[key.field]} {direction}")
            continue
        value = dialect.json_number.format(column="sd.metrics", ph=PLACEHOLDER)
        order.append(f"{value} {direction} NULLS LAST")  # missing metrics last in both directions
        params.append(dialect.json_key(key.metric))
    order.extend(("v.model_id ASC", "v.version_sort ASC"))
    join = "LEFT JOIN version_details sd ON sd.version_id = v.id" if params else ""
    return join, ", ".join(order), params


def search_sql(query: SearchQuery, dialect: Dialect = SQLITE) -> SearchSql:
    """The statements for `query` in `dialect`."""
    ph = PLACEHOLDER
    f = filters(query, dialect)
    sort_join, order, sort_params = order_clause(query.order_by, dialect)
    source = f"FROM versions v {' '.join(f.joins)}"
    counted = bool(sort_params)
    columns = "v.id, COUNT(*) OVER ()" if counted else "v.id"
    ids = f"SELECT {columns} {source} {sort_join} WHERE {f.where} ORDER BY {order} LIMIT {ph} OFFSET {ph}"
    count = f"SELECT COUNT(*) {source} WHERE {f.where}"
    return SearchSql(
        ids,
        (*f.join_params, *f.params, *sort_params, query.limit, query.offset),
        count,
        (*f.join_params, *f.params),
        counted,
    )
