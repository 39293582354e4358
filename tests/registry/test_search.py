"""Parsing search arguments (never evaluated) and searching through the registry."""

from __future__ import annotations

import pytest

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.registry.search import (
    MetricCondition,
    Operator,
    SortKey,
    build_query,
    parse_metric_condition,
    parse_sort_key,
)
from nba_mcp_deploy.registry.stages import Stage


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("accuracy >= 0.9", MetricCondition("accuracy", Operator.GE, 0.9)),
        ("log_loss<0.5", MetricCondition("log_loss", Operator.LT, 0.5)),
        ("  auc   >   .5 ", MetricCondition("auc", Operator.GT, 0.5)),
        ("f1-score = 1", MetricCondition("f1-score", Operator.EQ, 1.0)),
        ("rmse == -2e-3", MetricCondition("rmse", Operator.EQ, -0.002)),
        ("mae != 3", MetricCondition("mae", Operator.NE, 3.0)),
        ("val.acc <= +1E2", MetricCondition("val.acc", Operator.LE, 100.0)),
    ],
)
def test_metric_conditions_parse(text, expected):
    assert parse_metric_condition(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('x') > 1",
        "accuracy >= 0.9 or 1",
        "accuracy => 0.9",
        "accuracy >= nan",
        "accuracy >= inf",
        "accuracy >= 1e999",
        ">= 0.9",
        "accuracy 0.9",
        "accuracy >= 0x10",
        "",
        "a" * 300 + " > 1",
        42,
    ],
)
def test_anything_else_is_refused_with_the_syntax(text):
    with pytest.raises(InvalidInputError, match="metrics") as info:
        parse_metric_condition(text)
    assert info.value.field == "metrics"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("registered_at", SortKey("registered_at")),
        ("version DESC", SortKey("version", True)),
        ("Stage asc", SortKey("stage")),
        ("metrics.accuracy desc", SortKey("metric", True, "accuracy")),
        (SortKey("metric", True, "auc"), SortKey("metric", True, "auc")),
    ],
)
def test_sort_keys_parse(text, expected):
    assert parse_sort_key(text) == expected


@pytest.mark.parametrize("text", ["description", "version sideways", "metrics.", "metrics.bad name", "a b c", ""])
def test_bad_sort_keys_list_the_allowed_fields(text):
    with pytest.raises(InvalidInputError, match="field is one of registered_at, stage_changed_at, model_id"):
        parse_sort_key(text)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": True}, "limit"),
        ({"offset": -1}, "offset"),
        ({"stage": "prod"}, "stage"),
        ({"framework": "??"}, "framework"),
        ({"model_id": "a/b"}, "model_id"),
        ({"metrics": ["a > 1"] * 21}, "metrics"),
        ({"tags": {"k": 1}}, "tags.k"),
        ({"text": "x" * 201}, "text"),
    ],
)
def test_bad_search_arguments_name_the_field(kwargs, field):
    with pytest.raises(InvalidInputError) as info:
        build_query(**kwargs)
    assert info.value.field == field


def test_build_query_normalises(registry):
    q = build_query(stage=["Production", "staging", "production"], framework="SKLearn", metrics="acc > 1", text="  ")
    assert q.stages == (Stage.PRODUCTION, Stage.STAGING)
    assert (q.framework, q.text, len(q.conditions)) == ("sklearn", None, 1)
    assert q.order_by == (SortKey("registered_at", True),)


def test_search_models_through_the_registry(registry, clock):
    registry.register_model("win", "v1", framework="sklearn", metrics={"accuracy": 0.82}, description="baseline")
    clock.advance(1)
    registry.register_model("win", "v2", framework="xgboost", metrics={"accuracy": 0.91}, tags={"team": "all"})
    clock.advance(1)
    registry.register_model("pts", "v1", framework="xgboost", metrics={"rmse": 4.2}, stage="staging")
    page = registry.search_models(metrics=["accuracy >= 0.8"], order_by="metrics.accuracy desc", limit=1)
    assert ([v.version for v in page.items], page.total, page.next_offset) == (["v2"], 2, 1)
    assert [str(v.ref) for v in registry.search_models().items] == ["pts:v1", "win:v2", "win:v1"]
    assert registry.search_models(framework="XGBoost", stage="staging").items[0].model_id == "pts"
    assert registry.search_models(tags={"team": "all"}).total == 1
    assert registry.search_models(text="BASE").total == 1
