"""The plain verdict an agent acts on, and the reason in words.

Rules, in order:
1. Either variant has fewer than `min_units` units: `not_enough_data`.
2. The error rates differ significantly: the variant that fails less is better, whatever the
   quality says (a version that fails more is not safe to prefer; the reason names the trade).
3. Quality (accuracy, or MAE for regressors) differs significantly: the better one.
4. Quality could not be tested (no outcomes yet, or too few): `not_enough_data`.
5. Quality does not differ: `no_difference` once each variant has the units the power analysis
   asks for (the test could have seen the minimum effect), else `not_enough_data` with the
   number of units still needed.
Each decision metric is tested at alpha / 2 (Bonferroni over quality and error rate), so two
identical versions are called different at most alpha of the time at a single look. Looking
again and again and stopping at the first significant result raises that rate: decide when the
planned sample size is reached.
"""

from __future__ import annotations

from enum import StrEnum

from nba_mcp_deploy.experiments.comparison import MetricComparison, SampleSizePlan, describe, format_p
from nba_mcp_deploy.experiments.metrics import Metric


class Verdict(StrEnum):
    B_BETTER = "b_better"
    A_BETTER = "a_better"
    NO_DIFFERENCE = "no_difference"
    NOT_ENOUGH_DATA = "not_enough_data"


def _winner(favours: str | None) -> Verdict:
    return Verdict.B_BETTER if favours == "b" else Verdict.A_BETTER


def decide(
    *,
    units: tuple[int, int],
    outcome_units: tuple[int, int],
    min_units: int,
    quality_metric: Metric | None,
    quality: MetricComparison | None,
    errors: MetricComparison | None,
    plan: SampleSizePlan | None,
) -> tuple[Verdict, str]:
    """The verdict and its reason (see the module docstring for the rules)."""
    if min(units) < min_units:
        return Verdict.NOT_ENOUGH_DATA, (
            f"A has {units[0]} units and B {units[1]}; each variant needs at least {min_units} "
            "(a unit is a request_key, or a request without one)"
        )
    if errors is not None and errors.significant:
        loser = "B" if errors.favours == "a" else "A"
        reason = f"{loser} fails more often: {describe(errors)}"
        if quality is not None and quality.significant and quality.favours != errors.favours:
            reason += f"; it is better in {quality.metric.value} ({describe(quality)}), but fails more"
        return _winner(errors.favours), reason
    if quality is not None and quality.significant:
        better = "B" if quality.favours == "b" else "A"
        return _winner(quality.favours), f"{better} is better: {describe(quality)}"
    error_text = "" if errors is None else f"; error rates do not differ (p = {format_p(errors.test.p_value)})"
    if quality is None:
        if quality_metric is None or max(outcome_units) == 0:
            reason = "no outcomes yet: report them with log_actuals (by prediction_id) to compare accuracy or MAE"
        else:
            reason = (
                f"only {outcome_units[0]} (A) and {outcome_units[1]} (B) units have outcomes; each variant "
                f"needs at least {min_units} before {quality_metric.value} is tested"
            )
        return Verdict.NOT_ENOUGH_DATA, reason + error_text
    detection = ""
    if plan is not None:
        detection = (
            f"a {plan.min_detectable_effect:.0%} relative change (+-{plan.absolute_effect:.3g}) "
            f"with {plan.power:.0%} power"
        )
    if plan is None or plan.reached:
        reason = f"no significant difference: {describe(quality)}"
        if plan is not None:
            reason += f"; with {plan.have_a} and {plan.have_b} units the test would have detected {detection}"
        return Verdict.NO_DIFFERENCE, reason + error_text
    return Verdict.NOT_ENOUGH_DATA, (
        f"no significant difference yet ({describe(quality)}); to detect {detection}, A needs "
        f"{plan.still_needed_a} more units with outcomes and B {plan.still_needed_b}" + error_text
    )
