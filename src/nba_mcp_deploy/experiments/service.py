"""`ExperimentService`: A/B results and progressive canaries behind one object for the server.

Built by `build_services` around the serving manager, the registry, the monitoring service and
the `TrafficRecorder` the manager's observer feeds. Listeners (e.g. the MLflow adapter) register
with `add_listener` and are told about every canary decision.
"""

from __future__ import annotations

from collections.abc import Sequence

from nba_mcp_deploy.clock import Clock
from nba_mcp_deploy.experiments.ab_testing import ABTestAnalyzer
from nba_mcp_deploy.experiments.analysis import ABTestReport, AnalysisSettings
from nba_mcp_deploy.experiments.canary import CanaryStatus
from nba_mcp_deploy.experiments.canary_controller import CanaryController
from nba_mcp_deploy.experiments.canary_policy import DEFAULT_STEPS, CanaryPolicy
from nba_mcp_deploy.experiments.events import ExperimentListener, Listeners
from nba_mcp_deploy.experiments.fleet import FleetSource
from nba_mcp_deploy.experiments.recorder import TrafficRecorder
from nba_mcp_deploy.monitoring.service import MonitoringService
from nba_mcp_deploy.registry.registry import ModelRegistry
from nba_mcp_deploy.registry.shared_state import ControlStateStore
from nba_mcp_deploy.serving.manager import ModelServingManager


class ExperimentService:
    """The experiments' Python API (the MCP tools call exactly these methods)."""

    def __init__(
        self,
        manager: ModelServingManager,
        registry: ModelRegistry | None,
        monitoring: MonitoringService,
        recorder: TrafficRecorder,
        *,
        clock: Clock | None = None,
        check_interval_sec: float = 5.0,
        latency_window: int = 2048,
        fleet: FleetSource | None = None,
        store: ControlStateStore | None = None,
        owner: str = "",
    ) -> None:
        self.recorder = recorder
        self.listeners = Listeners()
        self.analyzer = ABTestAnalyzer(manager, monitoring, recorder, fleet)
        self.canaries = CanaryController(
            manager,
            registry,
            self.analyzer,
            recorder,
            clock=clock,
            listeners=self.listeners,
            check_interval_sec=check_interval_sec,
            latency_window=latency_window,
            fleet=fleet,
            store=store,
            owner=owner,
        )

    def ab_test_results(
        self,
        model_id: str,
        version_a: str | None = None,
        version_b: str | None = None,
        *,
        alpha: float = 0.05,
        power: float = 0.8,
        min_detectable_effect: float = 0.05,
        min_units: int = 30,
        since: float | None = None,
    ) -> ABTestReport:
        """Per-variant figures, tests between them, the sample size still needed and a verdict."""
        settings = AnalysisSettings(
            alpha=alpha, power=power, min_detectable_effect=min_detectable_effect, min_units=min_units
        )
        return self.analyzer.results(model_id, version_a, version_b, settings=settings, since=since)

    def start_canary(
        self,
        model_id: str,
        candidate_version: str,
        steps: Sequence[float] = DEFAULT_STEPS,
        min_requests_per_step: int = 100,
        max_error_rate: float = 0.05,
        max_latency_ratio: float = 1.5,
        min_accuracy_delta: float = -0.02,
        *,
        min_step_seconds: float = 0.0,
        actor: str = "local",
    ) -> CanaryStatus:
        """Roll `candidate_version` out step by step while its guards hold (see CanaryPolicy)."""
        policy = CanaryPolicy(
            steps=tuple(steps),
            min_requests_per_step=min_requests_per_step,
            max_error_rate=max_error_rate,
            max_latency_ratio=max_latency_ratio,
            min_accuracy_delta=min_accuracy_delta,
            min_step_seconds=min_step_seconds,
        )
        return self.canaries.start(model_id, candidate_version, policy, actor=actor)

    def canary_status(self, model_id: str) -> CanaryStatus:
        return self.canaries.status(model_id)

    def abort_canary(self, model_id: str, reason: str = "", *, actor: str = "local") -> CanaryStatus:
        return self.canaries.abort(model_id, reason, actor=actor)

    def add_listener(self, listener: ExperimentListener) -> None:
        self.listeners.add(listener)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until the canary evaluations requested by served requests so far are done."""
        return self.canaries.wait_idle(timeout)

    def close(self) -> None:
        self.canaries.close()
