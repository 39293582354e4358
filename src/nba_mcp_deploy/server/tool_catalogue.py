"""The previous start's `tools/list` answer, kept in the registry directory for the next start.

Building the tools (importing their schema modules, then the SDK deriving argument models and
JSON schemas for 33 tools) costs about 140 ms, a fifth of a stdio cold start. Claude Desktop and
its kind restart their servers often, and the answer only changes when something that shapes it
changes. The catalogue is keyed by a fingerprint of all of that: this package's source files
(size and modification time, as Python's own bytecode cache does), the SDK, pydantic and Python
versions, and the whole configuration. Any difference is a miss: the tools are built before the
answer, and the catalogue is rewritten. A missing, unreadable or corrupt file is a miss too.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

import pydantic
from mcp_types import Tool

from nba_mcp_deploy import __version__
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.logs import get_logger

log = get_logger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parents[1]
CATALOGUE_FILE = Path(".cache") / "tools-list.json"
CATALOGUE_HIT = "tools/list answered from the tool catalogue"


def fingerprint(config: DeploymentConfig, package_dir: Path = PACKAGE_DIR) -> str:
    """A digest of everything that can change the tools a server built from `config` lists."""
    digest = hashlib.sha256()
    versions = (__version__, metadata.version("mcp"), pydantic.VERSION, sys.version)
    digest.update(json.dumps(versions).encode())
    digest.update(json.dumps(asdict(config), sort_keys=True, default=str).encode())
    for path in sorted(package_dir.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(package_dir)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class ToolCatalogue:
    """One file holding a fingerprint and the tools listed under it."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key

    @classmethod
    def for_config(cls, config: DeploymentConfig) -> ToolCatalogue:
        return cls(config.registry_dir / CATALOGUE_FILE, fingerprint(config))

    def load(self) -> list[Tool] | None:
        """The tools saved under this fingerprint, or None (logged) when there are none to trust."""
        try:
            saved = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning(
                "tool catalogue unreadable; building the tools", extra={"path": str(self.path), "error": str(exc)}
            )
            return None
        if not isinstance(saved, dict) or saved.get("fingerprint") != self.key:
            log.info("tool catalogue is for another build; building the tools", extra={"path": str(self.path)})
            return None
        try:
            tools = [Tool.model_validate(tool) for tool in saved["tools"]]
        except (KeyError, TypeError, pydantic.ValidationError) as exc:
            log.warning(
                "tool catalogue malformed; building the tools", extra={"path": str(self.path), "error": str(exc)}
            )
            return None
        log.info(CATALOGUE_HIT, extra={"path": str(self.path), "tools": len(tools)})
        return tools

    def save(self, tools: list[Tool]) -> None:
        """Replace the file atomically; a directory that cannot be written only costs the next start time."""
        document = {
            "fingerprint": self.key,
            "tools": [t.model_dump(mode="json", by_alias=True, exclude_unset=True) for t in tools],
        }
        temporary: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=self.path.parent, suffix=".tmp", delete=False) as out:
                temporary = out.name
                json.dump(document, out)
            os.replace(temporary, self.path)
        except OSError as exc:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)
            log.warning("could not save the tool catalogue", extra={"path": str(self.path), "error": str(exc)})
