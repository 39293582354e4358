"""The RegistryStore contract: every implementation must pass every test here (see conftest)."""

from __future__ import annotations

import threading

import pytest

from nba_mcp_deploy.errors import ConflictError, InvalidInputError, NotFoundError, StoreError
from nba_mcp_deploy.registry.records import ChangeReason, VersionRef
from nba_mcp_deploy.registry.search import SearchQuery
from nba_mcp_deploy.registry.stages import Stage
from tests.stores.factories import T0, add, move, registration, version

# -- versions ---------------------------------------------------------------------------------


def test_a_version_reads_back_exactly_as_written(store):
    parent = add(store, "win_prob", "v1.0")
    written = version(
        "win_prob",
        "v1.1",
        stage=Stage.STAGING,
        framework="xgboost",
        algorithm="gbm",
        metrics={"accuracy": 0.91, "log_loss": 0.3},
        hyperparameters={"depth": 6, "eta": 0.1, "features": ["pts", "ast"], "nested": {"a": None}},
        tags={"season": "2024", "team": "LAL"},
        description="Gradient boosting, ünïcode",
        model_uri="models/win_prob/v1.1.skops",
        parent=parent.ref,
        registered_at=T0 + 5,
        registered_by="alice",
        stage_changed_at=T0 + 5,
    )
    change = store.add_version(written, registration(written, actor="alice"))
    assert change.seq is not None
    assert store.get_version("win_prob", "v1.1") == written


def test_registering_an_existing_version_is_a_conflict_and_changes_nothing(store):
    original = add(store, "m", "v1", description="first")
    with pytest.raises(ConflictError, match=r"m:v1 is already registered"):
        add(store, "m", "v1", description="second")
    assert store.get_version("m", "v1") == original
    assert len(store.history("m")) == 1


def test_a_version_spelled_otherwise_is_the_same_version(store):
    add(store, "m", "v1.2")
    with pytest.raises(ConflictError, match=r"m:v1.02 is already registered \(stage development\)"):
        add(store, "m", "v1.02")
    assert [v.version for v in store.list_versions("m")] == ["v1.2"]


def test_an_existing_version_with_a_missing_parent_is_still_a_conflict(store):
    add(store, "m", "v1")
    with pytest.raises(ConflictError, match=r"m:v1 is already registered"):
        add(store, "m", "v1", parent="v0")
    assert len(store.history("m")) == 1


def test_a_registration_breaking_another_rule_is_refused_and_the_store_stays_usable(store):
    """Not the version key but the one-production rule refuses the row: nothing of it is written."""
    add(store, "m", "v1", stage=Stage.PRODUCTION)
    with pytest.raises(ConflictError, match="refused a write"):
        add(store, "m", "v2", stage=Stage.PRODUCTION, metrics={"acc": 0.5}, tags={"team": "LAL"})
    assert [v.version for v in store.list_versions("m")] == ["v1"]
    assert len(store.history("m")) == 1
    assert store.search(SearchQuery(tags={"team": "LAL"})).total == 0
    add(store, "m", "v2", metrics={"acc": 0.5}, tags={"team": "LAL"})
    assert [v.version for v in store.search(SearchQuery(tags={"team": "LAL"})).items] == ["v2"]


def test_threads_registering_one_version_at_once_leave_one_registration(store):
    """Whichever writer commits first registers it; every other one gets ConflictError (PostgreSQL:
    the unique index refuses a writer that checked before the first one committed)."""
    for round_ in range(5):
        assert sorted(_register_at_once(store, f"v{round_}", writers=6)) == ["refused"] * 5 + ["registered"]
        assert len(store.history("m", f"v{round_}")) == 1
    assert [v.version for v in store.list_versions("m")] == [f"v{i}" for i in range(5)]


