"""Search semantics every store shares, checked against a plain-Python reading of the contract.

The reference below is the RegistryStore.search docstring written as code: filters ANDed,
tags exact, a missing metric never matches, text a substring ignoring ASCII case, versions
semantically ordered, stages by lifecycle rank, missing metrics last, ties by model and version.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nba_mcp_deploy.errors import ConflictError
from nba_mcp_deploy.identifiers import version_key
from nba_mcp_deploy.registry.records import ModelVersion
from nba_mcp_deploy.registry.search import MetricCondition, Operator, SearchQuery, SortKey, build_query
from nba_mcp_deploy.registry.stages import Stage
from tests.stores.factories import T0, add, move, version
from tests.stores.implementations import OPENERS

_OPS = {
    Operator.GE: lambda a, b: a >= b,
    Operator.LE: lambda a, b: a <= b,
    Operator.GT: lambda a, b: a > b,
    Operator.LT: lambda a, b: a < b,
    Operator.EQ: lambda a, b: a == b,
    Operator.NE: lambda a, b: a != b,
}


def _fold(text: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in text)


def matches(v: ModelVersion, q: SearchQuery) -> bool:
    return (
        (q.model_id is None or v.model_id == q.model_id)
        and (q.framework is None or v.framework == q.framework)
        and (q.algorithm is None or v.algorithm == q.algorithm)
        and (not q.stages or v.stage in q.stages)
        and all(v.tags.get(k) == value for k, value in q.tags.items())
        and all(c.metric in v.metrics and _OPS[c.op](v.metrics[c.metric], c.value) for c in q.conditions)
        and (not q.text or _fold(q.text) in _fold(v.description))
    )


def _field_key(v: ModelVersion, field: str) -> object:
    if field == "version":
        return version_key(v.version)
    if field == "stage":
        return v.stage.rank
    return getattr(v, field)


def reference(versions: list[ModelVersion], q: SearchQuery) -> tuple[list[str], int]:
    hits = [v for v in versions if matches(v, q)]
    hits.sort(key=lambda v: (v.model_id, version_key(v.version)))
    for key in reversed(q.order_by):  # stable passes, last key first
        if key.metric is None:
            hits.sort(key=lambda v, f=key.field: _field_key(v, f), reverse=key.descending)
        else:
            sign = -1 if key.descending else 1
            hits.sort(key=lambda v, m=key.metric: (0, sign * v.metrics[m]) if m in v.metrics else (1, 0))
    page = hits[q.offset : q.offset + q.limit]
    return [str(v.ref) for v in page], len(hits)


def observed(store, q: SearchQuery) -> tuple[list[str], int]:
    page = store.search(q)
    return [str(v.ref) for v in page.items], page.total


# -- generated data and queries ------------------------------------------------------------------

MODELS = ("a", "b", "c")
VERSIONS = ("v1", "v1.2", "v1.10", "v2", "v2.0.1", "v10")
VALUES = (0.0, 0.25, 0.5, 0.9, -1.0)
DESCRIPTIONS = ("", "Win Probability", "win_prob model", "100% sure", "ÉLAN élan", "points per game")

version_specs = st.fixed_dictionaries(
    {
        "stage": st.sampled_from(list(Stage)),
        "framework": st.sampled_from(["sklearn", "xgboost"]),
        "algorithm": st.sampled_from(["gbm", "rf"]),
        "metrics": st.dictionaries(st.sampled_from(["acc", "auc"]), st.sampled_from(VALUES), max_size=2),
        "tags": st.dictionaries(st.sampled_from(["team", "season"]), st.sampled_from(["x", "y"]), max_size=2),
        "description": st.sampled_from(DESCRIPTIONS),
        "registered_at": st.sampled_from([T0, T0 + 1, T0 + 2]),
    }
)
catalogues = st.dictionaries(st.tuples(st.sampled_from(MODELS), st.sampled_from(VERSIONS)), version_specs, max_size=25)
sort_keys = st.one_of(
    st.builds(
        SortKey,
        st.sampled_from(["registered_at", "model_id", "version", "stage", "framework"]),
        st.booleans(),
    ),
    st.builds(lambda m, d: SortKey("metric", d, m), st.sampled_from(["acc", "auc", "missing"]), st.booleans()),
)
queries = st.builds(
    SearchQuery,
    model_id=st.none() | st.sampled_from(MODELS),
    framework=st.none() | st.sampled_from(["sklearn", "xgboost"]),
    algorithm=st.none() | st.sampled_from(["gbm", "rf"]),
    stages=st.lists(st.sampled_from(list(Stage)), max_size=2, unique=True).map(tuple),
    tags=st.dictionaries(st.sampled_from(["team", "season"]), st.sampled_from(["x", "y"]), max_size=1),
    conditions=st.lists(
        st.builds(
            MetricCondition,
            st.sampled_from(["acc", "auc"]),
            st.sampled_from(list(Operator)),
            st.sampled_from(VALUES),
        ),
        max_size=2,
    ).map(tuple),
    text=st.none() | st.sampled_from(["win", "PROB", "%", "_", "élan", "É", "100% s", "zzz"]),
    order_by=st.lists(sort_keys, min_size=1, max_size=3).map(tuple),
    offset=st.integers(0, 6),
    limit=st.integers(1, 8),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(catalogue=catalogues, qs=st.lists(queries, min_size=1, max_size=8))
def test_search_agrees_with_the_reference(store_kind, catalogue, qs):
    with tempfile.TemporaryDirectory() as tmp:
        store = OPENERS[store_kind](Path(tmp))
        try:
            versions = []
            for (model_id, v), spec in catalogue.items():
                try:
                    add(store, model_id, v, **spec)
                except ConflictError:  # a second production version of the model
                    assert spec["stage"] is Stage.PRODUCTION
                    continue
                versions.append(version(model_id, v, **spec))
            for q in qs:
                assert observed(store, q) == reference(versions, q), q
        finally:
            store.close()


# -- explicit cases ---------------------------------------------------------------------------


@pytest.fixture
def catalogue(store):
    add(store, "win", "v1", metrics={"acc": 0.7}, description="Logistic baseline", registered_at=T0)
    add(store, "win", "v1.10", metrics={"acc": 0.9, "auc": 0.8}, tags={"team": "x"}, registered_at=T0 + 2)
    add(store, "win", "v1.9", metrics={"acc": 0.9}, description="50% faster_model", registered_at=T0 + 1)
    add(
        store,
        "pts",
        "v2",
        metrics={"auc": 0.6},
        framework="xgboost",
        stage=Stage.STAGING,
        registered_at=T0 + 3,
    )
    return store


def test_paging_walks_every_match_once(catalogue):
    seen, offset = [], 0
    while offset is not None:
        page = catalogue.search(SearchQuery(order_by=(SortKey("metric", True, "acc"),), offset=offset, limit=1))
        assert page.total == 4
        seen += [str(v.ref) for v in page.items]
        offset = page.next_offset
    assert seen == ["win:v1.9", "win:v1.10", "win:v1", "pts:v2"]


def test_a_page_past_the_end_is_empty_but_counts(catalogue):
    page = catalogue.search(SearchQuery(offset=10, limit=5))
    assert (page.items, page.total, page.next_offset) == ((), 4, None)


def test_like_wildcards_in_text_match_only_themselves(catalogue):
    assert observed(catalogue, build_query(text="50%"))[0] == ["win:v1.9"]
    assert observed(catalogue, build_query(text="a_s"))[1] == 0  # "_" is not a wildcard ("fas")
    assert observed(catalogue, build_query(text="faster_model"))[0] == ["win:v1.9"]
    assert observed(catalogue, build_query(text="LOGISTIC"))[0] == ["win:v1"]


def test_a_missing_metric_never_matches_even_not_equal(catalogue):
    assert observed(catalogue, build_query(metrics="auc != 0.8"))[0] == ["pts:v2"]


def test_versions_sort_semantically(catalogue):
    refs, _ = observed(catalogue, build_query(model_id="win", order_by="version desc"))
    assert refs == ["win:v1.10", "win:v1.9", "win:v1"]


def test_metrics_with_dots_and_dashes_in_their_names_sort_by_their_exact_values(store):
    """Sorting reads a metric from the version's document (by a quoted JSON key) and filtering from
    the table keyed by value: both agree, to the last bit, for any name the registry accepts."""
    values = [1e21, -1e-7, 0.30000000000000004, 0.3, 2.0, -250.0, 5e-324]
    for i, value in enumerate(values):
        add(store, "m", f"v{i}", metrics={"top-1.acc": value, "top_1": -value, "acc": 0.5})
    add(store, "m", "v99", metrics={"top-1": 1.0})  # not "top-1.acc": sorts last, both ways
    by_value = sorted(range(len(values)), key=lambda i: values[i])
    for descending in (False, True):
        order = "metrics.top-1.acc " + ("desc" if descending else "asc")
        refs, total = observed(store, build_query(order_by=order, limit=20))
        expected = [f"m:v{i}" for i in (reversed(by_value) if descending else by_value)]
        assert (refs, total) == ([*expected, "m:v99"], len(values) + 1)
    refs, _ = observed(store, build_query(metrics=["top-1.acc > 0.3"], order_by="metrics.top_1 asc"))
    assert refs == ["m:v0", "m:v4", "m:v2"]  # 0.30000000000000004 > 0.3, and sorted by -value
    refs, _ = observed(store, build_query(metrics=["top-1.acc = 0.3"]))
    assert refs == ["m:v3"]


def test_a_deleted_version_leaves_nothing_a_search_could_find(store):
    """Its metric and tag rows go with it, also when the next version takes its id (sqlite reuses
    the highest rowid once it is deleted)."""
    add(store, "m", "v1", metrics={"acc": 0.5})
    doomed = add(store, "m", "v2", metrics={"acc": 0.9, "top-1.x": 1e-7}, tags={"team": "x", "s": "2024"})
    store.apply_changes([move(doomed, Stage.DEVELOPMENT, None)])
    add(store, "m", "v3")
    assert observed(store, build_query(metrics=["acc >= 0.8"])) == ([], 0)
    assert observed(store, build_query(metrics=["top-1.x > 0"])) == ([], 0)
    assert observed(store, build_query(tags={"team": "x"})) == ([], 0)
    with store._read() as conn:  # type: ignore[attr-defined]
        left = [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("version_metrics", "version_tags")]
    assert left == [1, 0]
