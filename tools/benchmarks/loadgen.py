"""A closed-loop HTTP load generator: N connections, each POSTing the same body back to back.

Debian's `wrk` (C, event-driven) when it is installed, so the generator takes little of the CPU
the servers share with it; otherwise a bounded asyncio client (`httpx2`, one task per
connection). Both report throughput and latency percentiles of completed 2xx requests.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2

from benchmarks.common import percentile

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True)
class LoadResult:
    """Completed requests per second and latency percentiles (ms); non-2xx answers count as errors."""

    requests_per_sec: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    tool: str


def generator() -> str:
    return "wrk" if shutil.which("wrk") else "httpx2"


def run_load(url: str, body: bytes, *, connections: int, seconds: float, headers: dict[str, str]) -> LoadResult:
    """POST `body` to `url` from `connections` connections for `seconds`."""
    if shutil.which("wrk"):
        return _wrk(url, body, connections=connections, seconds=seconds, headers=headers)
    return anyio.run(_async_load, url, body, connections, seconds, headers)


def _lua_string(text: str) -> str:
    """A Lua long-bracket string literal (no escaping needed for JSON)."""
    return "[==[" + text + "]==]"


def _wrk(url: str, body: bytes, *, connections: int, seconds: float, headers: dict[str, str]) -> LoadResult:
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(body.decode())}"]
    # The spaces matter: `t[[` would open a long string in Lua.
    lines += [f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items()]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        done = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s", script.name, url],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    finally:
        Path(script.name).unlink(missing_ok=True)
    if done.stderr.strip():
        raise RuntimeError(f"wrk: {done.stderr.strip()}")
    return _parse_wrk(done.stdout)


def _parse_wrk(text: str) -> LoadResult:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", text).group(1))  # type: ignore[union-attr]
    bad_match = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    bad = int(bad_match.group(1)) if bad_match else 0
    errors_match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    socket_errors = sum(int(g) for g in errors_match.groups()) if errors_match else 0

    def quantile(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
        assert found is not None, text
        return float(found.group(1)) * _UNITS[found.group(2)]

    ok_share = (total - bad) / total if total else 0.0
    return LoadResult(rate * ok_share, quantile("50"), quantile("99"), total, bad + socket_errors, "wrk")


async def _async_load(url: str, body: bytes, connections: int, seconds: float, headers: dict[str, str]) -> LoadResult:
    samples: list[float] = []
    errors = 0
    limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx2.AsyncClient(limits=limits, timeout=30, headers=headers) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                response = await client.post(url, content=body)
                if response.status_code >= 300:
                    errors += 1
                else:
                    samples.append(time.perf_counter() - start)

        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(connections):
                group.start_soon(worker)
        elapsed = time.perf_counter() - started
    ms = [s * 1000 for s in samples] or [0.0]
    return LoadResult(
        len(samples) / elapsed, statistics.median(ms), percentile(ms, 99), len(samples) + errors, errors, "httpx2"
    )
