"""A canary's state as a JSON document in the store, so every replica can read it and one can resume it.

The replica that runs a canary writes its status there (`CanaryRecord`, compare-and-set on the
record's revision) when it starts, after evaluations (at most once per `HEARTBEAT_SEC`, so the
write doubles as a heartbeat) and when it ends. `canary_status` on another replica answers from
that document. When the running replica stops writing for `TAKEOVER_HEARTBEATS` check intervals
(it died), another one adopts the canary from the document — its step, when the step began,
the fleet's counters at that moment and the history — and carries on; the compare-and-set
lets only one replica adopt it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from nba_mcp_deploy.experiments.canary import Canary, CanaryPhase, CanaryStatus, StepStatus
from nba_mcp_deploy.experiments.canary_policy import CanaryPolicy
from nba_mcp_deploy.experiments.events import EventKind, ExperimentEvent
from nba_mcp_deploy.experiments.guards import Decision, GuardResult, GuardStatus
from nba_mcp_deploy.registry.stages import Stage
from nba_mcp_deploy.serving.counts import VersionCounts

HEARTBEAT_SEC = 1.0
TAKEOVER_HEARTBEATS = 3


def to_document(
    status: CanaryStatus,
    *,
    registry_path: tuple[Stage, ...] | None,
    baseline: Mapping[str, VersionCounts] | None,
) -> dict[str, Any]:
    """The status, what the final promotion will do, and the fleet's counters when the step began."""
    document = dataclasses.asdict(status)
    document["registry_path"] = None if registry_path is None else [s.value for s in registry_path]
    document["baseline"] = None if baseline is None else {v: c.to_document() for v, c in baseline.items()}
    return document


def _guard(data: Mapping[str, Any]) -> GuardResult:
    return GuardResult(data["name"], GuardStatus(data["status"]), data["value"], data["threshold"], data["detail"])


def _event(data: Mapping[str, Any]) -> ExperimentEvent:
    return ExperimentEvent(
        kind=EventKind(data["kind"]),
        model_id=data["model_id"],
        stable_version=data["stable_version"],
        candidate_version=data["candidate_version"],
        step_index=int(data["step_index"]),
        weight=float(data["weight"]),
        at=float(data["at"]),
        reason=data["reason"],
        guards=tuple(_guard(g) for g in data["guards"]),
        actor=data["actor"],
    )


def status_from_document(document: Mapping[str, Any]) -> CanaryStatus:
    policy = dict(document["policy"])
    policy["steps"] = tuple(policy["steps"])
    decision = document["decision"]
    return CanaryStatus(
        model_id=document["model_id"],
        phase=CanaryPhase(document["phase"]),
        stable_version=document["stable_version"],
        candidate_version=document["candidate_version"],
        policy=CanaryPolicy(**policy),
        step=StepStatus(**document["step"]),
        guards=tuple(_guard(g) for g in document["guards"]),
        decision=None if decision is None else Decision(decision),
        decision_reason=document["decision_reason"],
        registry_plan=document["registry_plan"],
        started_at=document["started_at"],
        finished_at=document["finished_at"],
        reason=document["reason"],
        history=tuple(_event(e) for e in document["history"]),
    )


def registry_path_of(document: Mapping[str, Any]) -> tuple[Stage, ...] | None:
    path = document.get("registry_path")
    return None if path is None else tuple(Stage(s) for s in path)


def baseline_of(document: Mapping[str, Any]) -> dict[str, VersionCounts] | None:
    baseline = document.get("baseline")
    return None if baseline is None else {v: VersionCounts.from_document(c) for v, c in baseline.items()}


def canary_from_document(
    document: Mapping[str, Any], *, now: float, mono: float, start_seq: int, latency_window: int, with_fleet: bool
) -> Canary:
    """A running canary resumed from its document at its current step; its counters start afresh
    here (`start_seq`), its step's bake time counts from when the step began elsewhere."""
    status = status_from_document(document)
    canary = Canary(
        status.model_id,
        status.stable_version,
        status.candidate_version,
        status.policy,
        started_at=status.started_at,
        started_mono=mono - (now - status.started_at),
        start_seq=start_seq,
        registry_path=registry_path_of(document),
        latency_window=latency_window,
    )
    canary.begin_step(status.step.index, status.step.started_at, mono - (now - status.step.started_at))
    canary.history = list(status.history)
    canary.baseline = baseline_of(document) if with_fleet else None
    return canary
