"""Headless Chromium for the dashboard tests: plans of steps run by `run_plan.mjs` (playwright-core).

The browser is Debian's `chromium`, the driver the npm package `playwright-core` installed in
`tests/browser/node_modules` (`.ci/run` installs both; neither downloads a browser). Outside CI a
machine without them skips these tests, saying what to install; in CI (CI=true) that is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ci import in_ci

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "run_plan.mjs"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
RUN_TIMEOUT_SEC = 180
INSTALL = "apt-get install -y chromium && npm ci --prefix tests/browser (see .ci/run)"


def require_browser() -> None:
    """Skip (fail in CI) unless Chromium, Node and playwright-core are installed."""
    missing = [
        what
        for what, present in (
            (str(CHROMIUM), CHROMIUM.exists()),
            ("node", shutil.which("node") is not None),
            ("tests/browser/node_modules/playwright-core", (HERE / "node_modules" / "playwright-core").is_dir()),
        )
        if not present
    ]
    if missing:
        message = f"browser tests need {', '.join(missing)}: {INSTALL}"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


@dataclass(frozen=True)
class BrowserRun:
    results: dict[str, Any]
    console: list[str]
    errors: list[str]


def run_plan(steps: list[dict[str, Any]], workdir: Path, *, width: int = 1280, height: int = 800) -> BrowserRun:
    """Run `steps` in a fresh headless Chromium; AssertionError naming the step that failed."""
    require_browser()
    plan_file = workdir / f"plan-{len(list(workdir.glob('plan-*.json')))}.json"
    plan_file.write_text(json.dumps({"viewport": {"width": width, "height": height}, "steps": steps}))
    done = subprocess.run(
        ["node", str(RUNNER), str(plan_file)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SEC,
        cwd=HERE,
        env={**os.environ, "CHROMIUM": str(CHROMIUM)},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"the browser runner printed no result (exit {done.returncode}): {done.stderr[-3000:]}"
    outcome = json.loads(lines[-1])
    if not outcome["ok"]:
        failed = steps[outcome["step"]] if 0 <= outcome["step"] < len(steps) else None
        shown = {k: (v if len(str(v)) < 300 else str(v)[:300] + "...") for k, v in (failed or {}).items()}
        raise AssertionError(
            f"browser step {outcome['step']} {shown} failed: {outcome['error'][:2000]}\n"
            f"console: {outcome['console'][-20:]}\npage errors: {outcome['errors']}"
        )
    return BrowserRun(outcome["results"], outcome["console"], outcome["errors"])


def pixel_spread(png: Path) -> tuple[float, int]:
    """Standard deviation of the grey levels and the number of distinct colours: a blank or
    single-colour screenshot has ~0 and 1."""
    from PIL import Image, ImageStat

    with Image.open(png) as image:
        rgb = image.convert("RGB")
        spread = ImageStat.Stat(rgb.convert("L")).stddev[0]
        colours = len(rgb.getcolors(maxcolors=1 << 20) or [])
    return spread, colours
