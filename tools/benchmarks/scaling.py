"""Scaling suite: how the drift check and the predict path grow with data size, and the plot.

1. The prepared-reference drift check (KS + PSI + KL, 20 float features, 5 shifted) at 1,000 to
   1,000,000 rows per side, against a loop of `scipy.stats.ks_2samp` over the same columns (KS
   alone), interleaved. Target at every size: <= 1x the scipy loop (the issue's <= 0.5x is set
   at 1,000,000 rows and checked by the drift suite).
2. `ModelServingManager.predict` (the monitor observing, as in the server) on one request of 1
   to 10,000 records (JSON-like dicts, the form an MCP client sends), against the model's own
   `predict` on the same rows as a NumPy matrix, interleaved.
   Reported: the overhead per record; target <= 25 us per record at every size.

`python tools/bench.py scaling --record` also writes `docs/benchmarks-scaling.png`.
"""

from __future__ import annotations

import functools
import re
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import BenchRow, interleaved_p50, row
from benchmarks.drift import FEATURES, drift_rows
from nba_mcp_deploy import nba_models
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.services import build_services

SUITE = "scaling"
REPO = Path(__file__).resolve().parents[2]
PLOT = REPO / "docs" / "benchmarks-scaling.png"
DRIFT_NAME = "drift check, {rows:,} rows"
PREDICT_NAME = "predict overhead, {records:,} record(s) per request"


def drift_row(rows: int, repeats: int) -> BenchRow:
    """The drift suite's single-thread measurement at `rows` per side, held to this suite's target."""
    (serial, _), _, _ = drift_rows(rows, repeats)
    return row(
        SUITE,
        DRIFT_NAME.format(rows=rows),
        measured=serial.measured,
        baseline=serial.baseline,
        unit="s",
        ratio=serial.ratio,
        target="<= 1x scipy",
        met=serial.measured <= serial.baseline,
        note=f"KS+PSI+KL, {FEATURES} features, 1 thread; baseline scipy ks_2samp loop (KS alone); median of {repeats}",
    )


def predict_rows(sizes: list[int], repeats: int) -> list[BenchRow]:
    trained = nba_models.train_on_raptor([REPO / "data"])
    model = trained.logistic
    pool = trained.holdout[nba_models.FEATURES]
    out = []
    with tempfile.TemporaryDirectory() as workdir:
        services = build_services(DeploymentConfig(registry_dir=Path(workdir)))
        manager = services.manager  # with the monitor observing every prediction, as the server runs it
        manager.deploy_model("bench", "v1.0", model_instance=model)
        for records in sizes:
            frame = pool.sample(n=records, replace=True, random_state=records)
            payload = nba_models.records(frame)
            matrix = frame.to_numpy(dtype=np.float64)
            calls = max(1, 2000 // records)
            ours, native = interleaved_p50(
                functools.partial(manager.predict, "bench", payload),
                functools.partial(model.predict, matrix),
                calls=calls,
                repeats=repeats,
            )
            per_record_us = (ours - native) / records * 1e6
            out.append(
                row(
                    SUITE,
                    PREDICT_NAME.format(records=records),
                    measured=per_record_us,
                    baseline=native / records * 1e6,
                    unit="us/record",
                    ratio=ours / native,
                    target="<= 25 us/record",
                    met=per_record_us <= 25,
                    note=f"ours {ours * 1e3:.3f} ms vs model.predict {native * 1e3:.3f} ms per request (sklearn)",
                )
            )
        services.close()
    return out


def run(quick: bool) -> list[BenchRow]:
    drift_sizes = [1_000, 10_000, 100_000] if quick else [1_000, 10_000, 100_000, 1_000_000]
    predict_sizes = [1, 10, 100, 1_000] if quick else [1, 10, 100, 1_000, 10_000]
    rows = [drift_row(n, 3 if quick or n >= 1_000_000 else 5) for n in drift_sizes]
    rows += predict_rows(predict_sizes, 5 if quick else 15)
    return rows


def _size(bench_row: BenchRow) -> int:
    """The data size in a row's name ("drift check, 10,000 rows" -> 10000)."""
    return int(re.search(r", ([\d,]+) ", bench_row.name + " ").group(1).replace(",", ""))  # type: ignore[union-attr]


def plot(rows: list[BenchRow], path: Path = PLOT) -> Path:
    """Two log-log panels: drift-check time and predict time per request against data size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drift = [r for r in rows if r.suite == SUITE and r.unit == "s"]
    predict = [r for r in rows if r.suite == SUITE and r.unit == "us/record"]
    sizes_d = [_size(r) for r in drift]
    sizes_p = [_size(r) for r in predict]
    overhead = [(n, r.measured * n / 1e3) for r, n in zip(predict, sizes_p, strict=True) if r.measured > 0]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.loglog(sizes_d, [r.measured for r in drift], "o-", label="ours: KS+PSI+KL, prepared reference")
    left.loglog(sizes_d, [r.baseline for r in drift], "s--", label="scipy ks_2samp loop (KS only)")
    left.set(xlabel="rows per side (20 features)", ylabel="seconds per check", title="Drift check time")
    ours = [(r.measured + r.baseline) * n / 1e3 for r, n in zip(predict, sizes_p, strict=True)]
    right.loglog(sizes_p, ours, "o-", label="predict() through the manager")
    native = [r.baseline * n / 1e3 for r, n in zip(predict, sizes_p, strict=True)]
    right.loglog(sizes_p, native, "s--", label="model.predict on a NumPy matrix")
    right.loglog([n for n, _ in overhead], [o for _, o in overhead], "^:", label="overhead (difference, where > 0)")
    right.set(xlabel="records per request", ylabel="milliseconds per request", title="Predict time and overhead")
    for axes in (left, right):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
