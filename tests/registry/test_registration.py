"""register_model: what is accepted, how it is normalised, what is refused and why."""

from __future__ import annotations

import json
import math
import random

import pytest

from nba_mcp_deploy.errors import ConflictError, InvalidInputError, NotFoundError
from nba_mcp_deploy.registry.records import VersionRef
from nba_mcp_deploy.registry.stages import Stage
from nba_mcp_deploy.registry.validation import MAX_HYPERPARAMETERS_JSON, validate_hyperparameters


def test_a_registration_returns_the_stored_version(registry, clock):
    v = registry.register_model(
        "win_prob",
        "v1.0",
        framework="SKLearn",
        algorithm="Logistic Regression",
        metrics={"accuracy": 0.9, "games": 82},
        hyperparameters={"C": 1.0, "penalty": "l2", "classes": [0, 1]},
        tags={"season": "2024-25"},
        description="Win probability from box scores",
        model_uri="models/win_prob/v1.0.skops",
        actor="alice",
    )
    assert v == registry.get_model("win_prob", "v1.0")
    assert (v.framework, v.algorithm) == ("sklearn", "logistic regression")
    assert v.metrics == {"accuracy": 0.9, "games": 82.0}
    assert (v.stage, v.registered_at, v.registered_by) == (Stage.DEVELOPMENT, clock.now(), "alice")


def test_an_existing_version_is_a_conflict_not_an_overwrite(registry):
    registry.register_model("m", "v1", description="first")
    with pytest.raises(ConflictError, match="already registered"):
        registry.register_model("m", "v1", description="second")
    assert registry.get_model("m", "v1").description == "first"


def test_versions_have_one_spelling(registry):
    assert registry.register_model("m", "v01.002").version == "v1.2"
    with pytest.raises(ConflictError):
        registry.register_model("m", "v1.2")
    assert registry.get_model("m", "v1.02").version == "v1.2"


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("v0", "v0"),
        ("v00", "v0"),
        ("v10.0", "v10.0"),
        ("v1.00", "v1.0"),
        ("v0.0.0.7", "v0.0.0.7"),
        ("v007.10", "v7.10"),
    ],
)
def test_a_version_is_stored_in_its_canonical_spelling(registry, given, canonical):
    assert registry.register_model("m", given).version == canonical
    assert registry.get_model("m", canonical).version == canonical


class Score(float):
    """A float subclass (like numpy's float64): stored as the plain float JSON gives back."""


@pytest.mark.parametrize(
    "given",
    [
        {"z": 1.5, "y": "text", "x": None, "w": True, "v": 3},
        {"b": Score(0.5)},
        {"b": Score(0.5), "a": (1, 2), "c": {"nested": [1.0, None]}},
    ],
)
def test_hyperparameters_are_stored_as_json_gives_them_back(registry, given):
    stored = registry.register_model("m", "v1", hyperparameters=given).hyperparameters
    assert stored == json.loads(json.dumps(given)) == registry.get_model("m", "v1").hyperparameters
    assert list(stored) == sorted(given)
    assert [type(value) for value in stored.values()] == [
        type(value) for value in json.loads(json.dumps(given, sort_keys=True)).values()
    ]
    assert stored is not given


def _round_trip(value):
    """The rule as it was first written: what a JSON round trip gives, at most 64 KiB of JSON."""
    encoded = json.dumps(value, allow_nan=False, sort_keys=True)
    if len(encoded) > MAX_HYPERPARAMETERS_JSON:
        raise ValueError("too big")
    return json.loads(encoded)


def _scalar_documents():
    rng = random.Random(3)
    values = [0, -1, 10**19, -(10**19) - 7, 10**25, 0.1, -0.0, 1e308, 5e-324, True, False, None, "", "é", "🏀", 'a"b']
    for _ in range(300):
        yield {f"p{i}": rng.choice(values) for i in range(rng.randint(0, 6))}


