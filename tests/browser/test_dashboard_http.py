"""`GET /dashboard` in a real headless Chromium against a real server subprocess: sign in with a
token, see the right versions, weights, breaker state and drifted features, refresh by itself,
work from the keyboard, pass contrast and label checks, and fit 1280x800 and a narrow window."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx2
import pytest

from tests.browser.chromium import pixel_spread, run_plan
from tests.browser.conftest import SHIFTED, Live, M
from tests.browser.probes import ACCESSIBILITY, DOM_FACTS, LAYOUT

pytestmark = pytest.mark.slow

MODEL_ROW = f"article[data-model='{M}'] tr[data-version='v2.0']"
UPDATED = "() => document.getElementById('updated').textContent"
CHANGED = "(before) => document.getElementById('updated').textContent !== before"
TWO_SPARKLINES = "() => document.querySelectorAll('svg.spark polyline').length >= 2"
AUTO_CHECKED = "() => document.getElementById('auto').checked"
FIRST_FOCUSABLE = "() => document.querySelector('a[href], button, input, [tabindex]').textContent"
FOCUSED = "() => ({ id: document.activeElement.id, text: document.activeElement.textContent.trim() })"


def get(live: Live, path: str, token: str | None = None) -> httpx2.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return httpx2.get(live.server.base_url + path, headers=headers, timeout=30)


def test_page_is_served_without_data_and_the_data_needs_a_token(live: Live) -> None:
    page = get(live, "/dashboard")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'data-mode="http"' in page.text and M not in page.text  # the shell holds no data
    script = re.search(r"<script>(.*)</script>", page.text, re.S)
    assert script is not None
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    policy = page.headers["content-security-policy"]
    assert f"script-src 'sha256-{digest}'" in policy and "connect-src 'self'" in policy
    assert "default-src 'none'" in policy and page.headers["referrer-policy"] == "no-referrer"
    assert get(live, "/dashboard/data").status_code == 401
    assert get(live, "/dashboard/data", "nbamcp_not-a-token").status_code == 401
    viewer = get(live, "/dashboard/data", live.tokens["viewer"])
    assert viewer.status_code == 200 and viewer.headers["cache-control"] == "no-store"
    body = viewer.json()
    assert [m["model_id"] for m in body["models"]] == [M]
    assert body["audit"]["available"] is False and "ADMIN" in body["audit"]["note"]
    admin = get(live, "/dashboard/data", live.tokens["admin"]).json()
    assert admin["audit"]["available"] is True and admin["audit"]["entries"][0]["caller"] == "alice"
    assert get(live, f"/dashboard/data?model={M}", live.tokens["viewer"]).json()["model_filter"] == M
    missing = get(live, "/dashboard/data?model=nothing_here", live.tokens["viewer"])
    assert missing.status_code == 404 and "not deployed" in missing.json()["error_description"]
    assert get(live, "/dashboard/data?model=../etc", live.tokens["viewer"]).status_code == 400


def test_the_dashboard_in_chromium(live: Live, tmp_path: Path) -> None:
    wide, narrow, dark = (tmp_path / f"dashboard-{name}.png" for name in ("1280x800", "narrow", "dark"))
    run = run_plan(
        [
            {"action": "goto", "url": live.server.base_url + "/dashboard"},
            {"action": "waitFor", "selector": "#login"},
            {"action": "eval", "name": "signed_out", "expression": DOM_FACTS},
            {"action": "fill", "selector": "#token", "value": "nbamcp_wrong"},
            {"action": "click", "selector": "#login button[type=submit]"},
            {"action": "waitForFunction", "expression": "() => document.getElementById('login-error').textContent"},
            {"action": "eval", "name": "refused", "expression": DOM_FACTS},
            {"action": "fill", "selector": "#token", "value": live.tokens["viewer"]},
            {"action": "click", "selector": "#login button[type=submit]"},
            {"action": "waitFor", "selector": MODEL_ROW},
            {"action": "waitForFunction", "expression": TWO_SPARKLINES},
            {"action": "eval", "name": "viewer", "expression": DOM_FACTS},
            {"action": "eval", "name": "a11y", "expression": ACCESSIBILITY},
            {"action": "eval", "name": "wide", "expression": LAYOUT},
            {"action": "screenshot", "path": str(wide)},
            # It refreshes by itself.
            {"action": "eval", "name": "updated", "expression": UPDATED},
            {"action": "waitForFunction", "expression": CHANGED, "argFrom": "updated", "timeout": 15000},
            # Keyboard: skip link, Refresh, the auto-refresh switch.
            {"action": "eval", "name": "first", "expression": FIRST_FOCUSABLE},
            {"action": "eval", "name": "tab1", "expression": "() => document.querySelector('.skip').focus()"},
            {"action": "press", "key": "Tab"},
            {"action": "eval", "name": "tab2", "expression": FOCUSED},
            {"action": "press", "key": "Tab"},
            {"action": "press", "key": "Space"},
            {"action": "eval", "name": "auto_after_space", "expression": AUTO_CHECKED},
            {"action": "eval", "name": "before_enter", "expression": UPDATED},
            {"action": "press", "key": "Shift+Tab"},
            {"action": "sleep", "ms": 1100},
            {"action": "press", "key": "Enter"},
            {"action": "waitForFunction", "expression": CHANGED, "argFrom": "before_enter", "timeout": 10000},
            # Dark mode keeps the contrast.
            {"action": "colorScheme", "value": "dark"},
            {"action": "eval", "name": "a11y_dark", "expression": ACCESSIBILITY},
            {"action": "screenshot", "path": str(dark), "fullPage": False},
            {"action": "colorScheme", "value": "light"},
            # A narrow window.
            {"action": "viewport", "width": 390, "height": 844},
            {"action": "sleep", "ms": 300},
            {"action": "eval", "name": "narrow", "expression": LAYOUT},
            {"action": "screenshot", "path": str(narrow)},
            # Another token: an admin also sees the audit log.
            {"action": "viewport", "width": 1280, "height": 800},
            {"action": "click", "selector": "#forget"},
            {"action": "waitFor", "selector": "#login"},
            {"action": "fill", "selector": "#token", "value": live.tokens["admin"]},
            {"action": "click", "selector": "#login button[type=submit]"},
            {"action": "waitFor", "selector": "#audit tbody tr"},
            {"action": "eval", "name": "admin", "expression": DOM_FACTS},
        ],
        tmp_path,
    )
    facts = run.results
    assert facts["signed_out"]["loginVisible"] and facts["signed_out"]["models"] == []
    assert "refused" in facts["refused"]["loginError"]

    viewer = facts["viewer"]
    assert not viewer["loginVisible"] and viewer["problem"] is None
    assert viewer["overall"] == "Overall: degraded"
    (model,) = viewer["models"]
    assert model["model"] == M and model["status"] == "degraded"
    assert [v["version"] for v in model["versions"]] == ["v1.0", "v2.0"]
    v1, v2 = model["versions"]
    assert v1["breaker"] == "closed" and v2["breaker"] == "open"
    assert re.search(r"open retry at \d\d:\d\d:\d\d \(in \d+ s\)", v2["breakerText"]), v2["breakerText"]
    assert "staging" in v1["cells"] and "development" in v2["cells"] and "v1.0 (active)" in v1["cells"]
    assert v1["sparklines"] >= 1
    assert model["trafficTitle"] == "Traffic: A/B split"
    shares = {s["version"]: s for s in model["shares"]}
    assert shares["v1.0"]["weight"] == 0.7 and shares["v2.0"]["weight"] == 0.3
    assert shares["v1.0"]["text"].startswith("v1.0 70%") and shares["v2.0"]["text"].startswith("v2.0 30%")
    assert shares["v1.0"]["width"] / shares["v2.0"]["width"] == pytest.approx(0.7 / 0.3, rel=0.1)
    assert sorted(live.drifted) == sorted(SHIFTED)
    assert sorted(f["feature"] for f in model["figures"]) == sorted(live.drifted)
    for figure in model["figures"]:
        assert figure["refBars"] == figure["curBars"] == 24
        assert re.search(r"ks \S+ vs threshold 0.05, p = ", figure["caption"]), figure["caption"]
    assert "2 of 8 features drifted" in model["driftSummary"]
    assert any(a["severity"] in ("warning", "critical") and "drift" in a["text"] for a in viewer["alerts"])
    assert "ADMIN" in viewer["audit"] and viewer["auditRows"] == []

    assert facts["a11y"]["problems"] == [] and facts["a11y"]["worstContrast"] >= 4.5
    assert facts["a11y_dark"]["problems"] == [] and facts["a11y_dark"]["worstContrast"] >= 4.5
    assert facts["wide"]["overflow"] <= 0 and facts["wide"]["columns"] == 2
    assert facts["narrow"]["overflow"] <= 0 and facts["narrow"]["columns"] == 1
    assert facts["first"] == "Skip to the dashboard" and facts["tab2"]["id"] == "refresh"
    assert facts["auto_after_space"] is False

    rows = facts["admin"]["auditRows"]
    assert any(row[1] == "alice admin" and row[2] == f"deploy_model {M} · ok" for row in rows), rows
    assert run.errors == [] and not [line for line in run.console if "Content Security Policy" in line]
    for shot in (wide, narrow, dark):
        spread, colours = pixel_spread(shot)
        assert spread > 10 and colours > 50, (shot, spread, colours)
