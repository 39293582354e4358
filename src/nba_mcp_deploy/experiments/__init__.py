"""Experiments that reach a verdict: A/B significance and the progressive canary.

Pure core: numpy at module level, scipy only inside the functions that need it (the t
distribution, Fisher's exact test), never `mcp` or `mlflow`.

    recorder.py        TrafficRecorder: A/B-routed requests per model (a PredictionObserver)
    units.py           per-key aggregation: repeated requests of one sticky key count once
    proportions.py     two-proportion z-test, Fisher's exact test, Wilson/Newcombe intervals
    means.py           Welch's t-test           ranks.py   Mann-Whitney U, median intervals
    power.py           sample sizes             comparison.py  one metric, B against A
    verdict.py         b_better / a_better / no_difference / not_enough_data, with the reason
    analysis.py        the A/B report from per-request columns (pure)
    ab_testing.py      ABTestAnalyzer: recorded traffic + logged outcomes -> report
    canary_policy.py   steps and guard thresholds   guards.py  the guards (pure)
    canary.py          one rollout's state and its predict-path hook
    canary_machine.py  start / evaluate / advance / promote / roll back / abort
    canary_lease.py    which replica runs a canary       canary_state.py  its record in the store
    canary_controller.py  the running canaries, their evaluator thread, the commands
    events.py          decisions for listeners
    service.py         ExperimentService: the API the MCP tools call
"""

from nba_mcp_deploy.experiments.analysis import (
    ABTestReport,
    AnalysisSettings,
    VariantSample,
    VariantSummary,
    analyze,
)
from nba_mcp_deploy.experiments.canary import CanaryPhase, CanaryStatus
from nba_mcp_deploy.experiments.canary_policy import DEFAULT_STEPS, CanaryPolicy
from nba_mcp_deploy.experiments.comparison import MetricComparison, SampleSizePlan
from nba_mcp_deploy.experiments.events import EventKind, ExperimentEvent, ExperimentListener
from nba_mcp_deploy.experiments.guards import Decision, GuardResult, GuardStatus
from nba_mcp_deploy.experiments.metrics import Metric
from nba_mcp_deploy.experiments.recorder import TrafficRecorder
from nba_mcp_deploy.experiments.service import ExperimentService
from nba_mcp_deploy.experiments.twosample import Method, TwoSampleResult
from nba_mcp_deploy.experiments.verdict import Verdict

__all__ = [
    "DEFAULT_STEPS",
    "ABTestReport",
    "AnalysisSettings",
    "CanaryPhase",
    "CanaryPolicy",
    "CanaryStatus",
    "Decision",
    "EventKind",
    "ExperimentEvent",
    "ExperimentListener",
    "ExperimentService",
    "GuardResult",
    "GuardStatus",
    "Method",
    "Metric",
    "MetricComparison",
    "SampleSizePlan",
    "TrafficRecorder",
    "TwoSampleResult",
    "VariantSample",
    "VariantSummary",
    "Verdict",
    "analyze",
]
