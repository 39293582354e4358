"""Application traffic over HTTP, beside MCP on the same port: the Open Inference Protocol (KServe
V2) and MLflow's scoring protocol, served by the same `ModelServingManager` as the `predict` tool.

    GET  /v2                                        server metadata                     (no token)
    GET  /v2/health/live | /v2/health/ready         probes                              (no token)
    GET  /v2/models/{model}[/versions/{version}]    metadata: versions, typed inputs/outputs  READ
    GET  /v2/models/{model}[/versions/{version}]/ready                                  READ
    POST /v2/models/{model}[/versions/{version}]/infer                                  READ
    POST /invocations                               the single deployed model           READ
    POST /v1/models/{model}[/versions/{version}]/invocations                            READ

Without a version, requests are routed like `predict`: the active version, the A/B split, and
sticky by the `x-request-key` header; a version in the path pins it. Every request goes through
`predict` (breaker, failover, metrics, monitor log, shadow), needs the READ permission of the
`predict` tool (`list_deployments` for metadata), and answers which version served (the body's
`model_version`, and an `x-model-version` header for both protocols).

Small requests run on the event loop, larger ones on a worker thread; when the model batches
(`set_batching`), a request waits for its batch without holding a thread (`predict_call.py`).
"""

import functools
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from nba_mcp_deploy import __version__
from nba_mcp_deploy.codecs import mlflow_scoring, open_inference
from nba_mcp_deploy.errors import DeployError, InvalidInputError
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.app import GatedServer
from nba_mcp_deploy.server.http_app import HttpAccess
from nba_mcp_deploy.server.http_errors import (
    BodyTooLargeError,
    ErrorStyle,
    ServiceUnavailableError,
    UnsupportedMediaError,
    error_response,
    json_response,
)
from nba_mcp_deploy.server.inference_targets import (
    check_outputs,
    described_version,
    feature_order,
    only_model,
    pinned_version,
)
from nba_mcp_deploy.server.predict_call import predict_without_blocking

if TYPE_CHECKING:
    from nba_mcp_deploy.serving.deployment import ModelRouting
    from nba_mcp_deploy.serving.manager import ModelServingManager
    from nba_mcp_deploy.serving.results import PredictionResult

SERVER_NAME = "nba-mcp-deploy"
REQUEST_KEY_HEADER = "x-request-key"
MAX_REQUEST_KEY = 256


def inference_routes(server: GatedServer, host: ServiceHost) -> list[BaseRoute]:
    """The routes, with the role checks of `server` (pass them to `build_http_app(routes=...)`)."""
    api = InferenceApi(host)
    read = HttpAccess.of(server).protect
    infer = read("predict", api.infer)
    invocations = read("predict", api.invocations)
    metadata = read("list_deployments", api.model_metadata)
    ready = read("list_deployments", api.model_ready)
    return [  # the inference routes first: the router tries routes in order
        Route("/v2/models/{model}/infer", infer, methods=["POST"]),
        Route("/invocations", invocations, methods=["POST"]),
        Route("/v1/models/{model}/invocations", invocations, methods=["POST"]),
        Route("/v2/models/{model}/versions/{version}/infer", infer, methods=["POST"]),
        Route("/v1/models/{model}/versions/{version}/invocations", invocations, methods=["POST"]),
        Route("/v2", api.server_metadata, methods=["GET"]),
        Route("/v2/health/live", api.live, methods=["GET"]),
        Route("/v2/health/ready", api.ready, methods=["GET"]),
        Route("/v2/models/{model}", metadata, methods=["GET"]),
        Route("/v2/models/{model}/versions/{version}", metadata, methods=["GET"]),
        Route("/v2/models/{model}/ready", ready, methods=["GET"]),
        Route("/v2/models/{model}/versions/{version}/ready", ready, methods=["GET"]),
    ]


Method = Callable[["InferenceApi", Request], Awaitable[Response]]


def answering(style: ErrorStyle) -> Callable[[Method], Method]:
    """Turn any error of the endpoint into the protocol's error response (see http_errors)."""

    def wrap(endpoint: Method) -> Method:
        @functools.wraps(endpoint)
        async def answered(self: "InferenceApi", request: Request) -> Response:
            try:
                return await endpoint(self, request)
            except Exception as exc:
                return error_response(exc, style)

        return answered

    return wrap


