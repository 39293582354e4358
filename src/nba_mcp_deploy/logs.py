"""Structured logging: JSON lines on stderr, with the request's model, version and id on each line.

On stdio the protocol owns stdout, so nothing here ever writes there. Request context lives in
context variables: set it with `request_context(...)` and every log line inside carries it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

_CONTEXT: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("nba_mcp_log_context", default=None)

# Attributes every LogRecord has; anything else passed via `extra=` is emitted as a field.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {"message", "asctime"}


def get_logger(name: str) -> logging.Logger:
    """A logger under the package's namespace."""
    return logging.getLogger(name if name.startswith("nba_mcp_deploy") else f"nba_mcp_deploy.{name}")


@contextmanager
def request_context(**fields: str | None) -> Iterator[None]:
    """Attach fields (model_id, version, request_id, tool) to every log line in this block."""
    merged = {**(_CONTEXT.get() or {}), **{k: v for k, v in fields.items() if v is not None}}
    token = _CONTEXT.set(merged)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_context() -> dict[str, str]:
    """The fields currently attached to log lines."""
    return dict(_CONTEXT.get() or {})


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_CONTEXT.get() or {})
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every logger (ours and the MCP SDK's) to `stream` (stderr) as JSON lines.

    Called by the entry point before the MCP server is built, so the SDK's own
    `basicConfig` finds the root logger configured and leaves it alone.
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # library warnings become JSON lines too, never bare stderr text
    # Third-party chatter that would drown the request lines.
    for noisy in ("httpx", "httpcore", "mlflow", "urllib3", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
