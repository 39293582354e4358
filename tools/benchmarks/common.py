"""What every benchmark suite shares: the row it reports and the way it times things.

Every figure is a ratio against a baseline measured in the same process, interleaved with the
candidate, because the machine is shared and noisy: absolute numbers drift, ratios hold.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class BenchRow:
    """One line of the benchmark table."""

    suite: str
    name: str
    measured: float
    baseline: float
    unit: str
    ratio: float
    target: str
    met: bool
    note: str = ""


def row(
    suite: str,
    name: str,
    *,
    measured: float,
    baseline: float,
    unit: str,
    ratio: float,
    target: str,
    met: bool,
    note: str = "",
) -> BenchRow:
    """Build a row (keyword-only, so the numbers cannot be swapped by accident)."""
    return BenchRow(suite, name, measured, baseline, unit, ratio, target, met, note)


def per_call_samples(fn: Callable[[], object], *, calls: int, repeats: int) -> list[float]:
    """Seconds per call of `fn`, one sample per repeat of `calls` back-to-back calls."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls)
    return samples


def interleaved_p50(
    candidate: Callable[[], object],
    baseline: Callable[[], object],
    *,
    calls: int = 200,
    repeats: int = 25,
) -> tuple[float, float]:
    """Median seconds per call of candidate and baseline, measured alternately in one loop."""
    cand: list[float] = []
    base: list[float] = []
    for _ in range(repeats):
        base.extend(per_call_samples(baseline, calls=calls, repeats=1))
        cand.extend(per_call_samples(candidate, calls=calls, repeats=1))
    return statistics.median(cand), statistics.median(base)


def latencies(fn: Callable[[], object], *, calls: int) -> list[float]:
    """Seconds taken by each of `calls` individual calls (for percentiles of single requests)."""
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100) of samples, nearest-rank."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def stop_processes(processes: list[subprocess.Popen[bytes]], timeout: float = 20.0) -> None:
    """Terminate every server the benchmark started, killing any that does not exit in time."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
