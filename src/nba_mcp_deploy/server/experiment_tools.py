"""MCP tools for experiments: A/B results with a verdict, and the progressive canary; plus the
"canary rollout" prompt that walks an agent from deploy to promotion or rollback.

No `from __future__ import annotations`: the SDK evaluates these annotations.
"""

from typing import TYPE_CHECKING, Annotated

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.errors import ToolBoundary
from nba_mcp_deploy.server.experiment_views import ABTestView, CanaryView
from nba_mcp_deploy.server.hints import CHANGES, READ_ONLY
from nba_mcp_deploy.server.params import ModelId, Version
from nba_mcp_deploy.server.shapes import (
    DEFAULT_STEPS,
    MAX_ALPHA,
    MAX_NOTE,
    MAX_REQUESTS_PER_STEP,
    MAX_STEPS,
    MIN_POWER,
    AnalysisSettings,
    CanaryPolicy,
)

if TYPE_CHECKING:
    from nba_mcp_deploy.experiments.service import ExperimentService

# Aborting discards a rollout in progress (its traffic goes back to the stable version).
ABORTS = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False)

Share = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
Steps = Annotated[
    list[Share],
    Field(
        min_length=1,
        max_length=MAX_STEPS,
        description="the candidate's share of traffic at each step, strictly increasing, ending at 1.0",
    ),
]

CANARY_ROLLOUT = """\
Roll out version {candidate} of model {model_id} as a progressive canary, and end with a verdict: \
promoted or rolled back.

1. Check the starting point: call list_deployments. {model_id} must have an active (stable) version, \
and no A/B split (clear_ab_test if there is one and it is no longer wanted).
2. Deploy the candidate as a standby: {deploy}. If the load or warm-up fails, stop and report why.
3. Optionally compare before rolling out: setup_ab_test with a small weight, then get_ab_test_results; \
clear_ab_test before the canary.
4. Start the canary: start_canary(model_id="{model_id}", candidate_version="{candidate}"). Defaults: \
steps {steps}, {requests} candidate requests per step, error rate <= {error_rate:.0%}, p95 latency <= \
{latency_ratio:g}x the stable version's, accuracy at most {accuracy_drop:g} below it. Tighten them if the \
model is critical.
5. While traffic flows (predict), report outcomes as games finish (log_actuals with the prediction_ids) \
so the accuracy guard has evidence. The canary advances and rolls back by itself; poll \
canary_status(model_id="{model_id}") and read phase, step, guards and decision_reason.
6. Verdict:
   - phase "promoted": {candidate} is in production in the registry and serves all traffic. Report the \
history (each step's guard values).
   - phase "rolled_back" or "failed": the stable version serves all traffic again; report the reason \
(the failed guard and its value) and do not retry the same version unchanged.
   - Something looks wrong while it runs (alerts in get_alerts, a degraded health_check): abort_canary \
with a reason.
7. Afterwards, get_ab_test_results(model_id="{model_id}", version_a=<stable>, version_b="{candidate}") \
gives the statistics over the whole rollout (verdict b_better / a_better / no_difference / \
not_enough_data with its reason)."""