@pytest.mark.parametrize(
    "given",
    [
        {"s": "x" * 5_000},
        {"s": "x" * 65_520},  # 65,529 characters of JSON: accepted
        {"s": "x" * 65_530},  # 65,539: refused
        {"u": "é" * 10_000},  # 60,009 (each é is \u00e9)
        {"u": "é" * 11_000},
        {"emoji": "🏀" * 5_400},  # 64,812 (a surrogate pair each)
        {"emoji": "🏀" * 5_500},
        {"n": math.nan},
        {"huge": 10**30},
        {"t": (1, 2)},
        {"f": Score(0.5), "s": "x"},
        *_scalar_documents(),
    ],
)
def test_hyperparameters_are_checked_exactly_as_a_json_round_trip(given):
    try:
        expected = _round_trip(given)
    except ValueError:
        with pytest.raises(InvalidInputError):
            validate_hyperparameters(given)
        return
    got = validate_hyperparameters(given)
    assert got == expected
    assert list(got) == list(expected)
    assert [type(v) for v in got.values()] == [type(v) for v in expected.values()]


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("model_id", {"model_id": "../../etc/passwd"}),
        ("model_id", {"model_id": ""}),
        ("model_id", {"model_id": "x" * 65}),
        ("version", {"version": "1.0"}),
        ("version", {"version": "v1.0-beta"}),
        ("stage", {"stage": "production"}),
        ("stage", {"stage": "live"}),
        ("framework", {"framework": ""}),
        ("framework", {"framework": "a;drop table"}),
        ("metrics", {"metrics": {"accuracy": math.nan}}),
        ("metrics", {"metrics": {"accuracy": True}}),
        ("metrics", {"metrics": {"accuracy": "0.9"}}),
        ("metrics", {"metrics": {"bad name": 1.0}}),
        ("metrics", {"metrics": [("accuracy", 0.9)]}),
        ("hyperparameters", {"hyperparameters": {"f": object()}}),
        ("hyperparameters", {"hyperparameters": {"x": math.inf}}),
        ("hyperparameters", {"hyperparameters": {"big": "x" * 70_000}}),
        ("tags", {"tags": {"team": 5}}),
        ("tags", {"tags": {"team": "a\nb"}}),
        ("tags", {"tags": {f"t{i}": "x" for i in range(51)}}),
        ("description", {"description": "x" * 4_001}),
        ("model_uri", {"model_uri": 42}),
        ("parent", {"parent": "not a version"}),
        ("parent", {"parent": "m:v1"}),
    ],
)
def test_bad_input_names_the_field(registry, field, kwargs):
    args = {"model_id": "m", "version": "v1", **kwargs}
    with pytest.raises(InvalidInputError) as info:
        registry.register_model(args.pop("model_id"), args.pop("version"), **args)
    assert info.value.field.split(".")[0] == field
    assert registry.get_statistics().total_versions == 0


def test_a_parent_must_exist_and_may_be_another_model(registry):
    with pytest.raises(NotFoundError, match="parent m:v0"):
        registry.register_model("m", "v1", parent="v0")
    registry.register_model("base", "v3")
    child = registry.register_model("m", "v1", parent="base:v03")
    assert child.parent == VersionRef("base", "v3")


def test_get_model_picks_the_named_the_staged_the_production_or_the_latest(registry):
    registry.register_model("m", "v1.9", stage="staging")
    registry.register_model("m", "v1.10")
    registry.register_model("m", "v1.2", stage="staging")
    assert registry.get_model("m").version == "v1.10"  # no production: latest
    assert registry.get_model("m", stage="staging").version == "v1.9"
    registry.promote_model("m", "v1.2", "production")
    assert registry.get_model("m").version == "v1.2"
    assert registry.get_model("m", "v1.9", stage="staging").version == "v1.9"
    with pytest.raises(NotFoundError, match="in staging, not production"):
        registry.get_model("m", "v1.9", stage="production")
    with pytest.raises(NotFoundError, match=r"no version in archived; its versions by stage: development: 1"):
        registry.get_model("m", stage="archived")
    with pytest.raises(NotFoundError, match="no model 'nope' is registered; registered models: m"):
        registry.get_model("nope")


def test_list_models_and_versions(registry):
    registry.register_model("b", "v2")
    registry.register_model("b", "v10")
    registry.register_model("a", "v1")
    assert [s.model_id for s in registry.list_models()] == ["a", "b"]
    assert [v.version for v in registry.list_versions("b")] == ["v2", "v10"]
    with pytest.raises(NotFoundError):
        registry.list_versions("c")


def test_statistics(registry):
    registry.register_model("a", "v1", framework="sklearn", stage="staging")
    registry.register_model("a", "v2", framework="xgboost")
    registry.promote_model("a", "v1", "production")
    stats = registry.get_statistics()
    assert (stats.total_models, stats.total_versions, stats.production_count) == (1, 2, 1)
    assert stats.by_framework == {"sklearn": 1, "xgboost": 1}


def test_metrics_are_stored_as_plain_floats(registry):
    v = registry.register_model("m", "v1", metrics={"a": 0.5, "b": 3, "c": Score(0.25)})
    assert v.metrics == {"a": 0.5, "b": 3.0, "c": 0.25}
    assert [type(value) for value in v.metrics.values()] == [float, float, float]
