"""Comparing two versions (of one model or of two): numbers an agent can reason about.

Differences are always b minus a; relative differences are against |a| and absent when a is
zero or the metric is missing on one side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nba_mcp_deploy.registry.lineage import LineageRelation
from nba_mcp_deploy.registry.records import ModelVersion


@dataclass(frozen=True)
class MetricDiff:
    """One metric on both sides; `absolute` = b - a, `relative` = (b - a) / |a|."""

    name: str
    a: float | None
    b: float | None
    absolute: float | None
    relative: float | None


@dataclass(frozen=True)
class HyperparameterDiff:
    """A hyperparameter whose value differs or that only one side has."""

    name: str
    a: Any
    b: Any
    in_a: bool
    in_b: bool


@dataclass(frozen=True)
class Comparison:
    """Everything that differs between a and b, plus the metrics and stage of both."""

    a: ModelVersion
    b: ModelVersion
    metrics: tuple[MetricDiff, ...]
    hyperparameters: tuple[HyperparameterDiff, ...]
    same_hyperparameters: tuple[str, ...]
    age_a_sec: float
    age_b_sec: float
    relation: LineageRelation

    @property
    def same_stage(self) -> bool:
        return self.a.stage is self.b.stage


def metric_diffs(a: ModelVersion, b: ModelVersion) -> list[MetricDiff]:
    """Every metric of either version, sorted by name."""
    return diff_metrics(a.metrics, b.metrics)


def diff_metrics(a: Mapping[str, float], b: Mapping[str, float]) -> list[MetricDiff]:
    """Every metric of either side, sorted by name (also for metrics read from training runs)."""
    out = []
    for name in sorted(set(a) | set(b)):
        va, vb = a.get(name), b.get(name)
        absolute = None if va is None or vb is None else vb - va
        relative = None if absolute is None or va == 0 or va is None else absolute / abs(va)
        out.append(MetricDiff(name, va, vb, absolute, relative))
    return out


def hyperparameter_diffs(a: ModelVersion, b: ModelVersion) -> tuple[list[HyperparameterDiff], list[str]]:
    """The hyperparameters that differ (or exist on one version only), and the names that are equal."""
    return diff_values(a.hyperparameters, b.hyperparameters)


def diff_values(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[list[HyperparameterDiff], list[str]]:
    """The names whose values differ (or exist on one side only), and the names that are equal."""
    differing, same = [], []
    for name in sorted(set(a) | set(b)):
        in_a, in_b = name in a, name in b
        va, vb = a.get(name), b.get(name)
        if in_a and in_b and va == vb:
            same.append(name)
        else:
            differing.append(HyperparameterDiff(name, va, vb, in_a, in_b))
    return differing, same


def compare(a: ModelVersion, b: ModelVersion, relation: LineageRelation, *, now: float) -> Comparison:
    """The comparison of a and b at time `now` (for their ages)."""
    differing, same = hyperparameter_diffs(a, b)
    return Comparison(
        a=a,
        b=b,
        metrics=tuple(metric_diffs(a, b)),
        hyperparameters=tuple(differing),
        same_hyperparameters=tuple(same),
        age_a_sec=max(0.0, now - a.registered_at),
        age_b_sec=max(0.0, now - b.registered_at),
        relation=relation,
    )
