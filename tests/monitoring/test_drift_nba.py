"""Drift on the real RAPTOR ratings: 2014-2015 versus 2021-2022, and random halves of one era.

Looking at the data (KS per column): minutes (`mp`) and possessions (`poss`) per player-season
fell from the early seasons to the late ones (more players shared the minutes: 974 player-seasons
in 2014-15, 1,146 in 2021-22, and shorter seasons in 2021), with p < 1e-4 each; the RAPTOR
components, which are per-100-possession ratings centred on the league, barely moved. With
Bonferroni over the 18 columns exactly those two drift.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nba_mcp_deploy.monitoring.drift import detect_drift
from nba_mcp_deploy.monitoring.samples import prepare_reference

DATA = Path(__file__).resolve().parents[2] / "data" / "raptor" / "modern_RAPTOR_by_player.csv"


@pytest.fixture(scope="module")
def raptor() -> pd.DataFrame:
    return pd.read_csv(DATA)


def _columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: frame[c].to_numpy() for c in frame.columns[3:]}


def test_early_versus_late_seasons_drift_in_playing_time(raptor: pd.DataFrame) -> None:
    early = raptor[raptor.season.isin([2014, 2015])]
    late = raptor[raptor.season.isin([2021, 2022])]
    reference = prepare_reference(_columns(early))
    report = detect_drift(reference, _columns(late), method="ks", correction="bonferroni")
    assert sorted(report.drifted_features) == ["mp", "poss"]
    assert not report.dataset_drift
    psi = {r.feature: r.score for r in detect_drift(reference, _columns(late), method="psi").results}
    assert max(psi, key=lambda k: psi[k]) == "mp"
    assert psi["mp"] >= 0.1


@pytest.mark.parametrize("seed", range(5))
def test_random_halves_of_the_same_seasons_do_not_drift(raptor: pd.DataFrame, seed: int) -> None:
    late = raptor[raptor.season.isin([2021, 2022])]
    order = np.random.default_rng(seed).permutation(len(late))
    half = len(order) // 2
    reference = prepare_reference(_columns(late.iloc[order[:half]]))
    current = _columns(late.iloc[order[half:]])
    assert detect_drift(reference, current, method="ks", correction="bonferroni").drifted_features == []
    assert detect_drift(reference, current, method="psi").drifted_features == []
    assert detect_drift(reference, current, method="kl").drifted_features == []
