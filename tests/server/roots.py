"""Trusted model and data roots for path tests, each with a symlink escaping it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from nba_mcp_deploy.nba_models import FEATURES
from tests.conftest import NbaModels


@dataclass(frozen=True)
class Roots:
    """`models` holds logistic.joblib and gb.skops, `data` holds reference.csv; in each,
    escape.* and escape_dir are symlinks into `outside` (which holds secret.joblib, secret.csv)."""

    models: Path
    data: Path
    outside: Path


def make_roots(tmp_path: Path, nba: NbaModels) -> Roots:
    roots = Roots(tmp_path / "models", tmp_path / "data", tmp_path / "outside")
    for directory in (roots.models, roots.data, roots.outside):
        directory.mkdir()
    shutil.copy(nba.joblib_file, roots.models / "logistic.joblib")
    shutil.copy(nba.skops_file, roots.models / "gb.skops")
    shutil.copy(nba.joblib_file, roots.outside / "secret.joblib")
    nba.trained.holdout[FEATURES].iloc[:300].to_csv(roots.data / "reference.csv", index=False)
    shutil.copy(roots.data / "reference.csv", roots.outside / "secret.csv")
    (roots.models / "escape.joblib").symlink_to(roots.outside / "secret.joblib")
    (roots.data / "escape.csv").symlink_to(roots.outside / "secret.csv")
    for root in (roots.models, roots.data):
        (root / "escape_dir").symlink_to(roots.outside, target_is_directory=True)
    return roots
