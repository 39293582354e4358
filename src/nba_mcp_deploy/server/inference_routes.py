"""Application traffic over HTTP, beside MCP on the same port: the Open Inference Protocol (KServe
V2) and MLflow's scoring protocol, served by the same `ModelServingManager` as the `predict` tool.

    GET  /v2                                        server metadata                     (no token)
    GET  /v2/health/live | /v2/health/ready         probes                              (no token)
    GET  /ping | /health | /version                 MLflow's container probes           (no token)
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

Every route asks the one `InferencePlane` the gRPC service asks too. OIP bodies may be JSON or use
the binary-data extension; any body may be gzip or deflate, and responses are compressed when the
client accepts it (`http_encoding.py`). Errors are JSON in the protocol's own shape (http_errors).
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
from nba_mcp_deploy.codecs.open_inference_binary import (
    HEADER_LENGTH,
    MEDIA_TYPE,
    encode_binary_response,
    split_body,
)
from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.app import GatedServer
from nba_mcp_deploy.server.http_app import HttpAccess
from nba_mcp_deploy.server.http_encoding import compressed, read_body
from nba_mcp_deploy.server.http_errors import ErrorStyle, UnsupportedMediaError, error_response, json_response
from nba_mcp_deploy.server.inference_plane import InferencePlane

if TYPE_CHECKING:
    from nba_mcp_deploy.serving.results import PredictionResult

REQUEST_KEY_HEADER = "x-request-key"
MAX_REQUEST_KEY = 256
# What an OIP body may be sent as: JSON, or JSON and raw tensors (the binary-data extension),
# or undeclared (tritonclient sends no type, curl -d a form type). Anything else is 415.
OIP_MEDIA_TYPES = ("application/json", MEDIA_TYPE, "", "application/x-www-form-urlencoded")
# MLflow's scoring server reads these, and refuses other types, charsets and parameters with 415.
CSV_MEDIA_TYPE = "text/csv"
JSON_MEDIA_TYPE = "application/json"
PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
MLFLOW_MEDIA_TYPES = (JSON_MEDIA_TYPE, CSV_MEDIA_TYPE, PARQUET_MEDIA_TYPE)


def inference_routes(server: GatedServer, host: ServiceHost, plane: InferencePlane | None = None) -> list[BaseRoute]:
    """The routes, with the role checks of `server` (pass them to `build_http_app(routes=...)`)."""
    api = InferenceApi(plane or InferencePlane(host), host.config.max_payload_bytes)
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
        Route("/ping", api.ping, methods=["GET"]),
        Route("/health", api.ping, methods=["GET"]),
        Route("/version", api.version, methods=["GET"]),
        Route("/v2/models/{model}", metadata, methods=["GET"]),
        Route("/v2/models/{model}/versions/{version}", metadata, methods=["GET"]),
        Route("/v2/models/{model}/ready", ready, methods=["GET"]),
        Route("/v2/models/{model}/versions/{version}/ready", ready, methods=["GET"]),
    ]


Method = Callable[["InferenceApi", Request], Awaitable[Response]]


def answering(style: ErrorStyle) -> Callable[[Method], Method]:
    """Turn any error of the endpoint into the protocol's error response (see http_errors), and
    compress the answer when the client accepts it."""

    def wrap(endpoint: Method) -> Method:
        @functools.wraps(endpoint)
        async def answered(self: "InferenceApi", request: Request) -> Response:
            try:
                response = await endpoint(self, request)
            except Exception as exc:
                response = error_response(exc, style)
            return compressed(response, request.headers.get("accept-encoding"))

        return answered

    return wrap


class InferenceApi:
    """The REST endpoints over the data plane."""

    def __init__(self, plane: InferencePlane, max_bytes: int) -> None:
        self._plane = plane
        self._max_bytes = max_bytes

    # -- probes and metadata ---------------------------------------------------------------

    async def server_metadata(self, _: Request) -> Response:
        return json_response(self._plane.server_metadata())

    async def live(self, _: Request) -> Response:
        return json_response({"live": True})

    async def ready(self, _: Request) -> Response:
        state = self._plane.server_ready()
        if not state.ready:
            return json_response({"ready": False, "reason": state.reason}, 503, {"Retry-After": "1"})
        return json_response({"ready": True})

    async def ping(self, _: Request) -> Response:
        """MLflow's container probe (`/ping`, `/health`): 200 with an empty JSON line once ready."""
        state = self._plane.server_ready()
        if not state.ready:
            return json_response({"ready": False, "reason": state.reason}, 503, {"Retry-After": "1"})
        return Response("\n", media_type=JSON_MEDIA_TYPE)

    async def version(self, _: Request) -> Response:
        return Response(__version__, media_type=JSON_MEDIA_TYPE)

    @answering(ErrorStyle.OPEN_INFERENCE)
    async def model_metadata(self, request: Request) -> Response:
        model, version = _path(request)
        return json_response(self._plane.model_metadata(model, version))

    @answering(ErrorStyle.OPEN_INFERENCE)
    async def model_ready(self, request: Request) -> Response:
        model, version = _path(request)
        state = self._plane.model_ready(model, version)
        body: dict[str, Any] = {"name": model, "ready": state.ready}
        if not state.ready:
            body["reason"] = state.reason
        return json_response(body, 200 if state.ready else 503)

    # -- inference -------------------------------------------------------------------------

    @answering(ErrorStyle.OPEN_INFERENCE)
    async def infer(self, request: Request) -> Response:
        model, version = _path(request)
        raw = await read_body(request, self._max_bytes)
        media = _media_type(request)
        if media not in OIP_MEDIA_TYPES:
            raise UnsupportedMediaError(
                f"content type {media!r} is not read here; send application/json, or {MEDIA_TYPE} with the "
                f"{HEADER_LENGTH} header (the binary-data extension)"
            )
        header, binary = split_body(raw, request.headers.get(HEADER_LENGTH))
        body = _json(header)
        decoded, result = await self._plane.infer(
            model,
            version,
            lambda order: open_inference.decode_infer_request(body, order, binary),
            _request_key(request),
        )
        response = open_inference.encode_infer_response(
            result, model_name=model, request_id=decoded.request_id, outputs=decoded.outputs
        )
        headers = _served_headers(result)
        if not decoded.binary:
            return json_response(response, headers=headers)
        content, length = encode_binary_response(response, decoded.binary)
        return Response(content, headers={**headers, HEADER_LENGTH: str(length)}, media_type=MEDIA_TYPE)

    @answering(ErrorStyle.MLFLOW)
    async def invocations(self, request: Request) -> Response:
        model, version = _path(request)
        raw = await read_body(request, self._max_bytes)  # a body over the limit is a 413 whatever its type
        media = _mlflow_media_type(request.headers.get("content-type"))

        def decode(used: frozenset[str]) -> list[dict[str, Any]]:
            if media == CSV_MEDIA_TYPE:
                records = mlflow_scoring.decode_csv(_text(raw), used)
            elif media == PARQUET_MEDIA_TYPE:
                records = mlflow_scoring.decode_parquet(raw)
            else:
                records = mlflow_scoring.decode_scoring_request(_json(raw))
            return mlflow_scoring.coerce_numbers(mlflow_scoring.drop_unused_columns(records, used), used)

        result = await self._plane.invocations(model, version, decode, _request_key(request))
        return json_response(mlflow_scoring.encode_predictions(result), headers=_served_headers(result))


