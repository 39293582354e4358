"""Every tool fuzzed through the in-memory client with hostile arguments.

For each tool, one server over real services (a model deployed in two versions, two registered
versions, reference data) takes 200 Hypothesis-generated calls mixing plausible values with
wrong types, huge and empty lists, NaN and infinities, unicode and control characters, path
traversal in ids and paths (and symlinks escaping the roots), deeply nested JSON, missing
and unknown arguments. For every call:

- it answers within the time limit, with a result (the server never crashes or hangs);
- a failure is an error result in a known category, never an internal error, and an invalid
  argument names the field;
- a failed call leaves the registry (versions, stages, history, deployments) exactly as it was,
  and every call to a mutating tool adds exactly one audit entry;
- a traversal or escaping path never succeeds (register_model only records its URI: the deploy
  on promotion confines it, see test_paths.py).

Afterwards a normal predict and health check still succeed, and the registry holds exactly
what it held plus the versions the successful calls registered.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp.client import Client

from nba_mcp_deploy.access.policy import is_mutating
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.nba_models import FEATURES
from nba_mcp_deploy.registry.search import SearchQuery
from nba_mcp_deploy.server.app import build_server
from nba_mcp_deploy.services import Services, build_services
from tests.conftest import NbaModels
from tests.server.roots import make_roots

pytestmark = pytest.mark.anyio

M = "m"
CALL_TIMEOUT_SEC = 30.0
EXAMPLES = 200
CATEGORIES = (
    "invalid argument",
    "not found",
    "conflict",
    "permission denied",
    "circuit open",
    "model load failed",
    "model error",
    "store error",
)

TRAVERSALS = [
    "../../../../etc/passwd",
    "/etc/passwd",
    "..",
    "../",
    "./../outside.csv",
    "file:///etc/passwd",
    "%2e%2e/%2e%2e/etc/passwd",
    "..\\..\\windows\\win.ini",
    "escape.joblib",  # a symlink inside the model root pointing outside it
    "escape.csv",  # a symlink inside the data root pointing outside it
    "nul\x00byte.csv",
    "a/" * 2100,
]
BAD_IDS = ["../m", "m/../../x", "..", "m\x00", "m\n", "\uff4d", "𝔪odel", "", " m", "a" * 65, "m;drop table versions"]
# Symlinks inside the roots that point outside them, by the field that takes a path.
ESCAPES = {"model_uri": "escape.joblib", "path": "escape.csv", "current_path": "escape.csv"}
PATH_FIELDS = set(ESCAPES)


def nested(depth: int) -> Any:
    value: Any = 1.0
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def tool_names() -> list[str]:
    """Every tool the server registers, so tools added later are fuzzed too."""

    async def names() -> list[str]:
        server = build_server(ServiceHost(DeploymentConfig()))
        return sorted(t.name for t in await server.list_tools())

    return anyio.run(names)


TOOLS = tool_names()

# Hostile values for any field.
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308, -1e-308]),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "So", "Lo"]), max_size=40),
    st.sampled_from(TRAVERSALS + BAD_IDS),
    st.just("x" * 100_000),
    st.just([]),
    st.just({}),
    st.just([{"poss": 1.0}] * 20_000),
    st.just(list(range(5000))),
    st.sampled_from([nested(20), nested(240)]),  # the client serialises up to about 250 levels
    st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=5), st.floats()), max_size=5),
    st.dictionaries(st.text(max_size=8), st.one_of(st.none(), st.floats(), st.text(max_size=5)), max_size=5),
)


@dataclass
class World:
    """What the fuzzed server knows: a client, the services behind it and plausible values."""

    client: Client
    services: Services
    records: list[dict[str, float]]
    prediction_ids: list[str]


def plausible(world: World, tool: str, name: str) -> st.SearchStrategy[Any]:
    """Values that often pass validation, so the fuzz also reaches the core."""
    records = world.records
    by_name: dict[str, list[Any]] = {
        "model_id": [M, "ghost"],
        "model_id_b": [M],
        "version": ["v1.0", "v2.0", *(f"v{n}.0" for n in range(3, 40))],
        "version_a": ["v1.0"],
        "version_b": ["v2.0"],
        "versions": [["v1.0", "v2.0"], ["v1.0", "v9.9"]],
        "weights": [[0.5, 0.5], [0.9, 0.1], [0.7, 0.7]],
        "fraction": [0.5, 1.0],
        "model_uri": ["logistic.joblib", "gb.skops", "missing.joblib"],
        "inputs": [records[:2], [{**records[0], "extra": 1.0}], [{"poss": 1.0}]],
        "request_key": ["key-1"],
        "records": [records[:60], None],
        "current_records": [records[60:120], None],
        "path": ["reference.csv", "missing.csv"],
        "current_path": ["reference.csv"],
        "prediction_column": [None],
        "method": ["ks", "psi", "wasserstein", "chi_square"],
        "features": [FEATURES[:2], ["nope"]],
        "window_hours": [24.0],
        "correction": ["bonferroni", None],
        "kind": ["features", "predictions"],
        "include_plot": [False],
        "actuals": [{world.prediction_ids[0]: 1.0}, {"unknown-id": 0.0}],
        "severity": ["warning", None],
        "since": [0.0, None],
        "limit": [10, 1],
        "offset": [0],
        "stage": ["development", "staging"] if tool == "register_model" else [None, ["production"]],
        "target_stage": ["staging", "development", "archived", "production"],
        "force": [False],
        "note": ["fuzz"],
        "framework": ["sklearn"],
        "algorithm": ["logreg"],
        "metrics": [["accuracy >= 0.5"]] if tool == "search_models" else [{"accuracy": 0.7}],
        "hyperparameters": [{"C": 1.0}],
        "tags": [{"team": "nba"}],
        "description": ["fuzzed"],
        "parent": ["v1.0", None],
        "text": ["fuzz"],
        "order_by": [["version"]],
        "set_active": [False],
        "sticky": [False, True],
    }
    return st.sampled_from(by_name.get(name, [None]))


def arguments(world: World, tool: str, schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A call's arguments: each field plausible, hostile or left out, sometimes an unknown one."""
    fields = sorted(schema.get("properties", {}))
    required = set(schema.get("required", []))

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        # Half the calls are plausible but for one hostile field (so the core sees them); the
        # other half mix plausible, hostile and missing fields freely.
        one_bad = bool(fields) and draw(st.booleans())
        paths = [name for name in fields if name in PATH_FIELDS]
        bad = draw(st.sampled_from(fields + paths * 3)) if one_bad else None
        out: dict[str, Any] = {}
        for name in fields:
            if one_bad:
                choice = "hostile" if name == bad else draw(st.sampled_from(["plausible", "plausible", "absent"]))
            else:
                choice = draw(st.sampled_from(["plausible", "plausible", "hostile", "absent"]))
            if choice == "absent" and (name not in required or (not one_bad and draw(st.booleans()))):
                continue
            if choice == "hostile" and name in PATH_FIELDS:
                escape = st.just(ESCAPES[name])
                out[name] = draw(st.one_of(escape, escape, st.sampled_from(TRAVERSALS), junk))
            elif choice == "hostile":
                out[name] = draw(junk)
            else:
                out[name] = draw(plausible(world, tool, name))
        if draw(st.integers(0, 9)) == 0:
            out[draw(st.sampled_from(["zzz", "__class__", "model_id\x00"]))] = draw(junk)
        return out

    return build()


