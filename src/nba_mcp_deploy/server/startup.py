"""When the stdio server starts building its services: once the client has listed the tools.

A client judges a server by how soon `initialize` and `tools/list` come back, and those answers
need only the tools. The services (NumPy, the core, restoring deployments) are built on a
background thread, and under the GIL that thread would slow the answers down. So they start once
`tools/list` has been answered, at the first tool call (which waits for them), or after a short
delay for clients that never list, whichever comes first.
"""

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from nba_mcp_deploy.host import ServiceHost

STDIO_START_DELAY_SEC = 1.0


class StartServicesAfterListing:
    """Server middleware: once a `tools/list` has been answered, start building the services."""

    def __init__(self, host: ServiceHost) -> None:
        self._host = host

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method == "tools/list":
            self._host.start()
        return result
