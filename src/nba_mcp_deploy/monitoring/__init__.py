"""Monitoring: prediction logging, drift statistics, performance windows and alerts.

Pure core: imports numpy only at module level (scipy, pandas and matplotlib are imported inside
the functions that need them), and never `mcp` or `mlflow`.
"""

from nba_mcp_deploy.monitoring.alerts import Alert, AlertBook, AlertKind, AlertNotifier, AlertSeverity
from nba_mcp_deploy.monitoring.correction import Correction, benjamini_hochberg, bonferroni
from nba_mcp_deploy.monitoring.drift import DriftReport, FeatureDriftResult, detect_drift, detect_drift_many
from nba_mcp_deploy.monitoring.histograms import FeatureHistogram, LatestDrift, drift_histograms
from nba_mcp_deploy.monitoring.methods import DriftMethod, parse_method, psi_reading
from nba_mcp_deploy.monitoring.monitor import ActualsResult, ModelMonitor, ReferenceSummary
from nba_mcp_deploy.monitoring.performance import ModelTask, PerformanceReport
from nba_mcp_deploy.monitoring.plot import render_drift_png
from nba_mcp_deploy.monitoring.reports import MonitorReport, ReportKind, ReportListener
from nba_mcp_deploy.monitoring.samples import (
    ReferenceData,
    prepare_current,
    prepare_numeric,
    prepare_reference,
)
from nba_mcp_deploy.monitoring.service import MonitoringService
from nba_mcp_deploy.monitoring.stattests import (
    DriftStatistic,
    chi_square,
    jensen_shannon,
    kl_divergence,
    ks_test,
    psi,
    wasserstein_normed,
)

__all__ = [
    "ActualsResult",
    "Alert",
    "AlertBook",
    "AlertKind",
    "AlertNotifier",
    "AlertSeverity",
    "Correction",
    "DriftMethod",
    "DriftReport",
    "DriftStatistic",
    "FeatureDriftResult",
    "FeatureHistogram",
    "LatestDrift",
    "ModelMonitor",
    "ModelTask",
    "MonitorReport",
    "MonitoringService",
    "PerformanceReport",
    "ReferenceData",
    "ReferenceSummary",
    "ReportKind",
    "ReportListener",
    "benjamini_hochberg",
    "bonferroni",
    "chi_square",
    "detect_drift",
    "detect_drift_many",
    "drift_histograms",
    "jensen_shannon",
    "kl_divergence",
    "ks_test",
    "parse_method",
    "prepare_current",
    "prepare_numeric",
    "prepare_reference",
    "psi",
    "psi_reading",
    "render_drift_png",
    "wasserstein_normed",
]