def snapshot(services: Services) -> tuple[Any, ...]:
    """Everything the registry store holds, to compare before and after a call."""
    store = services.registry.store
    page = store.search(SearchQuery(limit=500))
    versions = sorted((v.model_id, v.version, v.stage.value, v.parent and str(v.parent)) for v in page.items)
    history = [len(store.history(model.model_id)) for model in store.list_models()]
    return (tuple(versions), tuple(history), repr(sorted(store.load_deployments().items())))


def audit_seq(services: Services) -> int:
    entries = services.store.list_audit(limit=1)
    return entries[0].seq or 0 if entries else 0


@pytest.fixture
async def world(config: DeploymentConfig, nba: NbaModels, tmp_path: Path) -> AsyncIterator[World]:
    roots = make_roots(tmp_path, nba)
    services = build_services(
        config.replace(model_roots=(roots.models,), data_roots=(roots.data,), registry_sync_every_commit=False)
    )
    records = nba.records(200)
    async with Client(build_server(ServiceHost.ready_made(services))) as client:
        for version, uri, active in (("v1.0", "logistic.joblib", True), ("v2.0", "gb.skops", False)):
            call = {"model_id": M, "version": version, "model_uri": uri, "set_active": active}
            assert not (await client.call_tool("deploy_model", call)).is_error
            assert not (await client.call_tool("register_model", {"model_id": M, "version": version})).is_error
        served = await client.call_tool("predict", {"model_id": M, "inputs": records[:5]})
        assert served.structured_content is not None
        reference = {"model_id": M, "path": "reference.csv"}
        assert not (await client.call_tool("set_reference_data", reference)).is_error
        yield World(client, services, records, list(served.structured_content["prediction_ids"]))
    services.close()


