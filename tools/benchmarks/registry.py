"""Registry benchmark: our sqlite registry against MLflow's model registry on a local sqlite file.

Both run in this process on the same disk. Registration rates are measured interleaved (a chunk
of MLflow calls, then a chunk of ours, repeated) because the machine is shared and noisy; MLflow
registers fewer versions (it is much slower) and the rates per call are compared. Search and
reopen latencies are absolute targets, with MLflow's equivalent call as the baseline.
"""

from __future__ import annotations

import logging
import random
import shutil
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.common import BenchRow, latencies, percentile, row
from nba_mcp_deploy.registry.registry import ModelRegistry
from nba_mcp_deploy.stores.sqlite import SqliteRegistryStore

SUITE = "registry"
MODELS = (
    "win_probability",
    "point_spread",
    "game_total",
    "player_points",
    "player_rebounds",
    "player_assists",
    "three_point_makes",
    "injury_risk",
    "minutes_played",
    "clutch_win",
    "home_edge",
    "pace",
    "first_half_total",
    "mvp_share",
    "draft_value",
    "playoff_odds",
    "seeding",
    "turnovers",
    "double_double",
    "upset_alert",
)
# Registrations per second, as a multiple of MLflow's in the same run.
REGISTRATION_TARGET = 5.0
TEAMS = ("LAL", "BOS", "GSW", "MIA", "DEN", "MIL", "PHX", "NYK", "DAL", "OKC")
FRAMEWORKS = ("sklearn", "xgboost", "lightgbm")
ALGORITHMS = ("logistic regression", "gradient boosting", "random forest")


def _payload(i: int, rng: random.Random) -> dict[str, Any]:
    """The i-th version: NBA-flavoured, deterministic, the same shape for both registries."""
    team = TEAMS[i % len(TEAMS)]
    return {
        "model_id": MODELS[i % len(MODELS)],
        "version": f"v{i // len(MODELS)}.{i % 7}",
        "framework": rng.choice(FRAMEWORKS),
        "algorithm": rng.choice(ALGORITHMS),
        "metrics": {
            "accuracy": rng.uniform(0.5, 1.0),
            "auc": rng.uniform(0.5, 1.0),
            "log_loss": rng.uniform(0.1, 0.9),
        },
        "hyperparameters": {"max_depth": rng.randint(2, 10), "learning_rate": 0.1, "n_estimators": 200},
        "tags": {"team": team, "season": f"20{19 + i % 6}"},
        "description": f"Trained on 2019-2025 box scores; focus team {team}; run {i}",
        "model_uri": f"models/{MODELS[i % len(MODELS)]}/{i}.skops",
    }


@contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """MLflow logs its migrations and warns about deprecated stages; neither is a result."""
    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _mlflow_client(db: Path) -> Any:
    from mlflow import MlflowClient

    for name in ("mlflow", "alembic"):  # mlflow configures its loggers when imported
        logging.getLogger(name).setLevel(logging.ERROR)
    uri = f"sqlite:///{db}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(quick: bool) -> list[BenchRow]:
    ours_total, mlflow_total = (1_000, 100) if quick else (10_000, 500)
    rounds = 10
    workdir = Path(tempfile.mkdtemp(prefix="nba-registry-bench-"))
    try:
        with _quiet_mlflow():
            return _run(workdir, ours_total, mlflow_total, rounds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run(workdir: Path, ours_total: int, mlflow_total: int, rounds: int) -> list[BenchRow]:
    rng = random.Random(7)
    client = _mlflow_client(workdir / "mlflow.db")
    for name in MODELS:
        client.create_registered_model(name)
    store = SqliteRegistryStore(workdir / "ours")
    relaxed_store = SqliteRegistryStore(workdir / "relaxed", sync_every_commit=False)
    registry, relaxed = ModelRegistry(store), ModelRegistry(relaxed_store)
    ours_payloads = [_payload(i, rng) for i in range(ours_total)]
    mlflow_payloads = [_payload(i, rng) for i in range(mlflow_total)]

    def register_ours(target: ModelRegistry, chunk: list[dict[str, Any]]) -> Callable[[], None]:
        def call() -> None:
            for p in chunk:
                target.register_model(**p)

        return call

    def register_mlflow(chunk: list[dict[str, Any]]) -> Callable[[], None]:
        def call() -> None:
            for p in chunk:
                client.create_model_version(p["model_id"], p["model_uri"], tags=p["tags"], description=p["description"])

        return call

    ours_sec = relaxed_sec = mlflow_sec = 0.0
    ours_step, mlflow_step = ours_total // rounds, mlflow_total // rounds
    for r in range(rounds):
        mlflow_sec += _timed(register_mlflow(mlflow_payloads[r * mlflow_step : (r + 1) * mlflow_step]))
        ours_sec += _timed(register_ours(registry, ours_payloads[r * ours_step : (r + 1) * ours_step]))
        relaxed_sec += _timed(register_ours(relaxed, ours_payloads[r * ours_step : (r + 1) * ours_step]))
    mlflow_rate = mlflow_total / mlflow_sec
    rows = [
        _register_row(
            f"register {ours_total:,} versions (fsync per commit)",
            ours_total / ours_sec,
            mlflow_rate,
            f"default durability; MLflow create_model_version x{mlflow_total}, interleaved",
        ),
        _register_row(
            f"register {ours_total:,} versions (sync_every_commit=False)",
            ours_total / relaxed_sec,
            mlflow_rate,
            "synchronous=NORMAL: survives a killed process, a power cut may lose the last commits",
        ),
    ]
    relaxed_store.close()
    _promote_some(registry)
    rows.append(_search_row(registry, client, ours_total))
    store.close()
    rows.append(_reopen_row(workdir, ours_total))
    return rows


def _register_row(name: str, rate: float, mlflow_rate: float, note: str) -> BenchRow:
    return row(
        SUITE,
        name,
        measured=rate,
        baseline=mlflow_rate,
        unit="calls/s",
        ratio=rate / mlflow_rate,
        target=f">= {REGISTRATION_TARGET:g}x MLflow",
        met=rate >= REGISTRATION_TARGET * mlflow_rate,
        note=note,
    )


def _promote_some(registry: ModelRegistry) -> None:
    """A realistic mix of stages: each model gets a production version and a few in staging."""
    for name in MODELS:
        versions = registry.list_versions(name)
        for v in versions[-4:]:
            registry.promote_model(name, v.version, "staging")
        registry.promote_model(name, versions[-1].version, "production")


def _search_queries() -> list[dict[str, Any]]:
    """What agents ask: one model's production or newest versions, good models of a framework, ..."""
    return [
        {"model_id": "player_points", "stage": "production"},
        {"model_id": "win_probability", "order_by": "version desc", "limit": 20},
        {
            "framework": "xgboost",
            "metrics": ["accuracy >= 0.9"],
            "order_by": "metrics.accuracy desc",
            "limit": 20,
        },
        {"tags": {"team": "LAL"}, "limit": 20},
        {"text": "team BOS", "limit": 20},
        {"stage": "staging", "order_by": "registered_at desc"},
        {"metrics": ["accuracy >= 0.8", "log_loss < 0.4"], "order_by": "metrics.auc desc", "limit": 20},
        {"limit": 50},
    ]


def _searcher(registry: ModelRegistry, query: dict[str, Any]) -> Callable[[], object]:
    return lambda: registry.search_models(**query)


def _mlflow_searcher(client: Any, filter_string: str) -> Callable[[], object]:
    return lambda: client.search_model_versions(filter_string=filter_string, max_results=20)


def _search_row(registry: ModelRegistry, client: Any, versions: int) -> BenchRow:
    queries = _search_queries()
    per_query = [latencies(_searcher(registry, q), calls=40) for q in queries]
    samples = [s for values in per_query for s in values]
    p50 = percentile(samples, 50)
    worst = max(statistics.median(v) for v in per_query)
    mlflow_filters = [
        "name='player_points'",
        "tags.team='LAL'",
        "name='win_probability' and tags.season='2020'",
    ]
    mlflow_samples = [s for f in mlflow_filters for s in latencies(_mlflow_searcher(client, f), calls=15)]
    mlflow_p50 = percentile(mlflow_samples, 50)
    return row(
        SUITE,
        f"search_models over {versions:,} versions, p50",
        measured=p50 * 1e3,
        baseline=mlflow_p50 * 1e3,
        unit="ms",
        ratio=mlflow_p50 / p50,
        target="p50 <= 5 ms",
        met=p50 <= 0.005,
        note=(
            f"{len(queries)} query shapes x40; p95 {percentile(samples, 95) * 1e3:.2f} ms, slowest shape p50 "
            f"{worst * 1e3:.2f} ms; baseline MLflow search_model_versions on its smaller registry"
        ),
    )


def _reopen_row(workdir: Path, versions: int) -> BenchRow:
    def reopen_ours() -> None:
        store = SqliteRegistryStore(workdir / "ours")
        registry = ModelRegistry(store)
        registry.get_statistics()
        registry.get_production_model("win_probability")
        store.close()

    def reopen_mlflow() -> None:
        _mlflow_client(workdir / "mlflow.db").search_registered_models(max_results=10)

    ours = statistics.median(_timed(reopen_ours) for _ in range(7))
    mlflow = statistics.median(_timed(reopen_mlflow) for _ in range(3))
    return row(
        SUITE,
        f"reopen a {versions:,}-version registry",
        measured=ours,
        baseline=mlflow,
        unit="s",
        ratio=mlflow / ours,
        target="<= 0.2 s",
        met=ours <= 0.2,
        note="open + integrity check + statistics + production lookup; MLflow: new client + first search",
    )
