"""Three server replicas over streamable HTTP sharing one PostgreSQL database, driven like an agent
behind a load balancer would drive them: a change made on one is served by the others within the
bound, a replica killed with SIGKILL loses nothing, a new one joins serving the current
deployment, and promotions racing on different replicas leave exactly one production version."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client import Client
from tools.local_postgres import LocalPostgres

from nba_mcp_deploy.access.tokens import add_token
from nba_mcp_deploy.replicas.traffic import fleet_counts
from nba_mcp_deploy.stores.postgres import PostgresRegistryStore
from tests.conftest import NbaModels
from tests.postgres import url_for
from tests.replicas.cluster import Cluster, Replica
from tests.server.http_server import connect
from tests.waiting import wait_until

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

POLL_SEC = 1.0  # the default NBA_MCP_CONTROL_POLL_SEC: the bound these tests hold the replicas to
BOUND_SEC = POLL_SEC + 1.0  # plus one poll query, one HTTP round trip and a busy machine's slack
FLUSH_SEC = 0.3
REFERENCE_CSV = Path(__file__).resolve().parents[2] / "data" / "raptor" / "modern_RAPTOR_by_player.csv"


@dataclass
class Deployment:
    cluster: Cluster
    token: str
    url: str
    records: list[dict[str, float]]

    @property
    def replicas(self) -> list[Replica]:
        return self.cluster.replicas


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, postgres: LocalPostgres, nba: NbaModels
) -> Iterator[Deployment]:
    workdir = tmp_path_factory.mktemp("replicas")
    (workdir / "models").mkdir()
    (workdir / "data").mkdir()
    shutil.copy(nba.skops_file, workdir / "models" / "gb.skops")
    shutil.copy(nba.joblib_file, workdir / "models" / "logistic.joblib")
    shutil.copy(REFERENCE_CSV, workdir / "data" / "reference.csv")
    token = add_token(workdir / "tokens", "alice", "admin")
    url = url_for(workdir)
    env = {
        "NBA_MCP_REGISTRY_URL": url,
        "NBA_MCP_AUTH_TOKENS_FILE": str(workdir / "tokens"),
        "NBA_MCP_TRAFFIC_FLUSH_SEC": str(FLUSH_SEC),
        "NBA_MCP_LOG_LEVEL": "WARNING",
    }
    cluster = Cluster(workdir, env)
    try:
        for name in ("r1", "r2", "r3"):
            cluster.start(name)
        yield Deployment(cluster, token, url, nba.records(5))
    finally:
        cluster.close()


async def call(client: Client, tool: str, **arguments: Any) -> Any:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
    return result.structured_content


async def clients(stack: AsyncExitStack, deployment: Deployment) -> list[Client]:
    return [await stack.enter_async_context(connect(r.server, deployment.token)) for r in deployment.replicas]


async def two_versions_everywhere(replicas: list[Client], model_id: str) -> None:
    """Deploy v1.0 (active) and v2.0 on the first replica, then wait until every replica serves both
    (loading models on every replica is not part of the bound)."""
    await call(replicas[0], "deploy_model", model_id=model_id, version="v1.0", model_uri="gb.skops")
    await call(
        replicas[0], "deploy_model", model_id=model_id, version="v2.0", model_uri="logistic.joblib", set_active=False
    )
    versions = {"v1.0", "v2.0"}

    async def check() -> bool:
        for client in replicas:
            found = (await call(client, "list_deployments"))["deployments"]
            names = {v["version"] for d in found if d["model_id"] == model_id for v in d["versions"]}
            if names != versions:
                return False
        return True

    await wait_until(check, 90)


async def test_an_ab_change_made_on_one_replica_is_served_by_the_other_two_within_the_bound(deployment):
    record = deployment.records[:1]
    async with AsyncExitStack() as stack:
        r1, r2, r3 = await clients(stack, deployment)
        await two_versions_everywhere([r1, r2, r3], "ab")
        for client in (r2, r3):
            assert (await call(client, "predict", model_id="ab", inputs=record))["version"] == "v1.0"

        await call(r1, "setup_ab_test", model_id="ab", versions=["v1.0", "v2.0"], weights=[0.0, 1.0])
        changed_at = time.monotonic()
        waits = {}
        for name, client in (("r2", r2), ("r3", r3)):

            async def served_by_split(client: Client = client) -> bool:
                answer = await call(client, "predict", model_id="ab", inputs=record)
                return bool(answer["ab_test"] and answer["version"] == "v2.0")

            await wait_until(served_by_split, 10)
            waits[name] = time.monotonic() - changed_at
        assert max(waits.values()) <= BOUND_SEC, waits

        healths = [await call(client, "health_check", model_id="ab") for client in (r1, r2, r3)]
        assert [h["replica_id"] for h in healths] == ["r1", "r2", "r3"]
        assert all(h["models"][0]["ab_test"]["versions"] == ["v1.0", "v2.0"] for h in healths)


async def test_a_replica_killed_with_sigkill_loses_nothing_and_a_new_one_serves_the_current_deployment(deployment):
    record = deployment.records[:1]
    async with AsyncExitStack() as stack:
        r1, r2, r3 = await clients(stack, deployment)
        await two_versions_everywhere([r1, r2, r3], "kill")
        # The replica about to die serves traffic and makes the last control change.
        for _ in range(20):
            await call(r3, "predict", model_id="kill", inputs=record, version="v1.0")
        await call(r3, "setup_ab_test", model_id="kill", versions=["v1.0", "v2.0"], weights=[0.7, 0.3], sticky=True)
        reference = await call(r3, "set_reference_data", model_id="kill", path="reference.csv")
        await anyio.sleep(FLUSH_SEC * 3)  # its counters reach the store
    deployment.replicas[2].kill()
    del deployment.replicas[2]

    store = PostgresRegistryStore(deployment.url)
    try:
        saved = store.deployment_records()["kill"]
        assert saved.updated_by == "r3"
        assert saved.document["split"] == {"versions": ["v1.0", "v2.0"], "weights": [0.7, 0.3], "sticky": True}
        counted = {row.replica_id: row.counters["requests"] for row in store.load_traffic("kill", ["v1.0"])}
        assert counted == {"r3": 20}  # what it served is still counted after its death
        assert fleet_counts(store, "kill")["v1.0"].requests == 20
    finally:
        store.close()

    joined = deployment.cluster.start("r4")  # ready = it has loaded the saved routing
    async with AsyncExitStack() as stack:
        r1, r2, r4 = await clients(stack, deployment)
        assert deployment.replicas[2] is joined
        views = []
        for client in (r1, r2, r4):
            found = (await call(client, "list_deployments"))["deployments"]
            (kill,) = [d for d in found if d["model_id"] == "kill"]
            views.append((kill["active_version"], kill["ab_test"], sorted(v["version"] for v in kill["versions"])))
        assert views[0] == views[1] == views[2]
        assert views[2][0] == "v1.0" and views[2][1]["weights"] == [0.7, 0.3]
        # The same sticky key lands on the same version on every replica.
        served = {
            (await call(client, "predict", model_id="kill", inputs=record, request_key="game-42"))["version"]
            for client in (r1, r2, r4)
        }
        assert len(served) == 1
        # The reference data r3 was given by path is loaded on the replica that joined after it died.
        drift = await r4.call_tool(
            "detect_drift", {"model_id": "kill", "current_path": "reference.csv", "features": ["poss", "mp"]}
        )
        assert not drift.is_error, drift.content[0].text  # type: ignore[union-attr]
        assert drift.structured_content["reference_rows"] == reference["rows"]


async def test_promotions_racing_on_three_replicas_leave_exactly_one_production_version(deployment):
    versions = [f"v{i}.0" for i in range(1, 10)]
    async with AsyncExitStack() as stack:
        replicas = await clients(stack, deployment)
        for version in versions:
            await call(replicas[0], "register_model", model_id="race", version=version, stage="staging")
        outcomes: dict[str, bool] = {}

        async def promote(index: int, version: str) -> None:
            result = await replicas[index % 3].call_tool(
                "promote_model", {"model_id": "race", "version": version, "target_stage": "production"}
            )
            outcomes[version] = not result.is_error

        async with anyio.create_task_group() as group:
            for index, version in enumerate(versions):
                group.start_soon(promote, index, version)
        assert any(outcomes.values())
        answers = [await call(client, "search_models", model_id="race", stage=["production"]) for client in replicas]
    productions = [[v["version"] for v in answer["items"]] for answer in answers]
    assert all(len(found) == 1 for found in productions), productions
    assert productions[0] == productions[1] == productions[2]
    store = PostgresRegistryStore(deployment.url)
    try:
        history = store.history("race")
    finally:
        store.close()
    promoted = [c.version for c in history if c.to_stage is not None and c.to_stage.value == "production"]
    assert len(promoted) == sum(outcomes.values())
    assert promoted[-1] == productions[0][0]