class InferenceApi:
    """The endpoints; each reads the services from the host (503 while they are starting)."""

    def __init__(self, host: ServiceHost) -> None:
        self._host = host
        self._max_bytes = host.config.max_payload_bytes
        # model -> (the routing snapshot, the columns any of its versions uses); snapshots are
        # replaced, never changed, so a cached entry is valid while it is the same object.
        self._columns: dict[str, tuple[ModelRouting, frozenset[str]]] = {}

    # -- probes and metadata ---------------------------------------------------------------

    async def server_metadata(self, _: Request) -> Response:
        return json_response({"name": SERVER_NAME, "version": __version__, "extensions": []})

    async def live(self, _: Request) -> Response:
        return json_response({"live": True})

    async def ready(self, _: Request) -> Response:
        try:
            self._manager()
        except ServiceUnavailableError as exc:
            return json_response({"ready": False, "reason": str(exc)}, 503, {"Retry-After": "1"})
        return json_response({"ready": True})

    @answering(ErrorStyle.OPEN_INFERENCE)
    async def model_metadata(self, request: Request) -> Response:
        model, version = _path(request)
        routing = self._manager().routing(model)
        served = described_version(routing, version)
        versions = [served.version] if version is not None else routing.sorted_versions()
        body = open_inference.model_metadata(model, versions, served.signature, platform=SERVER_NAME)
        body["parameters"] = {"described_version": served.version, "active_version": routing.active}
        return json_response(body)

    @answering(ErrorStyle.OPEN_INFERENCE)
    async def model_ready(self, request: Request) -> Response:
        # Imported here: they bring NumPy, which the server does not need until it serves.
        from nba_mcp_deploy.serving.breaker import BreakerState
        from nba_mcp_deploy.serving.results import HealthStatus

        model, version = _path(request)
        manager = self._manager()
        routing = manager.routing(model)
        if version is not None:
            state = pinned_version(routing, version).breaker.state
            ready, reason = state is not BreakerState.OPEN, f"breaker {state.value}"
        else:
            health = manager.health_check(model).models[0]
            ready, reason = health.ready and health.status is not HealthStatus.UNHEALTHY, "; ".join(health.reasons)
        body: dict[str, Any] = {"name": model, "ready": ready}
        if not ready:
            body["reason"] = reason
        return json_response(body, 200 if ready else 503)

    # -- inference -------------------------------------------------------------------------

    @answering(ErrorStyle.OPEN_INFERENCE)
    async def infer(self, request: Request) -> Response:
        model, version = _path(request)
        manager = self._manager()
        routing = manager.routing(model)  # an unknown model is a 404 before the body is read
        decoded = open_inference.decode_infer_request(
            _json(await self._body(request)), lambda: feature_order(routing, version)
        )
        if decoded.outputs is not None:
            check_outputs(routing, version, decoded.outputs)
        result = await predict_without_blocking(manager, model, decoded.records, version, _request_key(request))
        body = open_inference.encode_infer_response(
            result, model_name=model, request_id=decoded.request_id, outputs=decoded.outputs
        )
        return json_response(body, headers=_served_headers(result))

    @answering(ErrorStyle.MLFLOW)
    async def invocations(self, request: Request) -> Response:
        model, version = _path(request)
        manager = self._manager()
        if model is None:
            model = only_model(manager)
        routing = manager.routing(model)
        if version is not None:
            pinned_version(routing, version)
        raw = await self._body(request)
        media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if media == "text/csv":
            records = mlflow_scoring.decode_csv(_text(raw), self._used_columns(routing))
        elif media in ("application/json", ""):
            records = mlflow_scoring.decode_scoring_request(_json(raw))
        else:
            raise UnsupportedMediaError(
                f"content type {media!r} is not read here; send application/json ({', '.join(mlflow_scoring.FORMATS)}) "
                "or text/csv"
            )
        records = mlflow_scoring.drop_unused_columns(records, self._used_columns(routing))
        result = await predict_without_blocking(manager, model, records, version, _request_key(request))
        return json_response(mlflow_scoring.encode_predictions(result), headers=_served_headers(result))

    # -- plumbing --------------------------------------------------------------------------

    def _manager(self) -> "ModelServingManager":
        if not self._host.is_ready():
            raise ServiceUnavailableError("the server is still starting; retry shortly")
        try:
            return self._host.services(timeout=0).manager
        except DeployError as exc:
            raise ServiceUnavailableError(str(exc)) from exc

    def _used_columns(self, routing: "ModelRouting") -> frozenset[str]:
        cached = self._columns.get(routing.model_id)
        if cached is not None and cached[0] is routing:
            return cached[1]
        used = frozenset(name for served in routing.versions.values() for name in served.model.feature_names)
        self._columns[routing.model_id] = (routing, used)
        return used

    async def _body(self, request: Request) -> bytes:
        """The body, at most `max_payload_bytes` (a declared larger one was refused before this)."""
        if "content-length" in request.headers:
            return await request.body()
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self._max_bytes:
                raise BodyTooLargeError(
                    f"request body exceeds the limit of {self._max_bytes} bytes (NBA_MCP_MAX_PAYLOAD_BYTES); "
                    "send fewer rows per request"
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _path(request: Request) -> tuple[Any, str | None]:
    params = request.path_params
    return params.get("model"), params.get("version")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError("body", raw[:80].decode("utf-8", "replace"), f"expected JSON ({exc})") from None


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError("body", raw[:80], f"expected UTF-8 text ({exc})") from None


def _request_key(request: Request) -> str | None:
    key = request.headers.get(REQUEST_KEY_HEADER)
    if key is not None and not 1 <= len(key) <= MAX_REQUEST_KEY:
        raise InvalidInputError(REQUEST_KEY_HEADER, key, f"a sticky routing key of 1 to {MAX_REQUEST_KEY} characters")
    return key


def _served_headers(result: "PredictionResult") -> dict[str, str]:
    return {"x-model-version": result.version, "x-request-id": result.request_id}
