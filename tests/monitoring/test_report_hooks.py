"""Report listeners hear every drift check and performance report, with the model, version and
time; a failing listener never fails the check and never stops the other listeners."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.monitoring import MonitoringService, MonitorReport, ReportKind
from nba_mcp_deploy.monitoring.drift import DriftReport
from nba_mcp_deploy.monitoring.performance import PerformanceReport


class Recorder:
    def __init__(self) -> None:
        self.reports: list[MonitorReport] = []

    def on_report(self, report: MonitorReport) -> None:
        self.reports.append(report)


class Broken:
    def on_report(self, report: MonitorReport) -> None:
        raise RuntimeError("listener bug")


def test_every_report_reaches_every_listener(tmp_path: Path) -> None:
    clock = ManualClock(1_700_000_000.0)
    service = MonitoringService(DeploymentConfig(data_roots=(tmp_path,)), clock=clock)
    recorder = Recorder()
    service.add_report_listener(Broken())
    service.add_report_listener(recorder)
    monitor = service.monitor("win_probability")
    rng = np.random.default_rng(0)
    reference = {"elo_diff": rng.normal(size=500), "prediction": rng.uniform(size=500)}
    monitor.set_reference_data(reference)
    for i in range(50):
        monitor.log_prediction(f"p{i}", {"elo_diff": float(rng.normal(1.0))}, 0.9, actual=1, version="v1")
    drift = monitor.detect_feature_drift(version="v1")
    clock.advance(5)
    prediction_drift = monitor.detect_prediction_drift(version="v1")
    performance = monitor.calculate_performance(window_hours=1, version="v1")
    assert [(r.model_id, r.version, r.kind) for r in recorder.reports] == [
        ("win_probability", "v1", ReportKind.FEATURE_DRIFT),
        ("win_probability", "v1", ReportKind.PREDICTION_DRIFT),
        ("win_probability", "v1", ReportKind.PERFORMANCE),
    ]
    assert [r.report for r in recorder.reports] == [drift, prediction_drift, performance]
    assert isinstance(recorder.reports[0].report, DriftReport)
    assert isinstance(recorder.reports[2].report, PerformanceReport)
    assert [r.at for r in recorder.reports] == [1_700_000_000.0, 1_700_000_005.0, 1_700_000_005.0]
    assert drift.drifted_features == ["elo_diff"]
