"""Evidently 0.7's DataDriftPreset(method="ks") timed on generated frames, in its own environment.

Evidently needs pandas<3 while the project pins pandas 3, so it lives in a separate, gitignored
virtual environment (`tools/.venv-evidently`). Two modes:

    python tools/evidently_baseline.py setup            # create the venv (idempotent); prints JSON
    tools/.venv-evidently/bin/python tools/evidently_baseline.py run --rows N --seed K

`run` builds the same frames as `benchmarks/drift.py` (same generator, same seed), times one
Report(DataDriftPreset(method="ks")).run(...) and prints {"seconds": ..., "drifted": ...} as JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

VENV = Path(__file__).resolve().parent / ".venv-evidently"
REQUIREMENTS = ("evidently>=0.7,<0.8", "pandas<3")


def venv_python() -> Path:
    return VENV / "bin" / "python"


def setup() -> dict[str, Any]:
    """Create the venv and install Evidently into it unless it is already there."""
    python = venv_python()
    if python.exists():
        check = subprocess.run(
            [str(python), "-c", "import evidently, pandas; print(evidently.__version__, pandas.__version__)"],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode == 0:
            return {"ok": True, "versions": check.stdout.strip()}
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *REQUIREMENTS],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return {"ok": False, "reason": f"{' '.join(step[:4])} failed: {done.stderr.strip()[-300:]}"}
    return setup() if python.exists() else {"ok": False, "reason": "venv has no python"}


def arrays(rows: int, features: int, shifted: int, seed: int) -> tuple[Any, Any]:
    """Reference and current matrices: standard normals, the first `shifted` columns moved by 0.2 sd."""
    import numpy as np

    rng = np.random.default_rng(seed)
    reference = rng.standard_normal((rows, features))
    current = rng.standard_normal((rows, features))
    current[:, :shifted] += 0.2
    return reference, current


def column_names(features: int) -> list[str]:
    return [f"f{i:02d}" for i in range(features)]


def frames(rows: int, features: int, shifted: int, seed: int) -> tuple[Any, Any]:
    """The same matrices as DataFrames (what Evidently takes)."""
    import pandas as pd

    reference, current = arrays(rows, features, shifted, seed)
    names = column_names(features)
    return pd.DataFrame(reference, columns=names), pd.DataFrame(current, columns=names)


def run(rows: int, features: int, shifted: int, seed: int) -> dict[str, Any]:
    import evidently  # type: ignore[import-not-found]
    from evidently import Report
    from evidently.presets import DataDriftPreset  # type: ignore[import-not-found]

    reference, current = frames(rows, features, shifted, seed)
    report = Report([DataDriftPreset(method="ks")])
    start = time.perf_counter()
    snapshot = report.run(current_data=current, reference_data=reference)
    seconds = time.perf_counter() - start
    drifted = None
    try:
        for metric in snapshot.dict().get("metrics", []):
            value = metric.get("value")
            if isinstance(value, dict) and "count" in value and "DriftedColumnsCount" in str(metric.get("metric_id")):
                drifted = value["count"]
    except Exception:  # the count is informative only
        drifted = None
    return {"seconds": seconds, "drifted": drifted, "evidently": evidently.__version__}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup")
    runner = sub.add_parser("run")
    runner.add_argument("--rows", type=int, required=True)
    runner.add_argument("--features", type=int, default=20)
    runner.add_argument("--shifted", type=int, default=5)
    runner.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    result = setup() if args.command == "setup" else run(args.rows, args.features, args.shifted, args.seed)
    print(json.dumps(result))
    return 0 if result.get("ok", True) else 1


if __name__ == "__main__":
    raise SystemExit(main())
