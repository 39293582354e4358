"""An `MCPServer` that can answer its first `tools/list` before it has built its tools.

With a tool catalogue (`tool_catalogue.py`) the server keeps every tool, resource and prompt
registration pending, answers `tools/list` from the catalogue when its fingerprint matches, and
builds everything right after (`build_pending`, scheduled by the start-up middleware) or at the
first request that needs it, whichever comes first. Without a catalogue it registers at once, as
a plain `MCPServer` does. On a miss it builds before answering and saves what it listed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import (
    CallToolResult,
    GetPromptResult,
    Icon,
    InputRequiredResult,
    Prompt,
    Resource,
    ResourceTemplate,
    Tool,
    ToolAnnotations,
)
from pydantic.networks import AnyUrl

from nba_mcp_deploy.server.tool_catalogue import ToolCatalogue


class DeferredToolsServer(MCPServer[Any]):
    """Registrations wait in `_pending` while a catalogue may answer for them."""

    def __init__(self, catalogue: ToolCatalogue | None = None, **settings: Any) -> None:
        self._catalogue = catalogue
        self._pending: list[Callable[[], None]] = []
        self._tool_names: set[str] = set()  # built, or added to `_pending` by a registration that ran
        self._deferring = catalogue is not None
        super().__init__(**settings)

    def defer(self, register: Callable[[], None]) -> None:
        """Run `register` (which adds tools, resources or prompts) now, or when the tools are built."""
        if self._deferring:
            self._pending.append(register)
        else:
            register()

    def add_tool(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | None = None,
        icons: list[Icon] | None = None,
        meta: dict[str, Any] | None = None,
        structured_output: bool | None = None,
    ) -> None:
        add = functools.partial(
            super().add_tool, fn, name, title, description, annotations, icons, meta, structured_output
        )
        self.defer(add)
        self._tool_names.add(name or fn.__name__)

    def remove_tool(self, name: str) -> None:
        self.build_pending()
        super().remove_tool(name)
        self._tool_names.discard(name)

    def has_tool(self, name: str) -> bool:
        """Whether a tool of this name exists, building the pending registrations first: a
        registration function that has not run yet has not named its tools."""
        self.build_pending()
        return name in self._tool_names

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def build_pending(self) -> None:
        """Build every deferred registration, in the order they were made (idempotent)."""
        self._deferring = False
        while self._pending:
            self._pending.pop(0)()

    async def list_tools(self) -> list[Tool]:
        # Consulted once: a hit is current as it is, a miss is rewritten from the built tools.
        catalogue, self._catalogue = self._catalogue, None
        if catalogue is not None and self._pending:
            listed = catalogue.load()
            if listed is not None:
                return listed
        self.build_pending()
        tools = await super().list_tools()
        if catalogue is not None:
            catalogue.save(tools)
        return tools

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        self.build_pending()
        return await super().call_tool(name, arguments, context)

    async def list_resources(self) -> list[Resource]:
        self.build_pending()
        return await super().list_resources()

    async def list_resource_templates(self) -> list[ResourceTemplate]:
        self.build_pending()
        return await super().list_resource_templates()

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[Any, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        self.build_pending()
        return await super().read_resource(uri, context)

    async def list_prompts(self) -> list[Prompt]:
        self.build_pending()
        return await super().list_prompts()

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Context[Any, Any] | None = None
    ) -> GetPromptResult | InputRequiredResult:
        self.build_pending()
        return await super().get_prompt(name, arguments, context)