def check_error(tool: str, text: str, schema: dict[str, Any], call: dict[str, Any]) -> None:
    body = text.removeprefix(f"Error executing tool {tool}: ")
    assert "internal error" not in body and body != f"Error executing tool {tool}", f"{tool} crashed on {call!r}"
    validation = "validation error" in body
    assert validation or body.startswith(CATEGORIES), f"{tool}: uncategorised error {text[:300]!r}"
    if validation or body.startswith("invalid argument"):
        names = [*schema.get("properties", {}), "records", "path", "inputs", "data"]
        assert any(name in body for name in names), f"{tool}: error names no field: {text[:300]!r}"


@pytest.mark.parametrize("tool", TOOLS)
async def test_fuzzed_calls_fail_cleanly_and_change_nothing(world: World, tool: str) -> None:
    schema = next(t for t in (await world.client.list_tools()).tools if t.name == tool).input_schema
    store = world.services.registry.store
    registered_before = {(v.model_id, v.version) for v in store.search(SearchQuery(limit=500)).items}
    made: set[tuple[str, str]] = set()
    calls: list[dict[str, Any]] = []

    async def call_tool(call: dict[str, Any]) -> Any:
        with anyio.fail_after(CALL_TIMEOUT_SEC):
            return await world.client.call_tool(tool, call)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def one_call(data: st.DataObject) -> None:
        call = data.draw(arguments(world, tool, schema), label="arguments")
        calls.append(call)
        before, seq = snapshot(world.services), audit_seq(world.services)
        result = anyio.from_thread.run(call_tool, call)
        after = snapshot(world.services)
        if result.is_error:
            check_error(tool, result.content[0].text, schema, call)
            assert after == before, f"failed {tool} changed the registry: {call!r}"
        elif tool != "register_model":  # it records a URI; the deploy on promotion confines it
            escaped = [name for name in PATH_FIELDS if call.get(name) in TRAVERSALS]
            assert not escaped, f"{tool} accepted a path outside its roots: {call!r}"
        else:
            made.add((result.structured_content["model_id"], result.structured_content["version"]))
        assert audit_seq(world.services) == seq + (1 if is_mutating(tool) else 0)

    # Hypothesis drives the calls from a worker thread; each call runs on this event loop.
    await anyio.to_thread.run_sync(one_call)
    assert len(calls) >= EXAMPLES
    registered = {(v.model_id, v.version) for v in store.search(SearchQuery(limit=500)).items}
    assert registered == registered_before | made
    answer = await world.client.call_tool("predict", {"model_id": M, "inputs": world.records[:3]})
    assert not answer.is_error, answer.content
    health = await world.client.call_tool("health_check", {})
    assert not health.is_error, health.content
