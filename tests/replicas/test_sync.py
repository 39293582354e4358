"""Two sets of services sharing one store follow each other's control changes within the bound.

In one process (two replicas' worth of services): over sqlite (a shared registry directory,
polling only) and over PostgreSQL (NOTIFY wakes the other replica at once). Real models, real
stores, the sync threads as the server runs them.
"""

from __future__ import annotations

import pytest
from tools.local_postgres import LocalPostgres

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import ConflictError
from nba_mcp_deploy.services import build_services
from tests.conftest import NbaModels
from tests.postgres import url_for
from tests.replicas.conftest import POLL_SEC
from tests.waiting import wait_for

MODEL = "win_prob"
# One poll, the query and applying the document; generous for a shared CI machine, yet far below
# the 10 s a replica that does not follow at all would be given.
SLACK_SEC = 1.5


def test_a_change_on_one_replica_is_followed_by_the_other_within_the_poll_interval(pair, nba: NbaModels):
    first, second = pair
    first.manager.deploy_model(MODEL, "v1.0", model_uri=str(nba.skops_file))
    first.manager.deploy_model(MODEL, "v2.0", model_uri=str(nba.joblib_file), set_active=False)
    # Loading the two models on the second replica is not part of the bound.
    wait_for(lambda: second.manager.is_deployed(MODEL, "v2.0"), 60)
    assert second.manager.routing(MODEL).active == "v1.0"
    assert second.manager.routing(MODEL).versions["v2.0"].model_uri == str(nba.joblib_file)

    first.manager.setup_ab_test(MODEL, ["v1.0", "v2.0"], [0.2, 0.8], sticky=True)
    took = wait_for(lambda: second.manager.routing(MODEL).split is not None, 10)
    assert took <= POLL_SEC + SLACK_SEC, took
    assert second.manager.routing(MODEL).split.weights == (0.2, 0.8)

    second.manager.set_active_version(MODEL, "v2.0")  # and the other way round
    took = wait_for(lambda: first.manager.routing(MODEL).active == "v2.0", 10)
    assert took <= POLL_SEC + SLACK_SEC, took
    assert first.manager.routing(MODEL).to_document() == second.manager.routing(MODEL).to_document()
    report = second.manager.health_check(MODEL)
    assert report.replica_id == "second"
    shared_database = second.config.registry_url is not None
    assert [d.name for d in report.dependencies] == (["control-sync"] if shared_database else [])


def test_a_change_made_on_a_stale_routing_is_refused_not_lost(pair, nba: NbaModels):
    first, second = pair
    first.manager.deploy_model(MODEL, "v1.0", model_uri=str(nba.skops_file))
    first.manager.deploy_model(MODEL, "v2.0", model_uri=str(nba.joblib_file), set_active=False)
    wait_for(lambda: second.manager.is_deployed(MODEL, "v2.0"), 60)
    second.sync.close()  # the second replica stops following: its routing goes stale
    first.manager.setup_shadow(MODEL, "v2.0", 0.5)
    with pytest.raises(ConflictError, match="another replica changed it"):
        second.manager.set_active_version(MODEL, "v2.0")
    assert second.manager.routing(MODEL).active == "v1.0"  # nothing changed here
    second.sync.sync_now()  # once it follows again, the change goes through on top of the other
    second.manager.set_active_version(MODEL, "v2.0")
    document = first.store.load_deployments()[MODEL]
    assert (document["active"], document["shadow"]) == ("v2.0", None)  # activating v2.0 ends its shadow
    assert document["previous_active"] == ["v1.0"]


def test_postgres_wakes_the_other_replica_without_waiting_for_the_poll(
    postgres: LocalPostgres, config: DeploymentConfig, tmp_path, nba: NbaModels
):
    config = config.replace(registry_url=url_for(tmp_path / "slow"), control_poll_interval_sec=30.0)
    first = build_services(config.replace(replica_id="first"))
    second = build_services(config.replace(replica_id="second"))
    try:
        assert second.registry.store.wait_listening(10)  # type: ignore[attr-defined]
        first.manager.deploy_model(MODEL, "v1.0", model_uri=str(nba.skops_file))
        first.manager.deploy_model(MODEL, "v2.0", model_uri=str(nba.joblib_file), set_active=False)
        wait_for(lambda: second.manager.is_deployed(MODEL, "v2.0"), 60)
        first.manager.setup_ab_test(MODEL, ["v1.0", "v2.0"], [0.5, 0.5])
        # Well before the 30 s poll: NOTIFY woke it (generous for a shared CI machine).
        assert wait_for(lambda: second.manager.routing(MODEL).split is not None, 10) < 5.0
    finally:
        first.close()
        second.close()


def test_a_reference_data_location_set_on_one_replica_is_loaded_by_the_others(pair, nba: NbaModels):
    first, second = pair
    first.manager.deploy_model(MODEL, "v1.0", model_uri=str(nba.skops_file))
    wait_for(lambda: second.manager.is_deployed(MODEL, "v1.0"), 60)
    path = "raptor/modern_RAPTOR_by_player.csv"
    # What the set_reference_data tool does with a path: prepare it here, share where it is.
    rows = first.monitoring.monitor(MODEL).set_reference_data(path, data_field="path").rows
    first.manager.set_reference_location(MODEL, None, {"path": path, "prediction_column": None})
    wait_for(lambda: MODEL in second.monitoring.models() and _has_reference(second), 10)
    assert second.monitoring.get(MODEL).reference().rows == rows
    assert second.manager.routing(MODEL).references == {"*": {"path": path, "prediction_column": None}}
    third = build_services(first.config.replace(replica_id="third"))  # a new replica loads it at start
    try:
        assert third.monitoring.get(MODEL).reference().rows == rows
    finally:
        third.close()


def _has_reference(services) -> bool:
    try:
        services.monitoring.get(MODEL).reference()
    except Exception:
        return False
    return True


def test_a_refused_batching_change_leaves_the_batchers_as_they_were(pair, nba: NbaModels):
    first, second = pair
    first.manager.deploy_model(MODEL, "v1.0", model_uri=str(nba.skops_file))
    wait_for(lambda: second.manager.is_deployed(MODEL, "v1.0"), 60)
    second.sync.close()  # its routing goes stale
    first.manager.set_active_version(MODEL, "v1.0")  # a save elsewhere moves the revision on
    with pytest.raises(ConflictError, match="another replica changed it"):
        second.manager.set_batching(MODEL, 8, 1.0)
    assert second.manager.batching_of(MODEL) is None
    assert all(v.batcher is None for v in second.manager.routing(MODEL).versions.values())
