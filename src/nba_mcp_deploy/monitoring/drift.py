"""Drift of a whole dataset: run one statistic per feature, correct p-values, give a verdict.

`detect_drift` compares current columns with a prepared reference. Each feature gets a
`FeatureDriftResult`; the `DriftReport` adds the share of drifted features and the dataset-level
verdict (drift when that share reaches `drift_share`, 0.5 by default, as in Evidently).

Clear outcomes for awkward data, never a crash:
- a feature the reference lacks -> InvalidInputError naming the known features;
- a feature absent from the current data -> a result with no score and a note, listed in
  `missing_features` (the other features are still checked);
- a sample with no finite value (empty window, all NaN) -> a result with no score and a note;
- NaN / inf values -> left out and counted in `current_missing` / `missing_share`;
- a constant column -> a normal result (PSI and KL get two bins, KS works, Wasserstein notes it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.monitoring.correction import Correction, adjust, parse_correction
from nba_mcp_deploy.monitoring.methods import METHOD_RULE, DriftMethod, parse_method
from nba_mcp_deploy.monitoring.samples import (
    CurrentSample,
    NumericReference,
    ReferenceData,
    categorical_view,
    category_counts,
    prepare_current,
)
from nba_mcp_deploy.monitoring.stattests import (
    DriftStatistic,
    chi_square,
    jensen_shannon,
    kl_divergence,
    ks_test,
    psi,
    wasserstein_normed,
)

NumericTest = Callable[..., DriftStatistic]
NUMERIC_TESTS: dict[DriftMethod, NumericTest] = {
    DriftMethod.KS_TEST: ks_test,
    DriftMethod.PSI: psi,
    DriftMethod.KL_DIVERGENCE: kl_divergence,
    DriftMethod.JENSEN_SHANNON: jensen_shannon,
    DriftMethod.WASSERSTEIN: wasserstein_normed,
}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class FeatureDriftResult:
    """One feature, one method. `score` and `p_value` are None when they could not be computed."""

    feature: str
    method: DriftMethod
    score: float | None
    p_value: float | None
    threshold: float
    is_drift: bool
    reference_size: int
    current_size: int
    current_missing: int
    missing_share: float
    adjusted_p_value: float | None = None
    bins: int | None = None
    note: str | None = None

    @property
    def feature_name(self) -> str:
        """`feature` under the seed's name."""
        return self.feature

    @property
    def drift_score(self) -> float | None:
        """`score` under the seed's name."""
        return self.score

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["method"] = self.method.value
        return out


@dataclass(frozen=True)
class DriftReport:
    """All features under one method, plus the dataset-level verdict."""

    method: DriftMethod
    threshold: float
    correction: Correction
    results: tuple[FeatureDriftResult, ...]
    drift_share: float  # the share of checked features that must drift for dataset drift
    reference_rows: int
    current_rows: int
    missing_features: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[FeatureDriftResult]:
        """The per-feature results (the seed iterates over what a drift check returns)."""
        return iter(self.results)

    @property
    def checked(self) -> list[FeatureDriftResult]:
        """Results that have a score (features present in both samples with data)."""
        return [r for r in self.results if r.score is not None]

    @property
    def drifted_features(self) -> list[str]:
        return [r.feature for r in self.results if r.is_drift]

    @property
    def drifted_share(self) -> float:
        checked = self.checked
        return len(self.drifted_features) / len(checked) if checked else 0.0

    @property
    def dataset_drift(self) -> bool:
        return bool(self.checked) and self.drifted_share >= self.drift_share

    def ranked(self) -> list[FeatureDriftResult]:
        """Most drifted first: drifted before stable, then by p-value (tests) or score (distances)."""

        def key(r: FeatureDriftResult) -> tuple[int, float]:
            if r.score is None:
                return (2, 0.0)
            if self.method.uses_p_value:
                p = r.adjusted_p_value if r.adjusted_p_value is not None else r.p_value
                return (0 if r.is_drift else 1, p if p is not None else 1.0)
            return (0 if r.is_drift else 1, -r.score)

        return sorted(self.results, key=key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method.value,
            "threshold": self.threshold,
            "correction": self.correction.value,
            "dataset_drift": self.dataset_drift,
            "drifted_share": self.drifted_share,
            "drift_share": self.drift_share,
            "drifted_features": self.drifted_features,
            "missing_features": list(self.missing_features),
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "results": [r.to_dict() for r in self.results],
        }


