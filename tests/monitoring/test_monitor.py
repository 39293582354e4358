"""ModelMonitor: logging, batches, actuals, windows, versions, reference sources, thread safety."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from nba_mcp_deploy.monitoring import ModelMonitor
from nba_mcp_deploy.serving.ports import PredictionBatch


def _monitor(tmp_path: Path, **config: object) -> tuple[ModelMonitor, ManualClock]:
    clock = ManualClock()
    cfg = DeploymentConfig(data_roots=(tmp_path,), **config)  # type: ignore[arg-type]
    return ModelMonitor("win_probability", config=cfg, clock=clock), clock


def _batch(rows: int, start: int, *, version: str = "v1", error: str | None = None, shift: float = 0.0):
    rng = np.random.default_rng(start)
    return PredictionBatch(
        model_id="win_probability",
        version=version,
        request_id=f"r{start}",
        prediction_ids=[f"p{start + i}" for i in range(rows)],
        feature_names=["elo_diff", "rest_days"],
        features=rng.normal(shift, 1.0, size=(rows, 2)),
        predictions=None if error else rng.uniform(size=rows),
        latency_ms=12.5,
        error=error,
        timestamp=1_700_000_000.0,
    )


def test_logged_inputs_are_the_default_current_data(tmp_path: Path) -> None:
    monitor, _ = _monitor(tmp_path)
    rng = np.random.default_rng(0)
    reference = {"elo_diff": rng.normal(size=2000), "rest_days": rng.normal(size=2000)}
    monitor.set_reference_data(reference)
    logged = rng.normal(size=(600, 2))
    logged[:, 0] += 0.5
    for i, (elo, rest) in enumerate(logged):
        monitor.log_prediction(f"id{i}", {"elo_diff": elo, "rest_days": rest}, 0.6, latency_ms=3.0)
    report = monitor.detect_feature_drift(method="ks")
    by = {r.feature: r for r in report.results}
    expected = stats.ks_2samp(reference["elo_diff"], logged[:, 0])
    assert by["elo_diff"].p_value == pytest.approx(expected.pvalue, abs=1e-9)
    assert report.drifted_features == ["elo_diff"]
    assert report.current_rows == 600


def test_batches_wrap_the_bounded_window(tmp_path: Path) -> None:
    monitor, _ = _monitor(tmp_path, monitor_window_size=100)
    for start in range(0, 250, 25):
        monitor.observe(_batch(25, start))
    view = monitor.recent()
    assert view.rows == 100
    assert monitor.logged == 250
    assert int(view.heads.sum()) == 4  # four requests of 25 rows survive
    result = monitor.log_actuals({"p249": 1, "p150": 0, "p0": 1, "never": 1})
    assert result.matched == 2
    assert sorted(result.unknown_ids) == ["never", "p0"]
    huge = _batch(130, 1000)
    monitor.observe(huge)
    assert monitor.recent().rows == 100
    np.testing.assert_array_equal(monitor.recent().features["elo_diff"], huge.features[-100:, 0])


def test_observe_never_raises_on_bad_batches(tmp_path: Path) -> None:
    monitor, _ = _monitor(tmp_path)
    bad = PredictionBatch("win_probability", "v1", "r", ["a"], ["x"], "not an array", None, 1.0, None, 0.0)  # type: ignore[arg-type]
    monitor.observe(bad)
    monitor.observe(None)  # type: ignore[arg-type]
    assert monitor.observe_failures >= 1


def test_windows_versions_and_performance(tmp_path: Path) -> None:
    monitor, clock = _monitor(tmp_path, error_rate_threshold=0.2)
    for i in range(40):
        monitor.log_prediction(f"old{i}", {"x": 1.0}, 1, actual=0, latency_ms=500.0, version="v1")
    clock.advance(3 * 3600)
    for i in range(60):
        error = "boom" if i % 10 == 0 else None
        monitor.log_prediction(f"new{i}", {"x": 2.0}, i % 2, latency_ms=float(i), error=error, version="v2")
    monitor.log_actuals({f"new{i}": i % 2 for i in range(30)})
    recent = monitor.calculate_performance(window_hours=1)
    assert (recent.count, recent.requests, recent.errors, recent.with_actuals) == (60, 60, 6, 30)
    assert recent.error_rate == pytest.approx(0.1)
    assert recent.accuracy == 1.0
    assert recent.latency_p95_ms == pytest.approx(np.percentile(np.arange(60.0), 95))
    everything = monitor.calculate_performance(window_hours=None)
    assert everything.count == 100
    assert everything.with_actuals == 70
    assert everything.accuracy == pytest.approx(30 / 70)
    assert monitor.calculate_performance(window_hours=None, version="v1").count == 40
    assert monitor.calculate_performance(window_hours=None, version="v9").count == 0
    with pytest.raises(InvalidInputError):
        monitor.calculate_performance(window_hours=-1)


def test_drift_errors_are_clear(tmp_path: Path) -> None:
    monitor, clock = _monitor(tmp_path)
    with pytest.raises(ConflictError, match="no reference data"):
        monitor.detect_feature_drift()
    monitor.set_reference_data([{"x": 1.0, "prediction": 0.2}, {"x": 2.0, "prediction": 0.4}] * 50)
    with pytest.raises(ConflictError, match="no logged predictions"):
        monitor.detect_feature_drift()
    monitor.log_prediction("a", {"x": 1.5}, 0.3)
    clock.advance(7200)
    with pytest.raises(ConflictError, match="in the last 1 hours"):
        monitor.detect_feature_drift(window_hours=1)
    assert monitor.detect_prediction_drift().results[0].current_size == 1


def test_reference_per_version_and_prediction_drift(tmp_path: Path) -> None:
    monitor, _ = _monitor(tmp_path)
    rng = np.random.default_rng(2)
    monitor.set_reference_data({"x": rng.normal(size=500)})
    summary = monitor.set_reference_data(
        {"x": rng.normal(5, 1, size=500), "score": rng.uniform(size=500)},
        version="v2",
        prediction_column="score",
    )
    assert summary.has_predictions
    assert summary.numeric_features == ["x"]
    assert monitor.reference("v2").numeric["x"].sorted_values.mean() > 4
    assert monitor.reference("v7") is monitor.reference(None)
    with pytest.raises(ConflictError, match="reference predictions"):
        monitor.detect_prediction_drift([0.1, 0.2])
    report = monitor.detect_prediction_drift(rng.uniform(0.5, 1.0, size=300), version="v2", method="psi")
    assert report.results[0].is_drift
    assert report.results[0].feature == "prediction"


def test_reference_from_files_confined_to_data_roots(tmp_path: Path) -> None:
    monitor, _ = _monitor(tmp_path, max_reference_rows=1000)
    frame = pd.DataFrame({"x": np.arange(10.0), "team": ["BOS", "LAL"] * 5})
    frame.to_csv(tmp_path / "ref.csv", index=False)
    frame.to_parquet(tmp_path / "ref.parquet")
    summary = monitor.set_reference_data("ref.csv")
    assert summary.rows == 10
    assert summary.categorical_features == ["team"]
    assert monitor.set_reference_data(tmp_path / "ref.parquet").numeric_features == ["x"]
    outside = tmp_path.parent / "outside.csv"
    frame.to_csv(outside, index=False)
    with pytest.raises(PermissionDeniedError):
        monitor.set_reference_data(str(outside))
    with pytest.raises(NotFoundError):
        monitor.set_reference_data("missing.csv")
    pd.DataFrame({"x": np.arange(1001.0)}).to_csv(tmp_path / "big.csv", index=False)
    with pytest.raises(InvalidInputError, match="at most 1000 rows"):
        monitor.set_reference_data("big.csv")
    (tmp_path / "notes.txt.gz").write_text("x")
    with pytest.raises(InvalidInputError, match=r"\.csv or \.parquet"):
        monitor.set_reference_data("notes.txt.gz")


def test_non_numeric_values_are_missing_not_errors(tmp_path: Path) -> None:
    monitor, _ = _monitor(tmp_path)
    monitor.set_reference_data({"x": np.arange(100.0)})
    monitor.log_prediction("a", {"x": "not a number"}, "n/a")
    monitor.log_prediction("b", {"x": 3.0, "extra": 1.0}, 0.5)
    view = monitor.recent()
    assert np.isnan(view.features["x"][0])
    assert np.isnan(view.predictions[0])
    assert np.isnan(view.features["extra"][0])
    assert view.features["extra"][1] == 1.0
    result = monitor.detect_feature_drift(features=["x"]).results[0]
    assert result.current_missing == 1
    assert result.current_size == 1


def test_many_threads_logging_counts_are_exact(tmp_path: Path) -> None:
    monitor, _ = _monitor(tmp_path, monitor_window_size=50_000)
    threads, per_thread = 8, 2_000

    def work(t: int) -> None:
        for i in range(per_thread):
            if i % 4 == 0:
                monitor.observe(_batch(3, t * 1_000_000 + i))
            else:
                monitor.log_prediction(f"t{t}-{i}", {"elo_diff": float(i), "rest_days": 1.0}, 0.5, latency_ms=1.0)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    batches = threads * (per_thread // 4)
    singles = threads * per_thread - batches
    assert monitor.logged == singles + 3 * batches
    view = monitor.recent()
    assert view.rows == singles + 3 * batches
    assert int(view.heads.sum()) == singles + batches
    assert monitor.log_actuals({f"t{t}-1": 1 for t in range(threads)}).matched == threads