def register_experiment_tools(server: MCPServer, host: ServiceHost, boundary: ToolBoundary) -> None:
    def experiments() -> "ExperimentService":
        return host.services().experiments

    @server.tool(annotations=READ_ONLY)
    @boundary
    def get_ab_test_results(
        model_id: ModelId,
        version_a: Version | None = None,
        version_b: Version | None = None,
        min_detectable_effect: Annotated[
            float,
            Field(gt=0, le=1, description="relative change in accuracy/MAE worth detecting (0.05 = 5% of A's)"),
        ] = AnalysisSettings.min_detectable_effect,
        alpha: Annotated[
            float, Field(gt=0, lt=MAX_ALPHA, description="false-positive rate of the verdict")
        ] = AnalysisSettings.alpha,
        power: Annotated[
            float, Field(ge=MIN_POWER, lt=1, description="chance of detecting the effect if real")
        ] = AnalysisSettings.power,
        since: Annotated[float | None, Field(ge=0, description="only requests after this time (epoch seconds)")] = None,
    ) -> ABTestView:
        """Is version B better than version A? Statistics and a verdict for an A/B split.

        Per variant: requests, errors, error rate, latency p50/p95, outcomes received, accuracy
        (classifiers) or MAE (regressors). Between them: B - A with a confidence interval and a
        p-value (two-proportion z-test or Fisher's exact test for accuracy and error rate,
        Welch's t-test for MAE, Mann-Whitney U for latency), the units with outcomes still
        needed to detect min_detectable_effect, and verdict b_better / a_better /
        no_difference / not_enough_data with the reason. Repeated requests with one
        request_key count once. Needs outcomes (log_actuals) to judge quality. Defaults to the
        current split (A = its first version); name version_a and version_b to analyse an
        earlier test or a finished canary. Decide once the sample size is reached: stopping at
        the first significant look inflates false positives.
        """
        report = experiments().ab_test_results(
            model_id,
            version_a,
            version_b,
            alpha=alpha,
            power=power,
            min_detectable_effect=min_detectable_effect,
            since=since,
        )
        return ABTestView.of(report)

    @server.tool(annotations=CHANGES)
    @boundary
    def start_canary(
        model_id: ModelId,
        candidate_version: Version,
        steps: Steps = list(DEFAULT_STEPS),  # noqa: B006 - the SDK copies defaults into the schema
        min_requests_per_step: Annotated[
            int,
            Field(ge=1, le=MAX_REQUESTS_PER_STEP, description="candidate requests each step needs before it may pass"),
        ] = CanaryPolicy.min_requests_per_step,
        max_error_rate: Annotated[
            float, Field(ge=0, lt=1, description="the candidate's error rate in a step may not exceed this")
        ] = CanaryPolicy.max_error_rate,
        max_latency_ratio: Annotated[
            float, Field(ge=1, description="candidate p95 latency / stable p95 latency may not exceed this")
        ] = CanaryPolicy.max_latency_ratio,
        min_accuracy_delta: Annotated[
            float,
            Field(
                ge=-1,
                le=1,
                description="candidate - stable accuracy may not be shown below this (regressors: relative MAE cut)",
            ),
        ] = CanaryPolicy.min_accuracy_delta,
        min_step_seconds: Annotated[
            float, Field(ge=0, description="each step lasts at least this long (bake time)")
        ] = CanaryPolicy.min_step_seconds,
    ) -> CanaryView:
        """Roll a deployed standby version out step by step, promoting or rolling back on evidence.

        The candidate gets steps[0] of traffic (sticky by request_key), the active version the
        rest. Each step passes once it has min_requests_per_step candidate requests (and lasted
        min_step_seconds) with every guard holding: breaker closed, error rate <=
        max_error_rate, p95 latency <= max_latency_ratio x the stable version's, and, when
        outcomes exist, accuracy not shown below min_accuracy_delta. A failed guard sends all
        traffic back to the stable version at once and records why; after the last step (1.0)
        the candidate is promoted to production in the registry and becomes active. Evaluated
        as requests arrive and on a timer; watch it with canary_status.
        """
        status = experiments().start_canary(
            model_id,
            candidate_version,
            steps,
            min_requests_per_step,
            max_error_rate,
            max_latency_ratio,
            min_accuracy_delta,
            min_step_seconds=min_step_seconds,
            actor="agent",
        )
        return CanaryView.of(status)

    @server.tool(annotations=READ_ONLY)
    @boundary
    def canary_status(model_id: ModelId) -> CanaryView:
        """The model's current (or last) canary: phase, step and traffic share, each guard's value
        and status, the last decision and why, the history of decisions, and what to do next."""
        return CanaryView.of(experiments().canary_status(model_id))

    @server.tool(annotations=ABORTS)
    @boundary
    def abort_canary(
        model_id: ModelId,
        reason: Annotated[str, Field(max_length=MAX_NOTE, description="why, for the record")] = "",
    ) -> CanaryView:
        """Stop the running canary now: all traffic goes back to the stable version and the
        registry is left as it is. Refused when no canary is running."""
        return CanaryView.of(experiments().abort_canary(model_id, reason, actor="agent"))

    @server.prompt(
        name="canary_rollout",
        title="Canary rollout",
        description="Walk through deploy -> canary -> verdict -> promote or roll back for one model version.",
    )
    def canary_rollout(model_id: str, candidate_version: str, model_uri: str | None = None) -> str:
        deploy = (
            f'deploy_model(model_id="{model_id}", version="{candidate_version}", model_uri="{model_uri}", '
            "set_active=false)"
            if model_uri
            else f'deploy_model(model_id="{model_id}", version="{candidate_version}", model_uri=<its URI>, '
            "set_active=false), unless list_deployments already shows it"
        )
        return CANARY_ROLLOUT.format(
            model_id=model_id,
            candidate=candidate_version,
            deploy=deploy,
            steps=list(DEFAULT_STEPS),
            requests=CanaryPolicy.min_requests_per_step,
            error_rate=CanaryPolicy.max_error_rate,
            latency_ratio=CanaryPolicy.max_latency_ratio,
            accuracy_drop=-CanaryPolicy.min_accuracy_delta,
        )
