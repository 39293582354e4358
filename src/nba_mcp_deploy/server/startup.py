"""When the stdio server builds its tools and services: right after the client has listed the tools.

A client judges a server by how soon `initialize` and `tools/list` come back. Those answers need
only the tool schemas, and with a current tool catalogue not even those have to be built; the
services (NumPy, the core, restoring deployments) are built on a background thread, and under
the GIL that thread would slow the answers down. So the tools are built, and the services start
building, once `tools/list` has been answered, at the first tool call, or after a short delay for
clients that never list — whichever comes first.
"""

import asyncio
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.deferred_tools import DeferredToolsServer

STDIO_START_DELAY_SEC = 1.0
# Long enough for the `tools/list` answer to be written out before the event loop is held by
# building the tools; if it is not, that answer only waits for the build.
BUILD_TOOLS_AFTER_SEC = 0.02


class StartServicesAfterListing:
    """Server middleware: once a `tools/list` has been answered, build the tools, then the services."""

    def __init__(self, host: ServiceHost, server: DeferredToolsServer) -> None:
        self._host = host
        self._server = server

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method == "tools/list":
            if self._server.has_pending:
                asyncio.get_running_loop().call_later(BUILD_TOOLS_AFTER_SEC, self._build_then_start)
            else:
                self._host.start()
        return result

    def _build_then_start(self) -> None:
        self._server.build_pending()
        self._host.start()
