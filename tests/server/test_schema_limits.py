"""Every limit and choice in the tools' input schemas is the core's rule, stated once.

The first test walks each tool's published `inputSchema` and compares every bound, pattern and
enum it finds with the core constant it stands for: a limit written as a literal in a tool drifts
from the core the day the core changes, and fails here; a new limit without an entry below fails
too. The second checks, for a selection, that the schema and the core draw the line at the same
place: the value at the limit passes both, the value just beyond it is refused by both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from jsonschema import Draft202012Validator

from nba_mcp_deploy.access.audit import MAX_AUDIT_LIMIT
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.experiments.analysis import MAX_ALPHA, MIN_POWER, AnalysisSettings
from nba_mcp_deploy.experiments.canary_policy import MAX_REQUESTS_PER_STEP, MAX_STEPS, CanaryPolicy
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.identifiers import MAX_ID_LENGTH, MODEL_ID_PATTERN, VERSION_PATTERN
from nba_mcp_deploy.mlflow_sync.sync import SyncDirection
from nba_mcp_deploy.monitoring.alerts import AlertSeverity
from nba_mcp_deploy.monitoring.correction import Correction
from nba_mcp_deploy.monitoring.methods import DriftMethod
from nba_mcp_deploy.registry.registry import RUN_ID
from nba_mcp_deploy.registry.search import MAX_CONDITIONS, MAX_LIMIT, MAX_SORT_KEYS, MAX_TEXT
from nba_mcp_deploy.registry.stages import REGISTRATION_STAGES, Stage
from nba_mcp_deploy.registry.validation import (
    LABEL_PATTERN,
    MAX_DESCRIPTION,
    MAX_METRICS,
    MAX_NOTE,
    MAX_TAG_VALUE,
    MAX_TAGS,
    MAX_URI,
)
from nba_mcp_deploy.server.app import build_server
from nba_mcp_deploy.server.mlflow_tools import MAX_WAIT_SEC
from nba_mcp_deploy.server.monitoring_tools import MAX_ACTUALS, MAX_COLUMN_NAME, MAX_INLINE_ROWS, MAX_PATH
from nba_mcp_deploy.server.params import MAX_REQUEST_KEY
from nba_mcp_deploy.server.serving_tools import MAX_AB_VERSIONS
from nba_mcp_deploy.services import Services, build_services
from nba_mcp_deploy.serving.batching import MAX_BATCH_SIZE, MAX_WAIT_MS, BatchSettings

LIMIT_KEYWORDS = frozenset(
    {
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "maxProperties",
        "minProperties",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "enum",
        "const",
    }
)

# Limits taken from the configuration: values no default has, so a literal cannot pass for them.
CONFIG = DeploymentConfig(max_records_per_predict=17, max_features_per_record=23)


def values(members: Any) -> list[str]:
    return [member.value for member in members]


MODEL_ID = {"pattern": MODEL_ID_PATTERN, "maxLength": MAX_ID_LENGTH}
VERSION = {"pattern": VERSION_PATTERN}
LABEL = {"pattern": LABEL_PATTERN}
TAGS = {"maxProperties": MAX_TAGS}
TAG_VALUE = {"maxLength": MAX_TAG_VALUE}
MODEL_URI = {"minLength": 1, "maxLength": MAX_URI}
# Bounds that belong to the quantity itself (a share, a rate, a probability): the core states
# them inline, and `test_the_schema_and_the_core_refuse_at_the_same_place` checks they agree.
SHARE = {"exclusiveMinimum": 0, "maximum": 1}
SINCE = {"minimum": 0}
HOURS = {"exclusiveMinimum": 0}

# Arguments named the same mean the same in every tool.
BY_ARGUMENT: dict[str, dict[str, Any]] = {
    "model_id": MODEL_ID,
    "model_id_b": MODEL_ID,
    "version": VERSION,
    "version_a": VERSION,
    "version_b": VERSION,
    "candidate_version": VERSION,
}

BY_TOOL: dict[tuple[str, str], dict[str, Any]] = {
    ("deploy_model", "model_uri"): MODEL_URI,
    ("predict", "inputs"): {"minItems": 1, "maxItems": CONFIG.max_records_per_predict},
    ("predict", "inputs[]"): {"maxProperties": CONFIG.max_features_per_record},
    ("predict", "request_key"): {"maxLength": MAX_REQUEST_KEY},
    ("setup_ab_test", "versions"): {"minItems": 2, "maxItems": MAX_AB_VERSIONS},
    ("setup_ab_test", "versions[]"): VERSION,
    ("setup_ab_test", "weights"): {"minItems": 2, "maxItems": MAX_AB_VERSIONS},
    ("setup_ab_test", "weights[]"): {"minimum": 0},
    ("setup_shadow", "fraction"): SHARE,
    ("set_batching", "max_batch_size"): {"minimum": 2, "maximum": MAX_BATCH_SIZE},
    ("set_batching", "max_wait_ms"): {"minimum": 0, "maximum": MAX_WAIT_MS},
    ("set_reference_data", "records"): {"minItems": 1, "maxItems": MAX_INLINE_ROWS},
    ("set_reference_data", "path"): {"minLength": 1, "maxLength": MAX_PATH},
    ("set_reference_data", "prediction_column"): {"maxLength": MAX_COLUMN_NAME},
    ("detect_drift", "method"): {"enum": values(DriftMethod)},
    ("detect_drift", "features"): {"maxItems": CONFIG.max_features_per_record},
    ("detect_drift", "current_records"): {"minItems": 1, "maxItems": MAX_INLINE_ROWS},
    ("detect_drift", "current_path"): {"minLength": 1, "maxLength": MAX_PATH},
    ("detect_drift", "window_hours"): HOURS,
    ("detect_drift", "correction"): {"enum": [c.name.lower() for c in Correction]},  # the core parses names
    ("detect_drift", "kind"): {"enum": ["features", "predictions"]},  # the tool's own choice
    ("log_actuals", "actuals"): {"minProperties": 1, "maxProperties": MAX_ACTUALS},
    ("get_performance", "window_hours"): HOURS,
    ("get_alerts", "severity"): {"enum": values(AlertSeverity)},
    ("get_alerts", "since"): SINCE,
    ("register_model", "stage"): {"enum": values(REGISTRATION_STAGES)},
    ("register_model", "framework"): LABEL,
    ("register_model", "algorithm"): LABEL,
    ("register_model", "metrics"): {"maxProperties": MAX_METRICS},
    ("register_model", "tags"): TAGS,
    ("register_model", "tags{}"): TAG_VALUE,
    ("register_model", "description"): {"maxLength": MAX_DESCRIPTION},
    ("register_model", "model_uri"): MODEL_URI,
    ("register_model", "parent"): {"pattern": f"^(?:{MODEL_ID_PATTERN[1:-1]}:)?{VERSION_PATTERN[1:-1]}$"},
    ("register_model", "run_id"): {"pattern": RUN_ID.pattern},
    ("promote_model", "target_stage"): {"enum": values(Stage)},
    ("promote_model", "note"): {"maxLength": MAX_NOTE},
    ("get_model", "stage"): {"enum": values(Stage)},
    ("search_models", "framework"): LABEL,
    ("search_models", "algorithm"): LABEL,
    ("search_models", "stage[]"): {"enum": values(Stage)},
    ("search_models", "tags"): TAGS,
    ("search_models", "tags{}"): TAG_VALUE,
    ("search_models", "metrics"): {"maxItems": MAX_CONDITIONS},
    ("search_models", "text"): {"maxLength": MAX_TEXT},
    ("search_models", "order_by"): {"maxItems": MAX_SORT_KEYS},
    ("search_models", "offset"): {"minimum": 0},
    ("search_models", "limit"): {"minimum": 1, "maximum": MAX_LIMIT},
    ("get_ab_test_results", "min_detectable_effect"): SHARE,
    ("get_ab_test_results", "alpha"): {"exclusiveMinimum": 0, "exclusiveMaximum": MAX_ALPHA},
    ("get_ab_test_results", "power"): {"minimum": MIN_POWER, "exclusiveMaximum": 1},
    ("get_ab_test_results", "since"): SINCE,
    ("start_canary", "steps"): {"minItems": 1, "maxItems": MAX_STEPS},
    ("start_canary", "steps[]"): SHARE,
    ("start_canary", "min_requests_per_step"): {"minimum": 1, "maximum": MAX_REQUESTS_PER_STEP},
    ("start_canary", "max_error_rate"): {"minimum": 0, "exclusiveMaximum": 1},
    ("start_canary", "max_latency_ratio"): {"minimum": 1},
    ("start_canary", "min_accuracy_delta"): {"minimum": -1, "maximum": 1},
    ("start_canary", "min_step_seconds"): {"minimum": 0},
    ("abort_canary", "reason"): {"maxLength": MAX_NOTE},
    ("get_audit_log", "since"): SINCE,
    ("get_audit_log", "limit"): {"minimum": 1, "maximum": MAX_AUDIT_LIMIT},
    ("sync_registry", "direction"): {"enum": values(SyncDirection)},
    ("sync_registry", "wait_sec"): {"minimum": 0, "maximum": MAX_WAIT_SEC},
}


def limits_of(schema: dict[str, Any], defs: dict[str, Any], path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(argument path, keyword, value) for every limit in `schema`; `a[]` is an item, `a{}` a value."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    for keyword in sorted(LIMIT_KEYWORDS & schema.keys()):
        yield path, keyword, schema[keyword]
    for option in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from limits_of(option, defs, path)
    for name, sub in schema.get("properties", {}).items():
        yield from limits_of(sub, defs, f"{path}.{name}" if path else name)
    if isinstance(schema.get("items"), dict):
        yield from limits_of(schema["items"], defs, path + "[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from limits_of(schema["additionalProperties"], defs, path + "{}")


def input_schemas(config: DeploymentConfig) -> dict[str, dict[str, Any]]:
    async def listed() -> dict[str, dict[str, Any]]:
        tools = await build_server(ServiceHost(config)).list_tools()
        return {tool.name: tool.input_schema for tool in tools}

    return anyio.run(listed)


def test_every_input_limit_is_the_core_constant_it_stands_for() -> None:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for tool, schema in input_schemas(CONFIG).items():
        for path, keyword, value in limits_of(schema, schema.get("$defs", {})):
            found.setdefault((tool, path), {})[keyword] = value
    expected = {(tool, path): BY_TOOL.get((tool, path), BY_ARGUMENT.get(path, {})) for tool, path in found} | BY_TOOL
    assert {key: found.get(key) for key in expected} == expected


def test_the_walk_sees_limits_inside_nullable_lists_and_mappings() -> None:
    schema = {
        "properties": {
            "a": {"anyOf": [{"type": "array", "maxItems": 3, "items": {"maxLength": 4}}, {"type": "null"}]},
            "b": {"$ref": "#/$defs/B"},
        },
        "$defs": {"B": {"type": "object", "additionalProperties": {"minimum": 1}}},
    }
    assert sorted(limits_of(schema, schema["$defs"])) == [
        ("a", "maxItems", 3),
        ("a[]", "maxLength", 4),
        ("b{}", "minimum", 1),
    ]


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    return input_schemas(CONFIG)


@pytest.fixture
def services(config: DeploymentConfig) -> Iterator[Services]:
    built = build_services(config.replace(registry_sync_every_commit=False))
    try:
        yield built
    finally:
        built.close()


def schema_allows(schema: dict[str, Any], arguments: dict[str, Any]) -> bool:
    return Draft202012Validator(schema).is_valid(arguments)


def core_allows(call: Callable[[], Any]) -> bool:
    try:
        call()
    except InvalidInputError:
        return False
    return True


def names(count: int) -> dict[str, float]:
    return {f"m{i}": 0.5 for i in range(count)}


def tags(count: int) -> dict[str, str]:
    return {f"t{i}": "x" for i in range(count)}


def rising(count: int) -> list[float]:
    return [(i + 1) / count for i in range(count)]


_versions = iter(range(1, 1_000_000))


def fresh() -> str:
    """A version not registered yet, so each registration below is judged on its arguments alone."""
    return f"v{next(_versions)}.0"


def registration(**fields: Any) -> Callable[[Services], Any]:
    return lambda s: s.registry.register_model("limits", fresh(), **fields)


# The arguments a tool requires besides the one under test.
REQUIRED: dict[str, dict[str, Any]] = {
    "register_model": {"model_id": "limits", "version": "v1.0"},
    "search_models": {},
    "start_canary": {"model_id": "limits", "candidate_version": "v2.0"},
    "get_ab_test_results": {"model_id": "limits"},
    "set_batching": {"model_id": "limits"},
}

# (tool, argument, the value at the limit, the value just beyond it, how the core takes a value)
CASES: list[tuple[str, str, Any, Any, Callable[[Services, Any], Any]]] = [
    ("register_model", "metrics", names(MAX_METRICS), names(MAX_METRICS + 1), lambda s, v: registration(metrics=v)(s)),
    ("register_model", "tags", tags(MAX_TAGS), tags(MAX_TAGS + 1), lambda s, v: registration(tags=v)(s)),
    (
        "register_model",
        "tags",
        {"t": "x" * MAX_TAG_VALUE},
        {"t": "x" * (MAX_TAG_VALUE + 1)},
        lambda s, v: registration(tags=v)(s),
    ),
    (
        "register_model",
        "description",
        "d" * MAX_DESCRIPTION,
        "d" * (MAX_DESCRIPTION + 1),
        lambda s, v: registration(description=v)(s),
    ),
    ("register_model", "model_uri", "u" * MAX_URI, "u" * (MAX_URI + 1), lambda s, v: registration(model_uri=v)(s)),
    ("register_model", "framework", "f" * 64, "f" * 65, lambda s, v: registration(framework=v)(s)),
    ("register_model", "stage", "staging", "production", lambda s, v: registration(stage=v)(s)),
    ("search_models", "limit", MAX_LIMIT, MAX_LIMIT + 1, lambda s, v: s.registry.search_models(limit=v)),
    ("search_models", "text", "t" * MAX_TEXT, "t" * (MAX_TEXT + 1), lambda s, v: s.registry.search_models(text=v)),
    (
        "search_models",
        "metrics",
        ["a > 1"] * MAX_CONDITIONS,
        ["a > 1"] * (MAX_CONDITIONS + 1),
        lambda s, v: s.registry.search_models(metrics=v),
    ),
    ("start_canary", "steps", rising(MAX_STEPS), rising(MAX_STEPS + 1), lambda s, v: CanaryPolicy(steps=v)),
    (
        "start_canary",
        "min_requests_per_step",
        MAX_REQUESTS_PER_STEP,
        MAX_REQUESTS_PER_STEP + 1,
        lambda s, v: CanaryPolicy(min_requests_per_step=v),
    ),
    ("start_canary", "max_error_rate", 0.999, 1.0, lambda s, v: CanaryPolicy(max_error_rate=v)),
    ("start_canary", "max_latency_ratio", 1.0, 0.999, lambda s, v: CanaryPolicy(max_latency_ratio=v)),
    ("start_canary", "min_accuracy_delta", -1.0, -1.001, lambda s, v: CanaryPolicy(min_accuracy_delta=v)),
    ("get_ab_test_results", "alpha", MAX_ALPHA - 0.001, MAX_ALPHA, lambda s, v: AnalysisSettings(alpha=v)),
    ("get_ab_test_results", "power", MIN_POWER, MIN_POWER - 0.001, lambda s, v: AnalysisSettings(power=v)),
    (
        "get_ab_test_results",
        "min_detectable_effect",
        1.0,
        1.001,
        lambda s, v: AnalysisSettings(min_detectable_effect=v),
    ),
    ("set_batching", "max_batch_size", MAX_BATCH_SIZE, MAX_BATCH_SIZE + 1, lambda s, v: BatchSettings(v, 1.0)),
    ("set_batching", "max_batch_size", 2, 1, lambda s, v: BatchSettings(v, 1.0)),
    ("set_batching", "max_wait_ms", MAX_WAIT_MS, MAX_WAIT_MS + 0.001, lambda s, v: BatchSettings(32, v)),
]


@pytest.mark.parametrize(
    ("tool", "argument", "at_limit", "beyond", "core"), CASES, ids=[f"{c[0]}.{c[1]}={c[3]!r:.20}" for c in CASES]
)
def test_the_schema_and_the_core_refuse_at_the_same_place(
    schemas: dict[str, dict[str, Any]],
    services: Services,
    tool: str,
    argument: str,
    at_limit: Any,
    beyond: Any,
    core: Callable[[Services, Any], Any],
) -> None:
    schema = schemas[tool]
    arguments = REQUIRED[tool]
    assert schema_allows(schema, {**arguments, argument: at_limit})
    assert core_allows(lambda: core(services, at_limit))
    assert not schema_allows(schema, {**arguments, argument: beyond})
    assert not core_allows(lambda: core(services, beyond))
