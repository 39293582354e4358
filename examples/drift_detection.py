"""Drift detection on real NBA seasons: early seasons as the reference, late seasons as current.

Run from the repository root:  .venv/bin/python examples/drift_detection.py
"""

from __future__ import annotations

from pathlib import Path

from nba_mcp_deploy import DriftMethod, ModelMonitor, nba_models

FEATURES = ["poss", "mp", "raptor_box_offense", "raptor_box_defense", "pace_impact", "war_total"]


def main() -> None:
    raptor = nba_models.load_raptor(nba_models.find_raptor_csv([Path("data")])).dropna(subset=FEATURES)
    early = raptor[raptor["season"] <= 2015][FEATURES]
    late = raptor[raptor["season"] >= 2021][FEATURES]
    with ModelMonitor(model_id="nba_players", mock_mode=True) as monitor:
        summary = monitor.set_reference_data(features=early)
        print(f"reference: {summary.rows} player-seasons 2014-2015, {len(summary.numeric_features)} features")
        for method in (DriftMethod.KS_TEST, DriftMethod.PSI, DriftMethod.WASSERSTEIN):
            correction = "bonferroni" if method is DriftMethod.KS_TEST else None
            report = monitor.detect_feature_drift(current_data=late, method=method, correction=correction)
            print(
                f"\n{method.value}: {len(report.drifted_features)}/{len(report.checked)} features drifted "
                f"(dataset drift: {report.dataset_drift}); {report.method.reading}"
            )
            for result in report.ranked():
                p = f"p={result.p_value:.2g}" if result.p_value is not None else ""
                print(f"  {result.feature_name:<20} score={result.drift_score:.4f} {p:<10} drift={result.is_drift}")
        halves = raptor[raptor["season"] >= 2021].sample(frac=1.0, random_state=0)
        first, second = halves.iloc[: len(halves) // 2], halves.iloc[len(halves) // 2 :]
        report = monitor.detect_feature_drift(
            current_data=second[FEATURES], reference_data=first[FEATURES], correction="bonferroni"
        )
        print(f"\nrandom halves of 2021-2022 (no real drift): {len(report.drifted_features)} features drifted")
        for alert in monitor.get_alerts():
            print(f"alert [{alert.severity.value}] {alert.message}")


if __name__ == "__main__":
    main()
