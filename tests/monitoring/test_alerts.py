"""Alerts: thresholds from the config, severities, cool-down, recovery, filters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.monitoring import AlertBook, AlertKind, AlertSeverity, ModelMonitor


def _monitor(**config: object) -> tuple[ModelMonitor, ManualClock]:
    clock = ManualClock()
    cfg = DeploymentConfig(alert_cooldown_sec=60.0, **config)  # type: ignore[arg-type]
    return ModelMonitor("m", config=cfg, clock=clock, baseline_accuracy=0.9), clock


def _log(monitor: ModelMonitor, n: int, *, errors: int = 0, latency: float = 10.0, prefix: str = "p") -> None:
    for i in range(n):
        monitor.log_prediction(f"{prefix}{i}", {"x": 1.0}, 1, latency_ms=latency, error="x" if i < errors else None)


def test_error_rate_warning_critical_cooldown_and_recovery() -> None:
    monitor, clock = _monitor(error_rate_threshold=0.05)
    _log(monitor, 100, errors=8)
    monitor.calculate_performance()
    monitor.calculate_performance()  # same alert within the cool-down: counted, not raised again
    [warning] = monitor.get_alerts()
    assert (warning.kind, warning.severity, warning.occurrences) == (
        AlertKind.ERROR_RATE,
        AlertSeverity.WARNING,
        2,
    )
    assert warning.value == pytest.approx(0.08)
    assert warning.threshold == 0.05
    _log(monitor, 100, errors=30, prefix="q")  # 38/200 = 0.19 > 2 x 0.05
    monitor.calculate_performance()
    assert monitor.get_alerts()[0].severity is AlertSeverity.CRITICAL
    clock.advance(61)
    monitor.calculate_performance()
    assert monitor.get_alerts(severity="critical")[0].occurrences == 1
    assert len(monitor.get_alerts(severity="critical")) == 2  # raised again after the cool-down
    clock.advance(48 * 3600)
    _log(monitor, 50, prefix="r")
    monitor.calculate_performance()
    info = monitor.get_alerts()[0]
    assert info.severity is AlertSeverity.INFO
    assert "back under" in info.message
    assert monitor.get_alerts(since=clock.now()) == [info]
    assert all(a.severity is not AlertSeverity.INFO for a in monitor.get_alerts(severity="warning"))


def test_latency_and_accuracy_drop() -> None:
    monitor, _ = _monitor(latency_threshold_ms=50.0, performance_threshold=0.05)
    _log(monitor, 40, latency=120.0)
    monitor.log_actuals({f"p{i}": (1 if i < 30 else 0) for i in range(40)})  # accuracy 0.75
    monitor.calculate_performance()
    kinds = {a.kind: a for a in monitor.get_alerts()}
    assert kinds[AlertKind.LATENCY].severity is AlertSeverity.CRITICAL
    assert kinds[AlertKind.ACCURACY_DROP].severity is AlertSeverity.CRITICAL  # drop 0.15 > 2 x 0.05
    assert kinds[AlertKind.ACCURACY_DROP].value == pytest.approx(0.15)


def test_too_few_requests_raise_no_alert() -> None:
    monitor, _ = _monitor(error_rate_threshold=0.05)
    _log(monitor, 5, errors=5)
    monitor.calculate_performance()
    assert monitor.get_alerts() == []


def test_drift_alerts() -> None:
    monitor, _ = _monitor()
    rng = np.random.default_rng(0)
    monitor.set_reference_data({"a": rng.normal(size=1000), "b": rng.normal(size=1000), "c": rng.normal(size=1000)})
    monitor.detect_feature_drift({"a": rng.normal(1, 1, 500), "b": rng.normal(size=500), "c": rng.normal(size=500)})
    [warning] = monitor.get_alerts()
    assert warning.kind is AlertKind.FEATURE_DRIFT
    assert warning.severity is AlertSeverity.WARNING
    assert "a" in warning.message
    monitor.detect_feature_drift({n: rng.normal(1, 1, 500) for n in "abc"})
    assert monitor.get_alerts()[0].severity is AlertSeverity.CRITICAL
    monitor.detect_feature_drift({n: rng.normal(size=500) for n in "abc"})
    assert monitor.get_alerts()[0].severity is AlertSeverity.INFO


def test_book_is_bounded_and_validates_severity() -> None:
    book = AlertBook(cooldown_sec=0.0, clock=ManualClock(), max_alerts=5)
    for i in range(12):
        book.raise_alert(
            model_id="m",
            version=None,
            kind=AlertKind.LATENCY,
            severity=AlertSeverity.WARNING,
            subject=str(i),
            message="slow",
        )
    assert len(book.list()) == 5
    assert book.list()[0].subject == "11"
    with pytest.raises(InvalidInputError, match="info, warning, critical"):
        book.list(severity="loud")


def test_a_failing_notifier_does_not_break_alerting(tmp_path: Path) -> None:
    class Broken:
        def notify(self, alert: object) -> None:
            raise RuntimeError("down")

    book = AlertBook(clock=ManualClock(), notifier=Broken())
    alert = book.raise_alert(
        model_id="m",
        version="v1",
        kind=AlertKind.ERROR_RATE,
        severity=AlertSeverity.CRITICAL,
        subject="error_rate",
        message="high",
    )
    assert alert is not None
    assert alert.text().startswith("[CRITICAL] m v1:")


def test_open_alerts_are_the_conditions_still_alerting_most_severe_first() -> None:
    clock = ManualClock()
    book = AlertBook(cooldown_sec=60.0, clock=clock)

    def raise_(model: str, kind: AlertKind, severity: AlertSeverity, subject: str = "s") -> None:
        book.raise_alert(
            model_id=model, version=None, kind=kind, severity=severity, subject=subject, message=f"{kind} {severity}"
        )
        clock.advance(1)

    raise_("a", AlertKind.LATENCY, AlertSeverity.WARNING)
    raise_("a", AlertKind.ERROR_RATE, AlertSeverity.WARNING)
    raise_("a", AlertKind.ERROR_RATE, AlertSeverity.CRITICAL)  # the same condition, worse: its newest alert
    raise_("b", AlertKind.FEATURE_DRIFT, AlertSeverity.WARNING, "ks")
    book.resolve(model_id="a", version=None, kind=AlertKind.LATENCY, subject="s", message="back to normal")
    shown = [(a.model_id, a.kind, a.severity) for a in book.open_alerts()]
    assert shown == [
        ("a", AlertKind.ERROR_RATE, AlertSeverity.CRITICAL),
        ("b", AlertKind.FEATURE_DRIFT, AlertSeverity.WARNING),
    ]
    assert [a.model_id for a in book.open_alerts("b")] == ["b"]
    assert any(a.severity is AlertSeverity.INFO for a in book.list())  # the resolution is history, not open
