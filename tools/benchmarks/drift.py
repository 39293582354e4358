"""Drift suite: the prepared-reference drift check against scipy and Evidently, and log_prediction.

1. KS + PSI + KL on 20 float features (5 shifted by 0.2 sd), reference prepared once, against a
   plain loop of `scipy.stats.ks_2samp` over the same 20 columns (KS alone), interleaved in this
   process. Target: <= 0.5x the scipy loop. The KS results are checked equal to scipy's.
2. The same check against Evidently 0.7's `Report([DataDriftPreset(method="ks")])` on the same
   frames, run in its own virtual environment (pandas<3) by `tools/evidently_baseline.py`.
   Target: >= 50x faster. Degrades to "not measured: <reason>" when that venv cannot be made.
3. `ModelMonitor.log_prediction` with 20 features, single-threaded. Target: >= 100,000 calls/s.

The targets are set at full size (1,000,000 rows). At `--quick` sizes (100,000 rows) the KS
p-value dominates both sides (scipy's `kstwo.sf` with n ~ 50,000 uses the Durbin matrix, ~10 ms a
column, paid equally by ours and by `ks_2samp`), so ratios there sit closer to 1.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from benchmarks.common import BenchRow, row
from evidently_baseline import arrays, column_names, venv_python
from nba_mcp_deploy.clock import SystemClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.monitoring import DriftMethod, ModelMonitor, detect_drift_many, prepare_reference

SUITE = "drift"
FEATURES = 20
SHIFTED = 5
SEED = 0
TOOLS = Path(__file__).resolve().parents[1]


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def drift_rows(rows: int, repeats: int) -> tuple[list[BenchRow], float, float]:
    """Row 1, serial and threaded; also both medians (seconds), reused by the Evidently row."""
    reference, current = arrays(rows, FEATURES, SHIFTED, SEED)
    names = column_names(FEATURES)
    prepared = prepare_reference({n: reference[:, j] for j, n in enumerate(names)})
    current_columns = {n: np.ascontiguousarray(current[:, j]) for j, n in enumerate(names)}
    reference_columns = [np.ascontiguousarray(reference[:, j]) for j in range(FEATURES)]
    methods = [DriftMethod.KS_TEST, DriftMethod.PSI, DriftMethod.KL_DIVERGENCE]

    def candidate(workers: int = 1) -> Any:
        return detect_drift_many(prepared, current_columns, methods=methods, workers=workers)

    def baseline() -> Any:
        return [stats.ks_2samp(reference_columns[j], current_columns[n]) for j, n in enumerate(names)]

    cores = os.cpu_count() or 1
    ours: list[float] = []
    threaded: list[float] = []
    theirs: list[float] = []
    for _ in range(repeats):
        theirs.append(_timed(baseline))
        ours.append(_timed(candidate))
        threaded.append(_timed(lambda: candidate(cores)))
    reports, scipy_results = candidate(), baseline()
    ks = reports[DriftMethod.KS_TEST]
    equal = all(
        abs((r.p_value or 0.0) - float(s.pvalue)) <= 1e-9 and abs((r.score or 0.0) - float(s.statistic)) <= 1e-12
        for r, s in zip(ks.results, scipy_results, strict=True)
    )
    mine, base, parallel = statistics.median(ours), statistics.median(theirs), statistics.median(threaded)
    note = (
        f"{rows:,} x {rows:,} rows x {FEATURES} features, reference prepared; KS equal to scipy: {equal}; "
        f"KS flags {len(ks.drifted_features)}, PSI {len(reports[DriftMethod.PSI].drifted_features)}, "
        f"KL {len(reports[DriftMethod.KL_DIVERGENCE].drifted_features)} of {SHIFTED} shifted; "
        f"median of {repeats}, interleaved"
    )
    serial_row = row(
        SUITE,
        "ks+psi+kl 20 features (1 thread) vs scipy ks_2samp loop",
        measured=mine,
        baseline=base,
        unit="s",
        ratio=mine / base,
        target="<= 0.5x",
        met=mine / base <= 0.5 and equal,
        note=note,
    )
    threaded_row = row(
        SUITE,
        f"ks+psi+kl 20 features ({cores} threads) vs scipy ks_2samp loop",
        measured=parallel,
        baseline=base,
        unit="s",
        ratio=parallel / base,
        target="<= 0.5x",
        met=parallel / base <= 0.5 and equal,
        note=f"detect_drift_many(workers={cores}); same data and baseline as the row above",
    )
    return [serial_row, threaded_row], mine, parallel


def evidently_row(rows: int, serial: float, ours: float) -> BenchRow:
    """Row 2: Evidently in its own venv, one timed report (it takes tens of seconds at full size)."""
    name = "ks+psi+kl 20 features vs Evidently DataDriftPreset(ks)"
    setup = subprocess.run(
        [sys.executable, str(TOOLS / "evidently_baseline.py"), "setup"],
        capture_output=True,
        text=True,
        check=False,
    )
    reason = None
    try:
        ready = json.loads(setup.stdout.strip().splitlines()[-1]) if setup.stdout.strip() else {}
    except json.JSONDecodeError:
        ready = {}
    if not ready.get("ok"):
        reason = ready.get("reason") or setup.stderr.strip()[-200:] or "evidently venv could not be created"
    seconds = float("nan")
    if reason is None:
        command = [str(venv_python()), str(TOOLS / "evidently_baseline.py"), "run", "--rows", str(rows)]
        command += ["--features", str(FEATURES), "--shifted", str(SHIFTED), "--seed", str(SEED)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        try:
            seconds = float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])
            versions = ready.get("versions", "")
        except (IndexError, KeyError, ValueError):
            reason = f"evidently run failed: {done.stderr.strip()[-200:]}"
    if reason is not None:
        return row(
            SUITE,
            name,
            measured=ours,
            baseline=float("nan"),
            unit="s",
            ratio=float("nan"),
            target=">= 50x faster",
            met=False,
            note=f"not measured: {reason}",
        )
    speedup = seconds / ours
    return row(
        SUITE,
        name,
        measured=ours,
        baseline=seconds,
        unit="s",
        ratio=speedup,
        target=">= 50x faster",
        met=speedup >= 50,
        note=(
            f"ours with {os.cpu_count()} threads ({seconds / serial:.0f}x with 1 thread); evidently/pandas "
            f"{versions}, own venv, one run, not interleaved; ratio = speed-up"
        ),
    )


def log_prediction_row(calls: int) -> BenchRow:
    """Row 3: single-threaded log_prediction calls per second with 20 features."""
    monitor = ModelMonitor("bench", config=DeploymentConfig(monitor_window_size=100_000), clock=SystemClock())
    rng = np.random.default_rng(SEED)
    names = column_names(FEATURES)
    records = [dict(zip(names, values, strict=True)) for values in rng.standard_normal((1000, FEATURES)).tolist()]
    ids = [f"p{i}" for i in range(calls)]
    log = monitor.log_prediction
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for i in range(calls):
            log(ids[i], records[i % 1000], 0.5, latency_ms=3.0)
        best = max(best, calls / (time.perf_counter() - start))
    target = 100_000.0
    return row(
        SUITE,
        "log_prediction calls/s (20 features)",
        measured=best,
        baseline=target,
        unit="calls/s",
        ratio=best / target,
        target=">= 1x (100,000/s)",
        met=best >= target,
        note=f"best of 3 runs of {calls:,} calls; window 100,000 (ring buffer wraps)",
    )


def run(quick: bool) -> list[BenchRow]:
    rows = 100_000 if quick else 1_000_000
    drift, serial, threaded = drift_rows(rows, repeats=2 if quick else 3)
    return [*drift, evidently_row(rows, serial, threaded), log_prediction_row(50_000 if quick else 300_000)]