def resolve_threshold(
    method: DriftMethod, threshold: float | None, *, drift_threshold: float, drift_significance: float
) -> float:
    """The caller's threshold, or the method's default from the config (see methods.py)."""
    if threshold is None:
        return method.default_threshold(drift_threshold, drift_significance)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not threshold >= 0:
        raise InvalidInputError("threshold", threshold, "must be a number >= 0")
    if method.uses_p_value and threshold > 1:
        raise InvalidInputError("threshold", threshold, f"{method.value} compares a p-value: use (0, 1]")
    return float(threshold)


def _no_score(
    feature: str, method: DriftMethod, threshold: float, ref_size: int, size: int, missing: int, note: str
) -> FeatureDriftResult:
    total = size + missing
    return FeatureDriftResult(
        feature=feature,
        method=method,
        score=None,
        p_value=None,
        threshold=threshold,
        is_drift=False,
        reference_size=ref_size,
        current_size=size,
        current_missing=missing,
        missing_share=missing / total if total else 0.0,
        note=note,
    )


def compare_numeric(
    reference: NumericReference, current: CurrentSample, method: DriftMethod, threshold: float
) -> FeatureDriftResult:
    """One numeric feature under one method, from a current sample prepared once per feature."""
    name = reference.name
    if reference.size == 0:
        return _no_score(name, method, threshold, 0, current.size, current.missing, "the reference has no finite value")
    if current.size == 0:
        note = "the current data has no finite value"
        return _no_score(name, method, threshold, reference.size, 0, current.missing, note)
    stat = NUMERIC_TESTS[method](reference, current, threshold=threshold)
    return _from_statistic(name, stat, reference.size, current.size, current.missing)


def _from_statistic(name: str, stat: DriftStatistic, ref_size: int, size: int, missing: int) -> FeatureDriftResult:
    total = size + missing
    return FeatureDriftResult(
        feature=name,
        method=stat.method,
        score=stat.score,
        p_value=stat.p_value,
        threshold=stat.threshold,
        is_drift=stat.is_drift,
        reference_size=ref_size,
        current_size=size,
        current_missing=missing,
        missing_share=missing / total if total else 0.0,
        bins=stat.bins,
        note=stat.note,
    )


def _compare_categorical(
    reference: ReferenceData, name: str, current_values: Any, threshold: float
) -> FeatureDriftResult:
    ref = categorical_view(reference, name)
    counts, missing = category_counts(current_values)
    size = sum(counts.values())
    method = DriftMethod.CHI_SQUARE
    if ref.size == 0:
        return _no_score(name, method, threshold, 0, size, missing, "the reference has no value")
    if size == 0:
        return _no_score(name, method, threshold, ref.size, 0, missing, "the current data has no value")
    stat = chi_square(ref, current_values, threshold=threshold)
    return _from_statistic(name, stat, ref.size, size, missing)


def detect_drift(
    reference: ReferenceData,
    current: Mapping[str, Any],
    *,
    method: DriftMethod | str = DriftMethod.KS_TEST,
    features: Sequence[str] | None = None,
    threshold: float | None = None,
    correction: Correction | str | None = None,
    drift_share: float = 0.5,
    drift_threshold: float = 0.1,
    drift_significance: float = 0.05,
    current_rows: int | None = None,
    progress: Progress | None = None,
    workers: int = 1,
) -> DriftReport:
    """Compare `current` columns with the prepared `reference`, feature by feature, under one method.

    `features` defaults to every reference feature. `correction` (Bonferroni or
    Benjamini-Hochberg) adjusts the p-values of the tests across features; it does not apply to
    distance scores. `progress(done, total)` is called after each feature (long checks).
    """
    chosen = parse_method(method)
    reports = detect_drift_many(
        reference,
        current,
        methods=[chosen],
        features=features,
        thresholds=None if threshold is None else {chosen: threshold},
        correction=correction,
        drift_share=drift_share,
        drift_threshold=drift_threshold,
        drift_significance=drift_significance,
        current_rows=current_rows,
        progress=progress,
        workers=workers,
    )
    return reports[chosen]


