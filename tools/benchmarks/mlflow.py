"""MLflow suite: what logging to MLflow costs the predict path.

Two sets of services in one process serve the same NBA model (the same .skops file), both with
monitoring on; one also mirrors to MLflow (embedded `sqlite:///` tracking, the in-process case,
where MLflow's own work competes with predictions for the GIL) with the metrics flush every
second instead of every 30 s. One-record predictions alternate between the two in chunks.

1. Predict throughput with MLflow logging on vs off. Target: within 5% (ratio >= 0.95).
2. The same while the tracking server does not answer (the relay probes and backs off, the
   outbox grows). Target: within 5%.
3. Interleaving shares the background threads between both sides, so the MLflow work is also
   measured on its own: one flush and its delivery (serving metrics of a version that served),
   as a share of the default 30 s flush interval — the most it can take from predictions.
   Target: <= 5%.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import BenchRow, interleaved_p50, row
from nba_mcp_deploy import nba_models
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.mlflow_sync.flusher import DEFAULT_FLUSH_INTERVAL_SEC
from nba_mcp_deploy.mlflow_sync.sync import MlflowSync
from nba_mcp_deploy.services import Services, build_services

SUITE = "mlflow"
REPO = Path(__file__).resolve().parents[2]
MODEL = "next_season"
FLUSH_INTERVAL_SEC = 1.0


def _serving(workdir: Path, name: str, skops_file: Path) -> Services:
    config = DeploymentConfig(registry_dir=workdir / name, model_roots=(skops_file.parent,))
    services = build_services(config)
    services.manager.deploy_model(MODEL, "v1.0", model_uri=str(skops_file))
    return services


def _with_mlflow(services: Services, tracking_uri: str) -> MlflowSync:
    """Attach MLflow as build_services does, with a faster flush (more work than the default)."""
    config = services.config.replace(enable_mlflow=True, mlflow_tracking_uri=tracking_uri, enable_mlflow_registry=True)
    registry = services.registry
    sync = MlflowSync(
        config,
        store=services.store,
        registry=registry,
        manager=services.manager,
        monitoring=services.monitoring,
        clock=services.clock,
        flush_interval_sec=FLUSH_INTERVAL_SEC,
    )
    services.mlflow = sync
    sync.start()
    registry.register_model(MODEL, "v1.0", model_uri=services.manager.routing(MODEL).versions["v1.0"].model_uri)
    return sync


def _compare(name: str, on: Services, off: Services, record: list[dict[str, float]], quick: bool) -> BenchRow:
    """Throughput of one-record predictions, `on` against `off`, measured alternately."""
    with_mlflow, without = interleaved_p50(
        lambda: on.manager.predict(MODEL, record),
        lambda: off.manager.predict(MODEL, record),
        calls=200,
        repeats=7 if quick else 25,
    )
    ratio = without / with_mlflow  # throughput on / throughput off
    return row(
        SUITE,
        name,
        measured=1 / with_mlflow,
        baseline=1 / without,
        unit="predict/s",
        ratio=ratio,
        target=">= 0.95 (within 5%)",
        met=ratio >= 0.95,
    )


def _flush_cost(on: Services, sync: MlflowSync, record: list[dict[str, float]], rounds: int) -> BenchRow:
    """Median wall time of one metrics flush and its delivery into MLflow, after some traffic."""
    samples = []
    for _ in range(rounds):
        for _ in range(50):
            on.manager.predict(MODEL, record)
        started = time.perf_counter()
        sync.flusher.flush()
        assert sync.relay.drain(60)
        samples.append(time.perf_counter() - started)
    cost = statistics.median(samples)
    share = cost / DEFAULT_FLUSH_INTERVAL_SEC
    return row(
        SUITE,
        "MLflow work per metrics flush, share of the flush interval",
        measured=cost * 1e3,
        baseline=DEFAULT_FLUSH_INTERVAL_SEC * 1e3,
        unit="ms",
        ratio=share,
        target="<= 0.05",
        met=share <= 0.05,
        note="flush + delivery to embedded sqlite MLflow, median",
    )


def run(quick: bool) -> list[BenchRow]:
    nba_models.quiet_mlflow()
    with tempfile.TemporaryDirectory(prefix="nba-bench-mlflow-") as tmp:
        workdir = Path(tmp)
        trained = nba_models.train_on_raptor([REPO / "data"])
        skops_file = nba_models.save_skops(trained.logistic, workdir / "models" / "logistic.skops")
        record = nba_models.records(trained.holdout.iloc[:1])
        off = _serving(workdir, "off", skops_file)
        on = _serving(workdir, "on", skops_file)
        (workdir / "mlflow").mkdir()
        sync = _with_mlflow(on, f"sqlite:///{workdir / 'mlflow' / 'mlflow.db'}")
        assert sync.drain(120), "MLflow never caught up before the measurement"
        before = sync.status().delivered
        logging_on = _compare("predict throughput, MLflow logging on vs off", on, off, record, quick)
        sync.drain(60)
        delivered = sync.status().delivered - before
        down = _serving(workdir, "down", skops_file)
        _with_mlflow(down, "http://127.0.0.1:9")  # nothing listens there
        outage = _compare("predict throughput, MLflow not answering vs off", down, off, record, quick)
        backlog = down.store.outbox_counts().pending
        flush = _flush_cost(on, sync, record, rounds=5 if quick else 15)
        for services in (off, on, down):
            services.close()
        return [
            dataclasses.replace(
                logging_on,
                note=f"embedded sqlite tracking, flush every {FLUSH_INTERVAL_SEC:g} s; {delivered} delivered",
            ),
            dataclasses.replace(outage, note=f"outbox backlog afterwards: {backlog}"),
            flush,
        ]
