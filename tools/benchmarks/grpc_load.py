"""A closed-loop gRPC load generator: Debian's `h2load` (nghttp2-client, C) posting one unary
call's bytes back to back on N HTTP/2 connections, one call in flight on each.

A unary gRPC call is an HTTP/2 POST to `/<service>/<method>` whose body is the message with a
5-byte prefix; h2load sends it as it sends any body, and costs far less CPU than the servers (a
Python grpcio client would take as much as the server it loads; ghz is not packaged). h2load
sees only the HTTP status (gRPC reports errors in trailers), so callers check the calls against
the server's own counters and one real grpcio call before and after.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

from benchmarks.common import percentile
from benchmarks.loadgen import LoadResult

GRPC_HEADERS = {"content-type": "application/grpc", "te": "trailers"}


def available() -> bool:
    return shutil.which("h2load") is not None


def framed(message: bytes) -> bytes:
    """A gRPC message on the wire: not compressed, its length big-endian, then the bytes."""
    return struct.pack(">?I", False, len(message)) + message


def run_grpc_load(
    address: str, method: str, message: bytes, *, connections: int, seconds: float, headers: dict[str, str]
) -> LoadResult:
    """Call `method` (e.g. "inference.GRPCInferenceService/ModelInfer") with `message` for `seconds`."""
    with tempfile.TemporaryDirectory() as tmp:
        body = Path(tmp) / "body"
        body.write_bytes(framed(message))
        log = Path(tmp) / "requests.tsv"
        command = ["h2load", f"-c{connections}", "-m1", f"-D{max(1, round(seconds))}", f"-d{body}"]
        command += [f"--log-file={log}"]
        for key, value in {**GRPC_HEADERS, **headers}.items():
            command += ["-H", f"{key}: {value}"]
        done = subprocess.run(
            [*command, f"http://{address}/{method}"], capture_output=True, text=True, timeout=seconds + 60, check=True
        )
        rows = [line.split("\t") for line in log.read_text().splitlines() if line.strip()]
    found = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", done.stdout)
    counts = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed", done.stdout)
    if found is None or counts is None:
        raise RuntimeError(f"h2load: {done.stdout[-1500:]} {done.stderr[-500:]}")
    succeeded, failed = int(counts.group(3)), int(counts.group(4))
    latencies_ms = [int(row[2]) / 1000 for row in rows if row[1] == "200"] or [0.0]
    return LoadResult(
        float(found.group(3)),
        percentile(latencies_ms, 50),
        percentile(latencies_ms, 99),
        succeeded + failed,
        failed + int(counts.group(1)) - int(counts.group(2)),
        "h2load",
    )
