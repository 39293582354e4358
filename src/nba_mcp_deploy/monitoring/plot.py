"""A PNG comparing reference and current distributions of the most drifted features.

People and agents would rather look than read: one panel per feature (the `top` most drifted in
the report), reference and current as overlaid density histograms on the reference-quantile
range, or as side-by-side bars of category shares. matplotlib is imported here only, and drawn
through its Agg canvas directly (no pyplot, no global backend switch), so it is safe in a server.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from nba_mcp_deploy.monitoring.drift import DriftReport, FeatureDriftResult
from nba_mcp_deploy.monitoring.samples import ReferenceData, as_float_array, category_counts, finite_part

HIST_BINS = 40


def _title(result: FeatureDriftResult) -> str:
    score = "n/a" if result.score is None else f"{result.score:.3g}"
    p = "" if result.p_value is None else f", p={result.p_value:.2g}"
    flag = "DRIFT" if result.is_drift else "stable"
    return f"{result.feature}: {result.method.value}={score}{p} ({flag})"


def _numeric_panel(ax: Any, reference: ReferenceData, name: str, values: Any) -> None:
    ref = reference.numeric[name].sorted_values
    floats = as_float_array(values, name)
    cur = finite_part(floats)[0] if floats is not None else np.empty(0)
    both = np.concatenate((ref, cur)) if cur.shape[0] else ref
    if both.shape[0] == 0:
        ax.text(0.5, 0.5, "no finite values", ha="center", va="center")
        return
    low, high = np.quantile(both, [0.005, 0.995])
    if not high > low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, HIST_BINS + 1)
    ax.hist(ref, bins=edges, density=True, alpha=0.5, label=f"reference (n={ref.shape[0]})", color="tab:blue")
    if cur.shape[0]:
        ax.hist(cur, bins=edges, density=True, alpha=0.5, label=f"current (n={cur.shape[0]})", color="tab:orange")
    ax.legend(fontsize=7)


def _categorical_panel(ax: Any, reference: ReferenceData, name: str, values: Any) -> None:
    if name in reference.categorical:
        column = reference.categorical[name]
        ref_counts = dict(zip(column.categories, column.counts.tolist(), strict=True))
    else:
        ref_counts = category_counts(reference.numeric[name].sorted_values)[0]
    cur_counts = category_counts(values)[0]
    labels = list(dict.fromkeys([*ref_counts, *cur_counts]))[:30]
    ref_total = max(sum(ref_counts.values()), 1)
    cur_total = max(sum(cur_counts.values()), 1)
    x = np.arange(len(labels))
    ax.bar(x - 0.2, [ref_counts.get(k, 0) / ref_total for k in labels], width=0.4, label="reference")
    ax.bar(x + 0.2, [cur_counts.get(k, 0) / cur_total for k in labels], width=0.4, label="current")
    ax.set_xticks(x, [str(k) for k in labels], rotation=45, fontsize=7)
    ax.legend(fontsize=7)


def render_drift_png(
    reference: ReferenceData,
    current: Mapping[str, Any],
    report: DriftReport,
    *,
    top: int = 4,
    dpi: int = 100,
) -> bytes:
    """PNG bytes with one panel per most-drifted feature present in both samples."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    chosen = [r for r in report.ranked() if r.score is not None and r.feature in current][: max(top, 1)]
    columns = min(2, max(len(chosen), 1))
    rows = max(math.ceil(len(chosen) / columns), 1)
    figure = Figure(figsize=(5.5 * columns, 3.4 * rows), dpi=dpi)
    FigureCanvasAgg(figure)
    verdict = "dataset drift" if report.dataset_drift else "no dataset drift"
    drifted = f"{len(report.drifted_features)}/{len(report.checked)}"
    figure.suptitle(f"{report.method.value}: {drifted} features drifted ({verdict})", fontsize=10)
    if not chosen:
        ax = figure.add_subplot(1, 1, 1)
        ax.text(0.5, 0.5, "no feature could be compared", ha="center", va="center")
        ax.set_axis_off()
    for i, result in enumerate(chosen):
        ax = figure.add_subplot(rows, columns, i + 1)
        values = current[result.feature]
        categorical = result.feature not in reference.numeric or as_float_array(values, result.feature) is None
        if categorical or report.method.value == "chi_square":
            _categorical_panel(ax, reference, result.feature, values)
        else:
            _numeric_panel(ax, reference, result.feature, values)
        ax.set_title(_title(result), fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
