"""Dataset-level drift: corrections, verdict, and the awkward cases (missing, empty, categorical)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.monitoring.correction import Correction, benjamini_hochberg, bonferroni
from nba_mcp_deploy.monitoring.drift import detect_drift, detect_drift_many
from nba_mcp_deploy.monitoring.methods import DriftMethod
from nba_mcp_deploy.monitoring.samples import prepare_reference


@pytest.mark.parametrize("seed", range(10))
def test_benjamini_hochberg_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate((rng.uniform(size=15), rng.uniform(0, 1e-3, size=5)))
    p[::7] = p[0]  # ties
    assert benjamini_hochberg(p.tolist()) == pytest.approx(stats.false_discovery_control(p).tolist(), rel=1e-12)


def test_bonferroni_is_min_one_p_times_m() -> None:
    p = [0.001, 0.02, 0.5]
    assert bonferroni(p) == pytest.approx([0.003, 0.06, 1.0])
    assert benjamini_hochberg([]) == []


def _frames(seed: int, shifted: int, features: int = 10, rows: int = 2000) -> tuple[dict, dict]:
    rng = np.random.default_rng(seed)
    ref = {f"f{i}": rng.normal(size=rows) for i in range(features)}
    cur = {f"f{i}": rng.normal(0.3 if i < shifted else 0.0, 1.0, size=rows) for i in range(features)}
    return ref, cur


def test_correction_adjusts_p_values_and_verdict() -> None:
    ref, cur = _frames(0, shifted=3)
    reference = prepare_reference(ref)
    plain = detect_drift(reference, cur, method="ks")
    corrected = detect_drift(reference, cur, method="ks", correction="bonferroni")
    raw = [r.p_value for r in plain.results]
    assert [r.adjusted_p_value for r in corrected.results] == pytest.approx(bonferroni(raw))
    assert corrected.correction is Correction.BONFERRONI
    assert corrected.drifted_features == ["f0", "f1", "f2"]
    assert set(corrected.drifted_features) <= set(plain.drifted_features)
    assert corrected.drifted_share == pytest.approx(0.3)
    assert not corrected.dataset_drift
    bh = detect_drift(reference, cur, method="ks", correction="bh")
    assert [r.adjusted_p_value for r in bh.results] == pytest.approx(stats.false_discovery_control(raw).tolist())
    with pytest.raises(InvalidInputError, match="p-value methods"):
        detect_drift(reference, cur, method="psi", correction="bonferroni")


def test_dataset_drift_when_share_reached() -> None:
    ref, cur = _frames(1, shifted=6)
    report = detect_drift(prepare_reference(ref), cur, method="psi", threshold=0.05)
    assert report.dataset_drift
    assert report.drifted_share >= 0.5
    assert report.ranked()[0].is_drift
    assert (
        detect_drift(prepare_reference(ref), cur, method="psi", threshold=0.05, drift_share=0.9).dataset_drift is False
    )


def test_many_methods_share_one_pass_and_agree_with_single_runs() -> None:
    ref, cur = _frames(2, shifted=2)
    reference = prepare_reference(ref)
    many = detect_drift_many(reference, cur, methods=["ks", "psi", "kl"])
    for method in (DriftMethod.KS_TEST, DriftMethod.PSI, DriftMethod.KL_DIVERGENCE):
        single = detect_drift(reference, cur, method=method)
        assert [r.score for r in many[method].results] == [r.score for r in single.results]


def test_missing_feature_nan_share_and_empty_column() -> None:
    rng = np.random.default_rng(4)
    reference = prepare_reference({"a": rng.normal(size=300), "b": rng.normal(size=300), "c": rng.normal(size=300)})
    a = rng.normal(size=100)
    a[:25] = np.nan
    report = detect_drift(reference, {"a": a, "b": np.full(50, np.nan)}, method="ks")
    by = {r.feature: r for r in report.results}
    assert by["a"].current_missing == 25
    assert by["a"].missing_share == pytest.approx(0.25)
    assert by["a"].current_size == 75
    assert by["b"].score is None
    assert "no finite value" in (by["b"].note or "")
    assert by["b"].missing_share == 1.0
    assert by["c"].score is None
    assert by["c"].note == "missing from the current data"
    assert report.missing_features == ("c",)
    assert [r.feature for r in report.checked] == ["a"]
    with pytest.raises(InvalidInputError, match="not in the reference data"):
        detect_drift(reference, {"a": a}, features=["zzz"])
    with pytest.raises(InvalidInputError, match="threshold"):
        detect_drift(reference, {"a": a}, method="ks", threshold=5)


def test_categorical_features_need_chi_square() -> None:
    reference = prepare_reference({"team": ["BOS", "LAL", "BOS", "GSW"] * 50, "x": np.arange(200.0)})
    current = {"team": ["BOS"] * 150 + ["LAL"] * 10, "x": np.arange(160.0)}
    with pytest.raises(InvalidInputError, match="chi_square"):
        detect_drift(reference, current, method="ks")
    report = detect_drift(reference, current, method="chi_square", features=["team"])
    assert report.results[0].is_drift
    assert report.results[0].bins == 3
    coded = detect_drift(reference, current, method="chi_square", features=["x"])
    assert coded.results[0].score is not None


def test_report_to_dict_is_plain_data() -> None:
    ref, cur = _frames(5, shifted=1, features=3, rows=200)
    out = detect_drift(prepare_reference(ref), cur, method="js").to_dict()
    assert out["method"] == "js"
    assert out["results"][0]["method"] == "js"
    assert {"dataset_drift", "drifted_share", "drifted_features", "threshold"} <= set(out)


def test_threaded_check_equals_the_inline_one_and_reports_progress() -> None:
    ref, cur = _frames(6, shifted=3, features=8)
    reference = prepare_reference(ref)
    seen: list[tuple[int, int]] = []
    threaded = detect_drift_many(
        reference, cur, methods=["ks", "psi"], workers=3, progress=lambda d, t: seen.append((d, t))
    )
    inline = detect_drift_many(reference, cur, methods=["ks", "psi"])
    for method in threaded:
        assert threaded[method].results == inline[method].results
    assert seen == [(i, 8) for i in range(1, 9)]
    with pytest.raises(InvalidInputError, match="workers"):
        detect_drift_many(reference, cur, methods=["ks"], workers=0)