def _register_at_once(store, version_: str, writers: int) -> list[str]:
    start = threading.Barrier(writers)
    outcomes: list[str] = []

    def register(worker: int) -> None:
        start.wait()
        try:
            add(store, "m", version_, description=f"worker {worker}")
            outcomes.append("registered")
        except ConflictError:
            outcomes.append("refused")

    threads = [threading.Thread(target=register, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_a_missing_parent_is_refused_and_nothing_is_written(store):
    with pytest.raises(NotFoundError, match="parent m:v0 of m:v1 is not registered"):
        add(store, "m", "v1", parent="v0")
    assert store.list_versions("m") == []
    assert store.history("m") == []


def test_unknown_model_and_unknown_version_are_told_apart(store):
    add(store, "m", "v1")
    with pytest.raises(NotFoundError, match="no model 'other'"):
        store.get_version("other", "v1")
    with pytest.raises(NotFoundError, match="m has no version 'v2'"):
        store.get_version("m", "v2")


def test_versions_list_in_semantic_order(store):
    for v in ("v1.10", "v2", "v1.2", "v1.9.1", "v10", "v1.9"):
        add(store, "m", v)
    assert [v.version for v in store.list_versions("m")] == ["v1.2", "v1.9", "v1.9.1", "v1.10", "v2", "v10"]
    assert store.list_versions("unknown") == []


def test_list_models_summarises_each_model(store):
    add(store, "b", "v1", registered_at=T0)
    add(store, "b", "v1.10", registered_at=T0 + 10)
    add(store, "b", "v1.9", registered_at=T0 + 20)
    add(store, "a", "v3", stage=Stage.STAGING)
    store.apply_changes([move(VersionRef("a", "v3"), Stage.STAGING, Stage.PRODUCTION)])
    a, b = store.list_models()
    assert (a.model_id, a.version_count, a.latest_version, a.production_version) == ("a", 1, "v3", "v3")
    assert (b.model_id, b.version_count, b.latest_version, b.production_version) == ("b", 3, "v1.10", None)
    assert b.stage_counts == {"development": 3, "staging": 0, "production": 0, "archived": 0}
    assert b.last_registered_at == T0 + 20


def test_statistics_count_every_stage_and_framework(store):
    assert store.statistics().by_stage == {s.value: 0 for s in Stage}
    add(store, "a", "v1", framework="sklearn")
    add(store, "a", "v2", framework="xgboost", stage=Stage.STAGING)
    add(store, "b", "v1", framework="sklearn", stage=Stage.STAGING)
    store.apply_changes([move(VersionRef("b", "v1"), Stage.STAGING, Stage.PRODUCTION)])
    stats = store.statistics()
    assert (stats.total_models, stats.total_versions, stats.production_count) == (2, 3, 1)
    assert stats.by_stage == {"development": 1, "staging": 1, "production": 1, "archived": 0}
    assert stats.by_framework == {"sklearn": 2, "xgboost": 1}


# -- lifecycle ----------------------------------------------------------------------------------


def test_stage_changes_apply_in_order_and_join_the_history(store):
    v = add(store, "m", "v1")
    applied = store.apply_changes(
        [
            move(v, Stage.DEVELOPMENT, Stage.STAGING, at=T0 + 1),
            move(v, Stage.STAGING, Stage.PRODUCTION, at=T0 + 2),
        ]
    )
    assert [c.seq for c in applied] == sorted(c.seq for c in applied)
    now = store.get_version("m", "v1")
    assert (now.stage, now.stage_changed_at) == (Stage.PRODUCTION, T0 + 2)
    history = store.history("m")
    assert [(c.from_stage, c.to_stage) for c in history] == [
        (None, Stage.DEVELOPMENT),
        (Stage.DEVELOPMENT, Stage.STAGING),
        (Stage.STAGING, Stage.PRODUCTION),
    ]
    assert history[1:] == applied


def test_a_stale_expectation_refuses_the_whole_batch(store):
    a, b = add(store, "m", "v1"), add(store, "m", "v2")
    with pytest.raises(ConflictError, match=r"m:v2 is in development, not staging"):
        store.apply_changes([move(a, Stage.DEVELOPMENT, Stage.STAGING), move(b, Stage.STAGING, Stage.PRODUCTION)])
    assert store.get_version("m", "v1").stage is Stage.DEVELOPMENT
    assert len(store.history("m")) == 2


def test_a_second_production_version_is_refused_by_the_store(store):
    add(store, "m", "v1", stage=Stage.STAGING)
    add(store, "m", "v2", stage=Stage.STAGING)
    store.apply_changes([move(VersionRef("m", "v1"), Stage.STAGING, Stage.PRODUCTION)])
    with pytest.raises(ConflictError):
        store.apply_changes([move(VersionRef("m", "v2"), Stage.STAGING, Stage.PRODUCTION)])
    # Archiving the current one first in the same batch is the way.
    store.apply_changes(
        [
            move(VersionRef("m", "v1"), Stage.PRODUCTION, Stage.ARCHIVED, reason=ChangeReason.SUPERSEDED),
            move(VersionRef("m", "v2"), Stage.STAGING, Stage.PRODUCTION),
        ]
    )
    assert [v.stage for v in store.list_versions("m")] == [Stage.ARCHIVED, Stage.PRODUCTION]


def test_production_is_per_model(store):
    for model in ("a", "b"):
        add(store, model, "v1", stage=Stage.STAGING)
        store.apply_changes([move(VersionRef(model, "v1"), Stage.STAGING, Stage.PRODUCTION)])
    assert store.statistics().production_count == 2


def test_a_change_to_a_missing_version_is_not_found(store):
    with pytest.raises(NotFoundError):
        store.apply_changes([move(VersionRef("m", "v1"), Stage.DEVELOPMENT, Stage.STAGING)])


def test_registrations_do_not_go_through_apply_changes(store):
    with pytest.raises(InvalidInputError):
        store.apply_changes([move(VersionRef("m", "v1"), None, Stage.DEVELOPMENT)])


def test_deleting_removes_the_version_and_keeps_its_history(store):
    v = add(store, "m", "v1", metrics={"accuracy": 0.9}, tags={"team": "bos"})
    add(store, "m", "v2")
    store.apply_changes([move(v, Stage.DEVELOPMENT, None, reason=ChangeReason.DELETED)])
    with pytest.raises(NotFoundError):
        store.get_version("m", "v1")
    assert [c.to_stage for c in store.history("m", "v1")] == [Stage.DEVELOPMENT, None]
    assert store.search(SearchQuery(tags={"team": "bos"})).total == 0
    assert store.search(SearchQuery(conditions=_conditions("accuracy >= 0"))).total == 0
    # The version can be registered again afterwards.
    add(store, "m", "v1")


def test_history_of_one_version_and_of_an_unknown_model(store):
    a = add(store, "m", "v1")
    add(store, "m", "v2")
    store.apply_changes([move(a, Stage.DEVELOPMENT, Stage.STAGING)])
    assert [c.version for c in store.history("m", "v1")] == ["v1", "v1"]
    assert store.history("m", "v2")[0].actor == "tester"
    assert store.history("nobody") == []


# -- lineage ------------------------------------------------------------------------------------


def test_parents_link_unlink_and_never_form_a_cycle(store):
    add(store, "m", "v1")
    add(store, "m", "v2", parent="v1")
    add(store, "other", "v1", parent="m:v2")
    assert store.get_version("other", "v1").parent == VersionRef("m", "v2")
    with pytest.raises(InvalidInputError, match="cycle"):
        store.set_parent("m", "v1", VersionRef("other", "v1"))
    with pytest.raises(NotFoundError):
        store.set_parent("m", "v1", VersionRef("m", "v9"))
    with pytest.raises(NotFoundError):
        store.set_parent("m", "v9", VersionRef("m", "v1"))
    assert store.set_parent("other", "v1", None).parent is None
    assert store.set_parent("m", "v1", VersionRef("other", "v1")).parent == VersionRef("other", "v1")


def test_children_are_listed_also_after_their_parent_is_deleted(store):
    parent = add(store, "m", "v1")
    add(store, "m", "v1.10", parent="v1")
    add(store, "m", "v1.9", parent="v1")
    add(store, "a", "v1", parent="m:v1")
    assert [str(c.ref) for c in store.children("m", "v1")] == ["a:v1", "m:v1.9", "m:v1.10"]
    store.apply_changes([move(parent, Stage.DEVELOPMENT, None, reason=ChangeReason.DELETED)])
    assert len(store.children("m", "v1")) == 3


# -- deployment state ---------------------------------------------------------------------------


def test_deployment_documents_are_saved_replaced_loaded_and_deleted(store):
    assert store.load_deployments() == {}
    doc = {"active": "v2", "versions": [{"version": "v2", "model_uri": "models/x"}], "ab": None, "w": 0.5}
    store.save_deployment("win_prob", doc)
    store.save_deployment("points", {"active": "v1"})
    assert store.load_deployments() == {"win_prob": doc, "points": {"active": "v1"}}
    store.save_deployment("win_prob", {"active": "v3"})
    assert store.load_deployments()["win_prob"] == {"active": "v3"}
    assert store.delete_deployment("win_prob") is True
    assert store.delete_deployment("win_prob") is False
    assert store.load_deployments() == {"points": {"active": "v1"}}


@pytest.mark.parametrize("document", [{"x": float("nan")}, {"x": object()}, ["not", "a", "mapping"]])
def test_a_deployment_document_must_be_json(store, document):
    with pytest.raises(InvalidInputError, match="document"):
        store.save_deployment("m", document)
    assert store.load_deployments() == {}


def test_deployment_model_ids_are_validated(store):
    with pytest.raises(InvalidInputError, match="model_id"):
        store.save_deployment("../etc", {})


# -- persistence and resources ----------------------------------------------------------------


def test_reopening_restores_everything(open_store):
    first = open_store()
    a = add(first, "m", "v1", metrics={"accuracy": 0.8}, tags={"k": "v"}, stage=Stage.STAGING)
    add(first, "m", "v2", parent="v1")
    first.apply_changes([move(a, Stage.STAGING, Stage.PRODUCTION)])
    first.save_deployment("m", {"active": "v1"})
    before = _snapshot(first)
    first.close()
    second = open_store()
    assert _snapshot(second) == before


def test_a_closed_store_refuses_calls_and_closes_twice(open_store):
    store = open_store()
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get_version("m", "v1")


def test_each_thread_reads_what_another_thread_committed(store):
    add(store, "m", "v1")
    seen = []
    thread = threading.Thread(target=lambda: seen.append(store.get_version("m", "v1").version))
    thread.start()
    thread.join()
    assert seen == ["v1"]
    thread = threading.Thread(target=lambda: add(store, "m", "v2"))
    thread.start()
    thread.join()
    assert [v.version for v in store.list_versions("m")] == ["v1", "v2"]


def _conditions(*texts):
    from nba_mcp_deploy.registry.search import parse_metric_condition

    return tuple(parse_metric_condition(t) for t in texts)


def _snapshot(store):
    models = store.list_models()
    return {
        "models": models,
        "versions": [store.list_versions(m.model_id) for m in models],
        "history": [store.history(m.model_id) for m in models],
        "children": store.children("m", "v1"),
        "stats": store.statistics(),
        "deployments": store.load_deployments(),
        "search": store.search(SearchQuery(conditions=_conditions("accuracy > 0.5"), tags={"k": "v"})),
    }
