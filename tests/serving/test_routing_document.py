"""The routing document's writer and reader agree, read what earlier releases saved, and a part
they cannot read is reported instead of stopping a replica from serving the rest."""

from __future__ import annotations

import json

from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.serving.batching import BatchSettings
from nba_mcp_deploy.serving.manager import ModelServingManager
from nba_mcp_deploy.serving.routing_document import DOCUMENT_FORMAT, RoutingDocument, VersionEntry
from nba_mcp_deploy.serving.shadow import ShadowConfig
from tests.conftest import NbaModels

MODEL = "next_season"

# A document as a release before references and batching were saved wrote it (same format).
EARLIER = {
    "format": 1,
    "model_id": MODEL,
    "versions": [
        {"version": "v1.0", "model_uri": "models/a.skops", "deployed_at": 10},
        {"version": "v2.0", "model_uri": None, "deployed_at": 20.5},
        {"model_uri": "no version: skipped"},
    ],
    "active": "v1.0",
    "split": {"versions": ["v1.0", "v2.0"], "weights": [0.75, 0.25], "sticky": True},
    "shadow": {"version": "v2.0", "fraction": 1},
    "previous_active": ["v0.9"],
}


def test_what_is_written_reads_back_the_same(tmp_path, nba: NbaModels) -> None:
    manager = ModelServingManager(DeploymentConfig(registry_dir=tmp_path), clock=ManualClock())
    manager.deploy_model(MODEL, "v1.0", model_instance=nba.trained.boosting)
    manager.deploy_model(MODEL, "v2.0", model_instance=nba.trained.logistic, set_active=False)
    manager.deploy_model(MODEL, "v3.0", model_instance=nba.trained.logistic, set_active=False)
    manager.setup_ab_test(MODEL, ["v1.0", "v2.0"], [0.9, 0.1], sticky=True)
    manager.setup_shadow(MODEL, "v3.0", 0.5)
    manager.set_reference_location(MODEL, "v2.0", {"path": "ref.csv", "prediction_column": None})
    manager.set_batching(MODEL, 8, 2.0)
    try:
        written = manager.routing(MODEL).to_document()
        stored = json.loads(json.dumps(written))  # as the store keeps it
        document = RoutingDocument.from_json(stored)
        assert document.to_json() == written
        assert document.unreadable == {}
        assert document.version_names() == ["v1.0", "v2.0", "v3.0"]
        assert document.split is not None and document.split.weights == (0.9, 0.1)
        assert document.shadow == ShadowConfig("v3.0", 0.5)
        assert document.batching == BatchSettings(8, 2.0)
        assert written["format"] == DOCUMENT_FORMAT
    finally:
        manager.close()


def test_a_document_an_earlier_release_saved_is_read() -> None:
    document = RoutingDocument.from_json(EARLIER)
    assert document.versions == (VersionEntry("v1.0", "models/a.skops", 10), VersionEntry("v2.0", None, 20.5))
    assert (document.active, document.previous_active) == ("v1.0", ("v0.9",))
    assert document.split is not None and document.split.versions == ("v1.0", "v2.0") and document.split.sticky
    assert document.shadow == ShadowConfig("v2.0", 1.0)
    assert (dict(document.references), document.batching, dict(document.unreadable)) == ({}, None, {})


def test_unreadable_parts_are_named_not_raised() -> None:
    broken = {
        **EARLIER,
        "split": {"versions": ["v1.0", "v2.0"], "weights": [0.5, 0.7], "sticky": False},
        "shadow": {"fraction": 0.5},
        "batching": {"max_batch_size": 1, "max_wait_ms": 2.0},
    }
    document = RoutingDocument.from_json(broken)
    assert (document.split, document.shadow, document.batching) == (None, None, None)
    assert sorted(document.unreadable) == ["batching", "shadow", "split"]
    assert "must sum to 1" in document.unreadable["split"]
    assert "max_batch_size" in document.unreadable["batching"]
    assert document.active == "v1.0"  # the rest is read as saved


def test_a_replica_serves_what_it_can_of_a_document_with_a_broken_split(tmp_path, nba: NbaModels) -> None:
    manager = ModelServingManager(DeploymentConfig(registry_dir=tmp_path), clock=ManualClock())
    manager.deploy_model(MODEL, "v1.0", model_instance=nba.trained.boosting)
    manager.deploy_model(MODEL, "v2.0", model_instance=nba.trained.logistic, set_active=False)
    try:
        saved = manager.routing(MODEL).to_document()
        saved["split"] = {"versions": ["v1.0", "v2.0"], "weights": [0.5, 0.7], "sticky": False}
        saved["active"] = "v2.0"
        problems = manager.apply_document(MODEL, saved, revision=1)
        assert len(problems) == 1 and problems[0].startswith(f"{MODEL}: A/B test not restored (")
        routing = manager.routing(MODEL)
        assert (routing.active, routing.split) == ("v2.0", None)
        assert manager.applied_revisions() == {MODEL: 1}
    finally:
        manager.close()
