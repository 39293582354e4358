"""MonitoringService dispatch, the drift PNG, and the import cost of the monitoring package."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.errors import InvalidInputError, NotFoundError
from nba_mcp_deploy.monitoring import MonitoringService, render_drift_png
from nba_mcp_deploy.serving.ports import PredictionBatch

SRC = Path(__file__).resolve().parents[2] / "src"


def _batch(model_id: str, rows: int = 4) -> PredictionBatch:
    return PredictionBatch(
        model_id,
        "v1",
        "r",
        [f"{model_id}-{i}" for i in range(rows)],
        ["x"],
        np.ones((rows, 1)),
        np.zeros(rows),
        2.0,
        None,
        1.0,
    )


def test_service_dispatches_on_model_id_and_never_raises() -> None:
    service = MonitoringService(clock=ManualClock())
    service.observe(_batch("win_probability"))
    service.observe(_batch("point_spread", rows=2))
    service.observe(_batch("../../etc"))  # an invalid id is counted, not raised
    assert service.models() == ["point_spread", "win_probability"]
    assert service.get("point_spread").logged == 2
    assert service.observe_failures == 1
    with pytest.raises(NotFoundError, match="monitored models"):
        service.get("nope")
    with pytest.raises(InvalidInputError):
        service.monitor("bad id!")
    service.monitor("win_probability").calculate_performance()
    assert service.get_alerts() == []


def test_drift_png_shows_the_most_drifted_features() -> None:
    service = MonitoringService(clock=ManualClock())
    monitor = service.monitor("m")
    rng = np.random.default_rng(0)
    monitor.set_reference_data({"a": rng.normal(size=800), "b": rng.normal(size=800), "team": ["x", "y"] * 400})
    current = {"a": rng.normal(1, 1, 400), "b": rng.normal(size=400), "team": ["x"] * 300 + ["y"] * 100}
    report = monitor.detect_feature_drift(current, features=["a", "b"])
    png = monitor.plot_feature_drift(report, current, top=2)
    assert png.startswith(b"\x89PNG")
    pixels = image.imread(io.BytesIO(png), format="png")
    assert pixels.shape[0] > 200
    assert pixels.shape[1] > 500
    chi = monitor.detect_feature_drift(current, method="chi_square", features=["team"])
    assert render_drift_png(monitor.reference(), current, chi).startswith(b"\x89PNG")


def test_importing_monitoring_is_cheap() -> None:
    code = (
        "import sys, nba_mcp_deploy.monitoring, nba_mcp_deploy.notify.webhook\n"
        "names = ('pandas', 'scipy', 'matplotlib', 'sklearn', 'mcp', 'mlflow')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == ""
