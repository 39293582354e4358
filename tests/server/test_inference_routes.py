"""The inference routes in process (ASGI): what they answer while the services are still starting,
and how their responses are counted by route."""

from __future__ import annotations

import threading

import httpx2
import pytest

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.app import build_server
from nba_mcp_deploy.server.http_app import build_http_app
from nba_mcp_deploy.server.inference_routes import inference_routes
from nba_mcp_deploy.services import Services, build_services
from tests.conftest import NbaModels

pytestmark = pytest.mark.anyio


async def test_503_with_retry_after_until_the_services_have_started(config: DeploymentConfig, nba: NbaModels) -> None:
    release = threading.Event()

    def slow_start() -> Services:
        release.wait(30)
        return build_services(config)

    host = ServiceHost(config, factory=slow_start)
    server = build_server(host)
    app = build_http_app(server, host, bind_host="127.0.0.1", routes=inference_routes(server, host))
    host.start()
    record = nba.records(1)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://t") as http:
        starting = await http.post("/v1/models/m/invocations", json={"dataframe_records": record})
        assert starting.status_code == 503 and starting.headers["retry-after"] == "1"
        assert starting.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
        assert (await http.get("/v2/health/ready")).status_code == 503
        assert (await http.get("/v2/health/live")).json() == {"live": True}
        release.set()
        host.services(timeout=30)
        host.services().manager.deploy_model("m", "v1.0", model_uri=str(nba.mlflow_dir))
        served = await http.post("/v1/models/m/invocations", json={"dataframe_records": record})
        assert served.status_code == 200 and served.headers["x-model-version"] == "v1.0"
        assert (await http.get("/v2/health/ready")).json() == {"ready": True}
        await http.get("/v2/nowhere")
        metrics = (await http.get("/metrics")).text
    host.close()
    assert 'route="/v1/models/{model}/invocations",status="503"' in metrics
    assert 'route="/v1/models/{model}/invocations",status="200"' in metrics
    assert 'route="other",status="404"' in metrics
