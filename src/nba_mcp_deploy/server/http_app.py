"""The HTTP application: MCP over streamable HTTP at `/mcp`, probes and metrics beside it.

One Starlette app, built by the MCP SDK (`streamable_http_app`, with its bearer-token auth
when a token file is configured) and extended here:

    /mcp       MCP streamable HTTP; bearer token required when tokens are configured (401 otherwise)
    /healthz   liveness: the process answers (no token needed, for probes)
    /readyz    readiness: 200 once the services have started, 503 while starting or failed
    /metrics   Prometheus text format: tool calls, serving counts, latency, breakers, HTTP codes

More routes (e.g. inference endpoints) are passed as `routes`; they sit behind the same
authentication middleware, and `HttpAccess.protect` gives them the same roles as the tools
(401 without a valid token, 403 naming the operation and the permission it needs). An unknown
route (404) or method (405, with `Allow`) is answered in JSON like every other error, never the
framework's plain text (which an inference client would fail to parse).
"""

import ipaddress
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nba_mcp_deploy.access.permissions import Caller, acting_as, require_permission
from nba_mcp_deploy.errors import ConfigError, DeployError, PermissionDeniedError
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.app import GatedServer
from nba_mcp_deploy.server.http_errors import json_error
from nba_mcp_deploy.server.prometheus import ResponseCounts, ServiceCollector
from nba_mcp_deploy.server.token_auth import caller_from_access_token

MCP_PATH = "/mcp"
Endpoint = Callable[[Request], Awaitable[Response]]


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token_count: int | None) -> None:
    """Refuse to listen beyond this machine without bearer tokens (anyone could deploy models)."""
    if not is_loopback(host) and not token_count:
        raise ConfigError(
            "--host",
            host,
            "a non-loopback address needs bearer tokens: set NBA_MCP_AUTH_TOKENS_FILE and add one with "
            "`nba-mcp-deploy token add NAME ROLE` (or listen on 127.0.0.1)",
        )


@dataclass(frozen=True)
class HttpAccess:
    """How HTTP routes learn the caller: the verified token's, or the local caller when auth is off."""

    auth_required: bool
    local: Caller

    @classmethod
    def of(cls, server: GatedServer) -> "HttpAccess":
        """The access rules of `server`: tokens required when it verifies them."""
        return cls(auth_required=server.auth_required, local=server.gate.local_caller)

    def caller(self, request: Request) -> Caller | None:
        user = request.scope.get("user")
        if isinstance(user, AuthenticatedUser):
            return caller_from_access_token(user.access_token)
        return None if self.auth_required else self.local

    def protect(self, operation: str, endpoint: Endpoint) -> Endpoint:
        """`endpoint` behind the role check of `operation`: 401 / 403 JSON, else run as the caller."""

        async def guarded(request: Request) -> Response:
            caller = self.caller(request)
            if caller is None:
                return JSONResponse(
                    {"error": "invalid_token", "error_description": "a valid bearer token is required"},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            try:
                require_permission(operation, caller=caller, arguments=dict(request.path_params))
            except PermissionDeniedError as exc:
                return JSONResponse({"error": "forbidden", "error_description": str(exc)}, status_code=403)
            with acting_as(caller):
                return await endpoint(request)

        return guarded


class PayloadLimit:
    """413 naming the limit and its setting for a declared body that is too large, before anything
    reads it. (A chunked body without Content-Length is cut off by the SDK's own limit, also 413.)"""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = dict(scope.get("headers") or []).get(b"content-length", b"")
            if declared.isdigit() and int(declared) > self.max_bytes:
                body = {
                    "error": "payload_too_large",
                    "error_description": f"request body of {int(declared)} bytes exceeds the limit of "
                    f"{self.max_bytes} bytes (NBA_MCP_MAX_PAYLOAD_BYTES); send fewer records per call, "
                    "or reference data as a file path",
                }
                await JSONResponse(body, status_code=413)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class ResponseCounter:
    """Counts responses by route template and status code (a path no route matches is 'other',
    so a scan of random URLs cannot grow the metrics without bound)."""

    def __init__(self, app: ASGIApp, counts: ResponseCounts, routes: Callable[[], Sequence[BaseRoute]]) -> None:
        self.app = app
        self.counts = counts
        self.routes = routes

    def label(self, scope: Scope) -> str:
        for route in self.routes():
            if route.matches(scope)[0] is Match.FULL:
                return str(getattr(route, "path", "other"))
        return "other"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = self.label(scope)

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.counts.add(route, message["status"])
            await send(message)

        await self.app(scope, receive, counting_send)


async def json_http_error(request: Request, exc: Exception) -> Response:
    """The framework's own errors (no such route, method not allowed) as JSON."""
    assert isinstance(exc, HTTPException)
    path = request.url.path
    if exc.status_code == 404:
        message = f"no route {path}"
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        message = f"{request.method} is not allowed on {path}; allowed: {allowed}"
    else:
        message = exc.detail
    return json_error(exc.status_code, message, exc.headers)


def build_http_app(
    server: GatedServer, host: ServiceHost, *, bind_host: str, routes: Sequence[BaseRoute] = ()
) -> Starlette:
    """The one Starlette app of HTTP mode (its lifespan runs the MCP session manager).

    `routes` are mounted beside MCP and the probes, behind the same authentication middleware;
    wrap their endpoints with `HttpAccess.of(server).protect(operation, endpoint)`.
    """
    responses = ResponseCounts()
    registry = CollectorRegistry()
    registry.register(ServiceCollector(host))
    registry.register(responses)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        if not host.is_ready():
            return JSONResponse({"status": "starting"}, status_code=503, headers={"Retry-After": "1"})
        try:
            host.services(timeout=0)
        except DeployError as exc:
            return JSONResponse({"status": "failed", "error": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        host=bind_host,
        max_request_body_size=host.config.max_payload_bytes,
    )
    app.router.routes.extend(
        [
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            *routes,
        ]
    )
    app.add_exception_handler(HTTPException, json_http_error)
    app.add_middleware(PayloadLimit, max_bytes=host.config.max_payload_bytes)
    app.add_middleware(ResponseCounter, counts=responses, routes=lambda: app.routes)
    return app
