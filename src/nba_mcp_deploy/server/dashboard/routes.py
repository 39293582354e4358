"""HTTP mode: `GET /dashboard` (the view, for people) and `GET /dashboard/data` (its JSON).

How the browser gets the token: the page itself holds no data, so it is served without one
(like `/healthz`), under a Content-Security-Policy that pins its inlined code. The data endpoint
sits behind the bearer-token roles like the tools (`show_dashboard`: READ, so viewer and up;
401 without a valid token, 403 beyond the role). When the server needs a token, the page asks
for it once, keeps it in `sessionStorage` (this tab only, gone when the tab closes, never in a
URL, cookie or log) and sends it as `Authorization: Bearer` on each poll. No cookie means no
cross-site request can ride on it (no CSRF). Without a token file (loopback only) the data
answers as the local caller, and the page never asks.
"""

from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from nba_mcp_deploy.access.permissions import current_caller
from nba_mcp_deploy.errors import DeployError, InvalidInputError, NotFoundError
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.dashboard.view import page_headers, render_view
from nba_mcp_deploy.server.errors import label
from nba_mcp_deploy.server.http_app import HttpAccess
from nba_mcp_deploy.server.outputs import show

PAGE_PATH = "/dashboard"
DATA_PATH = "/dashboard/data"
SERVICES_WAIT_SEC = 10.0


def _status(error: DeployError) -> int:
    if isinstance(error, InvalidInputError):
        return 400
    if isinstance(error, NotFoundError):
        return 404
    return 503


def dashboard_routes(access: HttpAccess, host: ServiceHost) -> list[Route]:
    """The page (no data, no token needed) and its data (the `show_dashboard` permission)."""

    async def page(_: Request) -> Response:
        return HTMLResponse(render_view("http"), headers=page_headers())

    async def data(request: Request) -> Response:
        from nba_mcp_deploy.server.dashboard.collect import build_snapshot

        model_id = request.query_params.get("model") or request.query_params.get("model_id") or None
        caller = current_caller()

        def snapshot() -> Any:
            services = host.services(timeout=SERVICES_WAIT_SEC)
            return show(build_snapshot(services, services.history, model_id, caller=caller))

        try:
            out = await anyio.to_thread.run_sync(snapshot)
        except DeployError as exc:
            body = {"error": label(exc), "error_description": str(exc)}
            return JSONResponse(body, status_code=_status(exc), headers={"Cache-Control": "no-store"})
        return JSONResponse(out.model_dump(mode="json"), headers={"Cache-Control": "no-store"})

    return [
        Route(PAGE_PATH, page, methods=["GET"]),
        Route(DATA_PATH, access.protect("show_dashboard", data), methods=["GET"]),
    ]
