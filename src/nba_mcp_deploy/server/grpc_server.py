"""The Open Inference Protocol over gRPC: `inference.GRPCInferenceService` on `--grpc-port`, in the
same process and event loop as HTTP, over the same `InferencePlane` as the REST routes.

    ServerLive · ServerReady · ServerMetadata                       no token
    ModelReady · ModelMetadata                                      READ (list_deployments)
    ModelInfer (typed contents or raw_input_contents)               READ (predict)

The caller is read from the `authorization` metadata (`Bearer <token>`, the same token file and
roles as HTTP; the local caller when no token file is configured), the sticky routing key from
`x-request-key`. Errors carry the gRPC code of the same table HTTP statuses come from
(`http_errors`), with the message an HTTP client would read.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from grpc import aio

from nba_mcp_deploy.access.permissions import Caller, acting_as, require_permission
from nba_mcp_deploy.access.tokens import TokenFile
from nba_mcp_deploy.codecs import oip_proto
from nba_mcp_deploy.codecs.open_inference_grpc import decode_model_infer, encode_model_infer, encode_model_metadata
from nba_mcp_deploy.errors import ConfigError
from nba_mcp_deploy.server.http_errors import error_message, grpc_code_of
from nba_mcp_deploy.server.inference_plane import InferencePlane
from nba_mcp_deploy.server.inference_routes import REQUEST_KEY_HEADER, check_request_key

# Seconds in-flight calls get to finish when the server stops.
STOP_GRACE_SEC = 5.0
Handler = Callable[[Any, aio.ServicerContext], Awaitable[Any]]


@dataclass(frozen=True)
class GrpcAccess:
    """Who calls: the bearer token's caller, or the local caller when no token file is configured."""

    tokens: TokenFile | None
    local: Caller

    def caller(self, context: aio.ServicerContext) -> Caller | None:
        if self.tokens is None:
            return self.local
        metadata = {key.lower(): value for key, value in context.invocation_metadata() or ()}
        scheme, _, token = str(metadata.get("authorization", "")).partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.tokens.verify(token.strip())


class _Unauthenticated(Exception):
    """No valid bearer token (UNAUTHENTICATED, as HTTP's 401)."""


class InferenceService:
    """The service's methods; each translates one message to and from the data plane."""

    def __init__(self, plane: InferencePlane, access: GrpcAccess) -> None:
        self._plane = plane
        self._access = access

    def handler(self) -> grpc.GenericRpcHandler:
        methods: dict[str, tuple[Handler, str | None]] = {
            "ServerLive": (self.server_live, None),
            "ServerReady": (self.server_ready, None),
            "ServerMetadata": (self.server_metadata, None),
            "ModelReady": (self.model_ready, "list_deployments"),
            "ModelMetadata": (self.model_metadata, "list_deployments"),
            "ModelInfer": (self.model_infer, "predict"),
        }
        handlers = {
            name: grpc.unary_unary_rpc_method_handler(
                self._answering(method, operation),
                request_deserializer=oip_proto.message_class(f"{name}Request").FromString,
                response_serializer=_serialize,
            )
            for name, (method, operation) in methods.items()
        }
        return grpc.method_handlers_generic_handler(oip_proto.SERVICE, handlers)

    def _answering(self, method: Handler, operation: str | None) -> Handler:
        """`method` behind the role check of `operation`, its errors turned into gRPC statuses."""

        @functools.wraps(method)
        async def answered(request: Any, context: aio.ServicerContext) -> Any:
            try:
                if operation is None:
                    return await method(request, context)
                caller = self._access.caller(context)
                if caller is None:
                    raise _Unauthenticated("a valid bearer token is required (metadata authorization: Bearer <token>)")
                require_permission(operation, caller=caller, arguments={"model": getattr(request, "name", None)})
                with acting_as(caller):
                    return await method(request, context)
            except _Unauthenticated as exc:
                code, message = grpc.StatusCode.UNAUTHENTICATED, str(exc)
            except Exception as exc:
                code, message = grpc.StatusCode[grpc_code_of(exc)], error_message(exc)
            await context.abort(code, message)

        return answered

    async def server_live(self, request: Any, context: aio.ServicerContext) -> Any:
        return oip_proto.ServerLiveResponse(live=True)

    async def server_ready(self, request: Any, context: aio.ServicerContext) -> Any:
        return oip_proto.ServerReadyResponse(ready=self._plane.server_ready().ready)

    async def server_metadata(self, request: Any, context: aio.ServicerContext) -> Any:
        return oip_proto.ServerMetadataResponse(**self._plane.server_metadata())

    async def model_ready(self, request: Any, context: aio.ServicerContext) -> Any:
        return oip_proto.ModelReadyResponse(ready=self._plane.model_ready(request.name, request.version or None).ready)

    async def model_metadata(self, request: Any, context: aio.ServicerContext) -> Any:
        return encode_model_metadata(self._plane.model_metadata(request.name, request.version or None))

    async def model_infer(self, request: Any, context: aio.ServicerContext) -> Any:
        metadata = {key.lower(): value for key, value in context.invocation_metadata() or ()}
        key = metadata.get(REQUEST_KEY_HEADER)
        check_request_key(key)
        decoded, result = await self._plane.infer(
            request.model_name,
            request.model_version or None,
            lambda order: decode_model_infer(request, order),
            key,
        )
        return encode_model_infer(
            result,
            model_name=request.model_name,
            request_id=decoded.request_id,
            outputs=decoded.outputs,
            raw=len(request.raw_input_contents) > 0,
        )


def _serialize(message: Any) -> bytes:
    return bytes(message.SerializeToString())


async def start_grpc_server(
    plane: InferencePlane, access: GrpcAccess, *, bind_host: str, port: int, max_message_bytes: int
) -> aio.Server:
    """The gRPC server, listening (ConfigError when the port cannot be bound)."""
    server = aio.server(
        options=[("grpc.max_receive_message_length", max_message_bytes), ("grpc.so_reuseport", 0)],
    )
    server.add_generic_rpc_handlers((InferenceService(plane, access).handler(),))
    address = f"[{bind_host}]:{port}" if ":" in bind_host else f"{bind_host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as exc:
        raise ConfigError("--grpc-port", port, f"cannot listen on {address} ({exc})") from exc
    if bound == 0:
        raise ConfigError("--grpc-port", port, f"cannot listen on {address}")
    await server.start()
    return server


def run_beside(
    serve_http: Callable[[], Awaitable[None]],
    start_grpc: Callable[[], Awaitable[aio.Server]],
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None,
) -> None:
    """Run the HTTP server with the gRPC server beside it on one event loop; when HTTP stops (a
    signal), gRPC stops too, giving in-flight calls `STOP_GRACE_SEC`."""

    async def both() -> None:
        server = await start_grpc()
        try:
            await serve_http()
        finally:
            await server.stop(STOP_GRACE_SEC)

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(both())
