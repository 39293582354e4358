"""Hooks for other layers to hear about drift checks and performance reports as they are made.

A `ReportListener` added to the `MonitoringService` is told about every report any monitor
computes (feature drift, prediction drift, performance), after the alerts are evaluated. It is
called on the thread that asked for the report, never on the predict path; it must be quick
(e.g. queue the numbers) and an exception it raises is logged, not passed on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from nba_mcp_deploy.monitoring.drift import DriftReport
from nba_mcp_deploy.monitoring.performance import PerformanceReport


class ReportKind(StrEnum):
    FEATURE_DRIFT = "feature_drift"
    PREDICTION_DRIFT = "prediction_drift"
    PERFORMANCE = "performance"


@dataclass(frozen=True)
class MonitorReport:
    """One report of one model (and version, when the check was for one), made at `at`."""

    model_id: str
    version: str | None
    kind: ReportKind
    at: float
    report: DriftReport | PerformanceReport


class ReportListener(Protocol):
    def on_report(self, report: MonitorReport) -> None:
        """Quick and on the caller's thread; an exception is logged, not raised."""
        ...