def _path(request: Request) -> tuple[Any, str | None]:
    params = request.path_params
    return params.get("model"), params.get("version")


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _mlflow_media_type(content_type: str | None) -> str:
    """The media type of a scoring request, refused (415) as `mlflow models serve` refuses it:
    none given, another type, a charset other than UTF-8, or any other parameter."""
    allowed = f"send Content-Type {', '.join(MLFLOW_MEDIA_TYPES)} (UTF-8)"
    if content_type is None:
        raise UnsupportedMediaError(f"no Content-Type: {allowed}")
    media, *parameters = (part.strip() for part in content_type.split(";"))
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() != "charset" or value.strip().strip('"').lower() != "utf-8":
            raise UnsupportedMediaError(f"content type parameter {parameter!r} is not read here; {allowed}")
    if media.lower() not in MLFLOW_MEDIA_TYPES:
        raise UnsupportedMediaError(f"content type {media!r} is not read here; {allowed}")
    return media.lower()


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
    check_request_key(key)
    return key


def check_request_key(key: str | None) -> None:
    """A sticky routing key: 1 to MAX_REQUEST_KEY characters (any protocol's header or metadata)."""
    if key is not None and not 1 <= len(key) <= MAX_REQUEST_KEY:
        raise InvalidInputError(REQUEST_KEY_HEADER, key, f"a sticky routing key of 1 to {MAX_REQUEST_KEY} characters")


def _served_headers(result: "PredictionResult") -> dict[str, str]:
    return {"x-model-version": result.version, "x-request-id": result.request_id}
