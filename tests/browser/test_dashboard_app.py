"""The `ui://` view as an MCP App in headless Chromium: a tiny host page renders the resource read
from the real server in a sandboxed iframe and feeds it real `show_dashboard` results through the
Apps bridge (ui/initialize, tool-input, tool-result; tools/call when the view refreshes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import HERE, pixel_spread, run_plan
from tests.browser.conftest import Live, M
from tests.browser.probes import ACCESSIBILITY, DOM_FACTS

pytestmark = pytest.mark.slow

SEGMENT_SHOWS = "(text) => document.querySelector(\".seg[data-version='v1.0']\").textContent.includes(text)"
FRAME_HEIGHT = "() => document.querySelector('iframe').offsetHeight"


def requests_of(result: dict[str, Any], version: str) -> int:
    model = result["structuredContent"]["models"][0]
    return next(s["requests"] for s in model["traffic"]["shares"] if s["version"] == version)


def test_the_mcp_app_view_through_the_host_bridge(live: Live, tmp_path: Path) -> None:
    first, second = live.results
    before, after = requests_of(first, "v1.0"), requests_of(second, "v1.0")
    assert after > before  # the fixture served more requests between the two calls
    shot = tmp_path / "mcp-app.png"
    run = run_plan(
        [
            {"action": "goto", "url": (HERE / "app_host.html").as_uri()},
            {
                "action": "eval",
                "name": "started",
                "expression": "(setup) => window.startHost(setup)",
                "arg": {"html": live.view_html, "toolArguments": {}, "results": [first, second]},
            },
            {"action": "waitFor", "frame": "view", "selector": f"article[data-model='{M}'] tr[data-version='v2.0']"},
            {"action": "eval", "frame": "view", "name": "first", "expression": DOM_FACTS},
            {"action": "eval", "frame": "view", "name": "a11y", "expression": ACCESSIBILITY},
            {
                "action": "eval",
                "frame": "view",
                "name": "http_controls",
                "expression": "() => [...document.querySelectorAll('.http-only')].map((e) => e.offsetParent !== null)",
            },
            {"action": "click", "frame": "view", "selector": "#refresh"},
            {
                "action": "waitForFunction",
                "frame": "view",
                "expression": SEGMENT_SHOWS,
                "arg": f"{after:,} req",
            },
            {"action": "eval", "frame": "view", "name": "second", "expression": DOM_FACTS},
            {"action": "eval", "name": "log", "expression": "() => window.hostLog"},
            {"action": "eval", "name": "frame_height", "expression": FRAME_HEIGHT},
            {"action": "sleep", "ms": 300},
            {"action": "screenshot", "path": str(shot), "fullPage": False},
        ],
        tmp_path,
    )
    facts = run.results
    shown = facts["first"]
    (model,) = shown["models"]
    assert [v["version"] for v in model["versions"]] == ["v1.0", "v2.0"]
    assert [v["breaker"] for v in model["versions"]] == ["closed", "open"]
    assert {s["version"]: s["weight"] for s in model["shares"]} == {"v1.0": 0.7, "v2.0": 0.3}
    assert f"{before:,} req" in model["shares"][0]["text"]
    assert sorted(f["feature"] for f in model["figures"]) == sorted(live.drifted)
    assert "ADMIN" not in shown["audit"] and shown["auditRows"]  # the admin's own result holds the audit log
    assert facts["a11y"]["problems"] == []
    assert facts["http_controls"] == [False, False]  # no token or auto-refresh controls inside a host

    assert f"{after:,} req" in facts["second"]["models"][0]["shares"][0]["text"]
    methods = [m.get("method") for m in facts["log"]]
    assert methods[:2] == ["ui/initialize", "ui/notifications/initialized"]
    initialize = facts["log"][0]["params"]
    assert initialize["protocolVersion"] == "2026-01-26" and initialize["appInfo"]["name"]
    call = next(m for m in facts["log"] if m.get("method") == "tools/call")
    assert call["params"] == {"name": "show_dashboard", "arguments": {}}
    assert "ui/notifications/size-changed" in methods and facts["frame_height"] > 600
    assert run.errors == []
    spread, colours = pixel_spread(shot)
    assert spread > 10 and colours > 50, (spread, colours)
