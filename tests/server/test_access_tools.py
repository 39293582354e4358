"""Access control through the real MCP client (in memory): the permission table covers every
tool, the local role (stdio) is enforced before arguments are read, refused calls change
nothing, and every mutating call leaves one audit entry that `get_audit_log` returns."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client

from nba_mcp_deploy.access import OPERATIONS, Role, is_mutating, permission_for
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import ConflictError
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.app import build_server
from nba_mcp_deploy.services import build_services
from tests.conftest import NbaModels
from tests.server.conftest import Agent
from tests.server.roots import make_roots

pytestmark = pytest.mark.anyio

M = "m"
OpenAgent = Callable[[str], AbstractAsyncContextManager[Agent]]


@pytest.fixture
def open_agent(config: DeploymentConfig, nba: NbaModels, tmp_path: Path) -> OpenAgent:
    """Opens a server whose local caller has the given role, over one registry."""
    roots = make_roots(tmp_path, nba)
    base = config.replace(model_roots=(roots.models,), data_roots=(roots.data,), registry_sync_every_commit=False)

    @asynccontextmanager
    async def open_(role: str) -> AsyncIterator[Agent]:
        services = build_services(base.replace(role=role))
        try:
            async with Client(build_server(ServiceHost.ready_made(services))) as client:
                yield Agent(client, services)
        finally:
            services.close()

    return open_


async def seeded(agent: Agent, records: list[dict[str, float]]) -> list[str]:
    """A deployed model in two versions, two registered versions and served predictions."""
    await agent.ok("deploy_model", model_id=M, version="v1.0", model_uri="logistic.joblib")
    await agent.ok("deploy_model", model_id=M, version="v2.0", model_uri="gb.skops", set_active=False)
    await agent.ok("register_model", model_id=M, version="v1.0", stage="staging", model_uri="logistic.joblib")
    await agent.ok("register_model", model_id=M, version="v2.0", stage="staging", model_uri="gb.skops")
    served = await agent.ok("predict", model_id=M, inputs=records)
    return list(served["prediction_ids"])


def state(agent: Agent) -> tuple[Any, ...]:
    store = agent.services.registry.store
    versions = [(v.version, v.stage.value) for v in store.list_versions(M)]
    return (versions, store.history(M), store.load_deployments(), agent.services.manager.list_deployments())


async def test_every_registered_tool_has_a_permission_entry(open_agent: OpenAgent) -> None:
    async with open_agent("admin") as agent:
        tools = (await agent.client.list_tools()).tools
    missing = sorted(t.name for t in tools if t.name not in OPERATIONS)
    assert not missing, f"add these tools to access/policy.py OPERATIONS: {missing}"
    for tool in tools:
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is (not is_mutating(tool.name)), tool.name
        assert tool.description is not None
        assert tool.description.splitlines()[-1].startswith(f"Needs the {OPERATIONS[tool.name].permission.value}")


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
async def test_the_local_role_is_enforced_before_the_arguments_are_read(open_agent: OpenAgent, role: str) -> None:
    async with open_agent(role) as agent:
        tools = sorted(t.name for t in (await agent.client.list_tools()).tools)
        allowed = Role(role).permissions
        for tool in tools:
            result = await agent.client.call_tool(tool, {"model_id": 42})  # invalid for every tool
            text = result.content[0].text  # type: ignore[union-attr]
            needed = permission_for(tool, {"model_id": 42})
            if needed in allowed:
                assert not text.startswith("permission denied"), (role, tool, text)
            else:
                assert result.is_error
                assert text.startswith(f"permission denied: {tool} needs the {needed.value} permission"), text
                assert f"role '{role}'" in text


async def test_a_call_before_any_listing_passes_the_access_gate(config: DeploymentConfig) -> None:
    # As a client that calls a tool it knows without listing first; the services are still to start.
    host = ServiceHost(config.replace(role="viewer"))
    try:
        async with Client(build_server(host)) as client:
            denied = await client.call_tool("register_model", {"model_id": "m", "version": "v1.0"})
        assert denied.is_error
        assert denied.content[0].text.startswith(  # type: ignore[union-attr]
            "permission denied: register_model needs the WRITE permission"
        )
        assert [e.tool for e in host.services().registry.store.list_audit()] == ["register_model"]
    finally:
        host.close()


async def test_refused_calls_change_nothing_and_are_audited(open_agent: OpenAgent, nba: NbaModels) -> None:
    async with open_agent("admin") as admin:
        ids = await seeded(admin, nba.records(3))
    calls: dict[str, dict[str, Any]] = {
        "deploy_model": {"model_id": M, "version": "v3.0", "model_uri": "logistic.joblib"},
        "register_model": {"model_id": M, "version": "v3.0"},
        "setup_ab_test": {"model_id": M, "versions": ["v1.0", "v2.0"], "weights": [0.5, 0.5]},
        "setup_shadow": {"model_id": M, "version": "v2.0"},
        "set_active_version": {"model_id": M, "version": "v2.0"},
        "promote_model": {"model_id": M, "version": "v1.0", "target_stage": "production"},
        "rollback_model": {"model_id": M},
        "retire_model": {"model_id": M, "version": "v2.0"},
        "reset_circuit_breaker": {"model_id": M, "version": "v1.0"},
        "set_reference_data": {"model_id": M, "path": "reference.csv"},
        "log_actuals": {"model_id": M, "actuals": {ids[0]: 1.0}},
    }
    async with open_agent("viewer") as viewer:
        before = state(viewer)
        for tool, arguments in calls.items():
            text = await viewer.error(tool, **arguments)
            assert text.startswith(f"permission denied: {tool} needs the"), text
        assert state(viewer) == before
        with pytest.raises(ConflictError, match="no reference data"):
            viewer.services.monitoring.monitor(M).reference()
        entries = viewer.services.store.list_audit(limit=len(calls))
    assert [e.tool for e in entries] == list(reversed(calls))
    for entry in entries:
        assert (entry.caller, entry.role, entry.outcome) == ("local", "viewer", "error")
        assert entry.error_category == "permission denied" and entry.model_id == M


async def test_an_operator_promotes_to_staging_but_not_to_production(open_agent: OpenAgent, nba: NbaModels) -> None:
    async with open_agent("admin") as admin:
        await seeded(admin, nba.records(1))
    async with open_agent("operator") as operator:
        await operator.ok("promote_model", model_id=M, version="v1.0", target_stage="development")
        await operator.ok("promote_model", model_id=M, version="v1.0", target_stage="staging")
        text = await operator.error("promote_model", model_id=M, version="v1.0", target_stage="production")
        assert "promote_model needs the ADMIN permission" in text
        text = await operator.error("promote_model", model_id=M, version="v1.0", target_stage="archived", force=True)
        assert "promote_model needs the ADMIN permission" in text
        assert operator.services.registry.get_model(M, version="v1.0").stage.value == "staging"
        await operator.ok("deploy_model", model_id=M, version="v3.0", model_uri="logistic.joblib", set_active=False)
        assert "retire_model needs the ADMIN" in await operator.error("retire_model", model_id=M, version="v3.0")


def valid_calls(ids: list[str], records: list[dict[str, float]]) -> list[tuple[str, dict[str, Any]]]:
    """One successful call of every mutating tool we know, in an order in which each one works."""
    return [
        ("deploy_model", {"model_id": M, "version": "v3.0", "model_uri": "logistic.joblib", "set_active": False}),
        ("register_model", {"model_id": M, "version": "v3.0", "metrics": {"accuracy": 0.7}}),
        ("setup_ab_test", {"model_id": M, "versions": ["v1.0", "v2.0"], "weights": [0.9, 0.1]}),
        ("clear_ab_test", {"model_id": M}),
        ("setup_shadow", {"model_id": M, "version": "v2.0", "fraction": 0.5}),
        ("clear_shadow", {"model_id": M}),
        ("set_active_version", {"model_id": M, "version": "v2.0"}),
        ("set_active_version", {"model_id": M, "version": "v1.0"}),
        ("retire_model", {"model_id": M, "version": "v3.0"}),
        ("reset_circuit_breaker", {"model_id": M, "version": "v1.0"}),
        ("promote_model", {"model_id": M, "version": "v1.0", "target_stage": "production"}),
        ("promote_model", {"model_id": M, "version": "v2.0", "target_stage": "production"}),
        ("rollback_model", {"model_id": M}),
        ("set_reference_data", {"model_id": M, "records": records}),
        ("log_actuals", {"model_id": M, "actuals": {i: 1.0 for i in ids}}),
    ]


async def test_every_mutating_tool_leaves_one_audit_entry(open_agent: OpenAgent, nba: NbaModels) -> None:
    records = nba.records(300)
    async with open_agent("admin") as agent:
        ids = await seeded(agent, records[:40])
        calls = valid_calls(ids, records)
        tools = {t.name for t in (await agent.client.list_tools()).tools}
        mutating = sorted(t for t in tools if is_mutating(t))
        unknown = [t for t in mutating if t not in {name for name, _ in calls}]
        start = agent.services.store.list_audit(limit=1)[0].seq
        for tool, arguments in calls:
            await agent.ok(tool, **arguments)
        for tool in unknown:  # added by other work: called without arguments, audited as failed
            await agent.client.call_tool(tool, {})
        await agent.ok("predict", model_id=M, inputs=records[:2])  # reads are not audited
        log = await agent.ok("get_audit_log", limit=1000)
    entries = [e for e in log["entries"] if e["seq"] > start]
    assert [e["tool"] for e in reversed(entries)] == [name for name, _ in calls] + unknown
    assert set(mutating) <= {e["tool"] for e in entries}
    for entry, (tool, arguments) in zip(reversed(entries), calls, strict=False):
        assert set(entry["arguments"]) == set(arguments)
        assert (entry["caller"], entry["role"], entry["outcome"], entry["model_id"]) == ("local", "admin", "ok", M)
        assert entry["error_category"] is None and entry["duration_ms"] >= 0
        assert entry["tool"] == tool and entry["arguments"]["model_id"] == M
    by_tool = {e["tool"]: e for e in entries}
    assert by_tool["set_reference_data"]["arguments"]["records"] == "<list of 300 items>"
    assert by_tool["log_actuals"]["arguments"]["actuals"] == f"<mapping of {len(ids)} entries>"
    assert by_tool["setup_ab_test"]["arguments"]["weights"] == [0.9, 0.1]


async def test_a_failed_mutating_call_is_audited_with_its_category(open_agent: OpenAgent) -> None:
    async with open_agent("admin") as agent:
        await agent.error("deploy_model", model_id=M, version="v1.0", model_uri="missing.joblib")
        await agent.error("deploy_model", model_id=M, version="1.0", model_uri="logistic.joblib")
        await agent.error("retire_model", model_id="ghost", version="v1.0")
        entries = (await agent.ok("get_audit_log", model_id=M))["entries"]
        ghost = (await agent.ok("get_audit_log", model_id="ghost"))["entries"]
    assert [e["error_category"] for e in entries] == ["invalid argument", "not found"]
    assert "version" in entries[0]["message"] and "missing.joblib" in entries[1]["message"]
    assert [(e["tool"], e["outcome"], e["error_category"]) for e in ghost] == [("retire_model", "error", "not found")]


async def test_get_audit_log_filters_and_refuses_bad_arguments(open_agent: OpenAgent) -> None:
    async with open_agent("admin") as agent:
        for version in ("v1.0", "v2.0", "v3.0"):
            await agent.ok("register_model", model_id=M, version=version)
        await agent.ok("register_model", model_id="other", version="v1.0")
        everything = (await agent.ok("get_audit_log"))["entries"]
        assert [e["model_id"] for e in everything] == ["other", M, M, M]
        middle = everything[2]["at"]
        assert len((await agent.ok("get_audit_log", since=middle))["entries"]) == 3
        assert len((await agent.ok("get_audit_log", model_id=M, limit=2))["entries"]) == 2
        for arguments, field in (
            ({"limit": 0}, "limit"),
            ({"limit": 5000}, "limit"),
            ({"since": -1}, "since"),
            ({"model_id": "../etc"}, "model_id"),
        ):
            assert field in await agent.error("get_audit_log", **arguments)
        assert everything[0]["arguments"] == {"model_id": "other", "version": "v1.0"}
        history = agent.services.registry.get_history(M)
        assert {change.actor for change in history} == {"local"}


async def test_a_tool_without_an_entry_is_refused_and_an_unknown_one_is_just_unknown(
    config: DeploymentConfig,
) -> None:
    services = build_services(config)
    server = build_server(ServiceHost.ready_made(services))
    ran: list[str] = []

    @server.tool()
    def sneaky_tool() -> str:
        """Added without a permission entry."""
        ran.append("ran")
        return "done"

    try:
        async with Client(server) as client:
            agent = Agent(client, services)
            text = await agent.error("sneaky_tool")
            assert "no entry in the permission table" in text and ran == []
            unknown = await agent.error("no_such_tool")
            assert "Unknown tool: no_such_tool" in unknown
        assert [e.tool for e in services.store.list_audit()] == ["sneaky_tool"]
    finally:
        services.close()
