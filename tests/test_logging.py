"""Structured logs: one JSON object per line with the request's context."""

from __future__ import annotations

import io
import json
import logging

from nba_mcp_deploy.logs import configure_logging, get_logger, request_context


def test_json_lines_carry_the_request_context() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging("INFO", stream)
        log = get_logger("test")
        with request_context(model_id="win", version="v1.0", request_id="r-1"):
            log.info("served", extra={"latency_ms": 1.5})
            with request_context(version="v2.0"):
                log.warning("nested")
        log.info("outside")
        log.debug("hidden at INFO")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.captureWarnings(False)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["served", "nested", "outside"]
    assert lines[0]["model_id"] == "win" and lines[0]["request_id"] == "r-1" and lines[0]["latency_ms"] == 1.5
    assert lines[1]["version"] == "v2.0" and lines[1]["model_id"] == "win"
    assert "model_id" not in lines[2]
    assert lines[0]["logger"] == "nba_mcp_deploy.test" and lines[1]["level"] == "WARNING"
