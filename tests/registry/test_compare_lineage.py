"""compare_models and get_lineage through the registry; relate() on hand-built families."""

from __future__ import annotations

import pytest

from nba_mcp_deploy.errors import InvalidInputError, NotFoundError
from nba_mcp_deploy.registry.lineage import RelationKind, relate
from nba_mcp_deploy.registry.records import ModelVersion, VersionRef
from nba_mcp_deploy.registry.stages import Stage


def test_comparing_two_versions_of_a_model(registry, clock):
    registry.register_model(
        "m",
        "v1",
        metrics={"accuracy": 0.8, "log_loss": 0.5, "old": 1.0},
        hyperparameters={"C": 1.0, "max_iter": 100},
    )
    clock.advance(3600)
    registry.register_model(
        "m",
        "v2",
        metrics={"accuracy": 0.88, "log_loss": 0.0, "new": 2.0},
        hyperparameters={"C": 0.5, "max_iter": 100, "solver": "lbfgs"},
        parent="v1",
        stage="staging",
    )
    clock.advance(60)
    c = registry.compare_models("m", "v1", "v2")
    diffs = {d.name: d for d in c.metrics}
    assert diffs["accuracy"].absolute == pytest.approx(0.08)
    assert diffs["accuracy"].relative == pytest.approx(0.1)
    assert diffs["log_loss"].relative == pytest.approx(-1.0)
    assert (diffs["old"].b, diffs["old"].absolute, diffs["new"].a, diffs["new"].relative) == (
        None,
        None,
        None,
        None,
    )
    assert [(h.name, h.a, h.b, h.in_a, h.in_b) for h in c.hyperparameters] == [
        ("C", 1.0, 0.5, True, True),
        ("solver", None, "lbfgs", False, True),
    ]
    assert c.same_hyperparameters == ("max_iter",)
    assert (c.a.stage, c.b.stage, c.same_stage) == (Stage.DEVELOPMENT, Stage.STAGING, False)
    assert (c.age_a_sec, c.age_b_sec) == (3660.0, 60.0)
    assert c.relation.kind is RelationKind.ANCESTOR
    assert c.relation.generations == 1
    assert c.relation.description == "m:v1 is the parent of m:v2"


def test_comparing_two_models_defaults_to_production_then_latest(registry):
    registry.register_model("a", "v1", stage="staging", metrics={"acc": 0.0})
    registry.register_model("a", "v2", metrics={"acc": 0.5})
    registry.promote_model("a", "v1", "production")
    registry.register_model("b", "v7", metrics={"acc": 0.25})
    c = registry.compare_models("a", model_id_b="b")
    assert (str(c.a.ref), str(c.b.ref)) == ("a:v1", "b:v7")
    assert c.metrics[0].relative is None  # relative to zero is undefined
    assert c.relation.kind is RelationKind.UNRELATED
    with pytest.raises(NotFoundError):
        registry.compare_models("a", "v1", "v9")


def test_lineage_lists_ancestors_and_descendants_across_models(registry):
    registry.register_model("base", "v1")
    registry.register_model("m", "v1", parent="base:v1")
    registry.register_model("m", "v2", parent="v1")
    registry.register_model("m", "v3", parent="v1")
    registry.register_model("x", "v1", parent="m:v2")
    lineage = registry.get_lineage("m", "v1")
    assert [str(v.ref) for v in lineage.ancestors] == ["base:v1"]
    assert [(str(d.version.ref), d.depth) for d in lineage.descendants] == [
        ("m:v2", 1),
        ("m:v3", 1),
        ("x:v1", 2),
    ]
    assert (lineage.missing_ancestor, lineage.truncated) == (None, False)
    assert registry.get_lineage("x", "v1").ancestors[-1].ref == VersionRef("base", "v1")


def test_a_deleted_ancestor_ends_the_chain_and_is_named(registry):
    registry.register_model("m", "v1")
    registry.register_model("m", "v2", parent="v1")
    registry.register_model("m", "v3", parent="v2")
    registry.delete_model("m", "v2")
    lineage = registry.get_lineage("m", "v3")
    assert (lineage.ancestors, lineage.missing_ancestor) == ((), VersionRef("m", "v2"))


def test_cycles_are_refused_and_links_can_change(registry):
    registry.register_model("m", "v1")
    registry.register_model("m", "v2", parent="v1")
    registry.register_model("m", "v3", parent="v2")
    with pytest.raises(InvalidInputError, match="cycle"):
        registry.set_parent("m", "v1", "v3")
    with pytest.raises(InvalidInputError, match="own parent"):
        registry.set_parent("m", "v1", "v1")
    assert registry.set_parent("m", "v3", None).parent is None
    assert registry.set_parent("m", "v1", "v3").parent == VersionRef("m", "v3")
    assert [str(v.ref) for v in registry.get_lineage("m", "v2").ancestors] == ["m:v1", "m:v3"]


def _v(ref: str, parent: str | None = None) -> ModelVersion:
    model_id, version = ref.split(":")
    parent_ref = None if parent is None else VersionRef(*parent.split(":"))
    return ModelVersion(model_id, version, Stage.DEVELOPMENT, "f", "a", parent=parent_ref)


@pytest.mark.parametrize(
    ("a", "b", "kind", "generations", "common"),
    [
        ("m:v1", "m:v1", RelationKind.SAME, 0, None),
        ("m:v1", "m:v3", RelationKind.ANCESTOR, 2, None),
        ("m:v3", "m:v1", RelationKind.DESCENDANT, 2, None),
        ("m:v2", "m:v4", RelationKind.SIBLINGS, None, "m:v1"),
        ("m:v3", "m:v4", RelationKind.RELATED, None, "m:v1"),
        ("m:v3", "z:v1", RelationKind.UNRELATED, None, None),
    ],
)
def test_relations(a, b, kind, generations, common):
    family = {
        "m:v1": _v("m:v1"),
        "m:v2": _v("m:v2", "m:v1"),
        "m:v3": _v("m:v3", "m:v2"),
        "m:v4": _v("m:v4", "m:v1"),
        "z:v1": _v("z:v1"),
    }

    def ancestors(ref):
        chain, node = [], family[ref]
        while node.parent is not None:
            node = family[str(node.parent)]
            chain.append(node)
        return chain

    relation = relate(family[a], ancestors(a), family[b], ancestors(b))
    assert (relation.kind, relation.generations) == (kind, generations)
    assert (None if relation.common_ancestor is None else str(relation.common_ancestor)) == common