def detect_drift_many(
    reference: ReferenceData,
    current: Mapping[str, Any],
    *,
    methods: Sequence[DriftMethod | str],
    features: Sequence[str] | None = None,
    thresholds: Mapping[DriftMethod, float] | None = None,
    correction: Correction | str | None = None,
    drift_share: float = 0.5,
    drift_threshold: float = 0.1,
    drift_significance: float = 0.05,
    current_rows: int | None = None,
    progress: Progress | None = None,
    workers: int = 1,
) -> dict[DriftMethod, DriftReport]:
    """Several methods in one pass: each current column is cleaned and sorted once for all of them.

    The correction applies to the p-value methods among `methods` and is ignored for distances.
    `workers` > 1 checks features in that many threads (numpy sorts and searches release the GIL,
    so wide checks on large samples scale with the cores); results keep the feature order.
    """
    chosen = list(dict.fromkeys(parse_method(m) for m in methods))
    if not chosen:
        raise InvalidInputError("methods", methods, METHOD_RULE)
    fix = parse_correction(correction)
    if not 0 < drift_share <= 1:
        raise InvalidInputError("drift_share", drift_share, "must be in (0, 1]")
    if fix is not Correction.NONE and not any(m.uses_p_value for m in chosen):
        raise InvalidInputError(
            "correction", fix.value, "applies to the p-value methods (ks, chi_square), not to distances"
        )
    given = thresholds or {}
    limits = {
        m: resolve_threshold(m, given.get(m), drift_threshold=drift_threshold, drift_significance=drift_significance)
        for m in chosen
    }
    names = _feature_names(reference, features)
    for name in names:
        if name in current and name not in reference.numeric and any(m.numeric_only for m in chosen):
            raise InvalidInputError("method", methods, f"feature {name!r} is categorical: use chi_square for it")

    def one_feature(name: str) -> list[FeatureDriftResult]:
        if name not in current:
            ref_size = reference.numeric[name].size if name in reference.numeric else 0
            return [_no_score(name, m, limits[m], ref_size, 0, 0, "missing from the current data") for m in chosen]
        sample: CurrentSample | None = None
        out = []
        for m in chosen:
            if m is DriftMethod.CHI_SQUARE:
                out.append(_compare_categorical(reference, name, current[name], limits[m]))
                continue
            if sample is None:
                sample = prepare_current(current[name], name)
            out.append(compare_numeric(reference.numeric[name], sample, m, limits[m]))
        return out

    results: dict[DriftMethod, list[FeatureDriftResult]] = {m: [] for m in chosen}
    missing = [name for name in names if name not in current]
    with _executor(workers, len(names)) as pool:
        outcomes = pool.map(one_feature, names) if pool is not None else map(one_feature, names)
        for done, per_method in enumerate(outcomes, start=1):
            for m, result in zip(chosen, per_method, strict=True):
                results[m].append(result)
            if progress is not None:
                progress(done, len(names))
    rows = current_rows if current_rows is not None else _row_count(current)
    reports: dict[DriftMethod, DriftReport] = {}
    for m in chosen:
        method_fix = fix if m.uses_p_value else Correction.NONE
        final = _corrected(results[m], method_fix, limits[m]) if method_fix is not Correction.NONE else results[m]
        reports[m] = DriftReport(
            method=m,
            threshold=limits[m],
            correction=method_fix,
            results=tuple(final),
            drift_share=drift_share,
            reference_rows=reference.rows,
            current_rows=rows,
            missing_features=tuple(missing),
        )
    return reports


@contextmanager
def _executor(workers: int, tasks: int) -> Iterator[ThreadPoolExecutor | None]:
    """A thread pool when more than one worker is asked for and useful, else None (run inline)."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidInputError("workers", workers, "must be a whole number >= 1")
    if workers == 1 or tasks < 2:
        yield None
        return
    with ThreadPoolExecutor(max_workers=min(workers, tasks), thread_name_prefix="drift") as pool:
        yield pool


def _feature_names(reference: ReferenceData, features: Sequence[str] | None) -> list[str]:
    known = reference.feature_names
    if features is not None and isinstance(features, str):
        features = [features]
    names = list(known) if features is None else [str(f) for f in features]
    unknown = [n for n in names if n not in reference.numeric and n not in reference.categorical]
    if unknown:
        raise InvalidInputError("features", unknown, f"not in the reference data; known: {', '.join(known)}")
    if not names:
        raise InvalidInputError("features", names, "name at least one feature")
    return names


def _corrected(results: list[FeatureDriftResult], correction: Correction, threshold: float) -> list[FeatureDriftResult]:
    tested = [i for i, r in enumerate(results) if r.p_value is not None]
    adjusted = adjust([results[i].p_value or 0.0 for i in tested], correction)
    out = list(results)
    for i, p in zip(tested, adjusted, strict=True):
        r = results[i]
        out[i] = FeatureDriftResult(**{**r.__dict__, "adjusted_p_value": p, "is_drift": p < threshold})
    return out


def _row_count(current: Mapping[str, Any]) -> int:
    sizes = [len(v) for v in current.values() if hasattr(v, "__len__")]
    return max(sizes, default=0)
