"""The unit of analysis: who was randomised, so that repeated requests count once.

With sticky routing (a `request_key`), the key is what the split assigns to a variant: every
request with that key reaches the same version, and its requests are alike (the same game asked
about again, the same user). Counting each request as an independent observation would
multiply the evidence by the number of repeats and make noise look significant. So every test
first averages a metric per unit, and then compares one value per unit:

- a unit is a request key (within one variant: a key that moved between variants when a canary
  raised its weight is one unit on each side), or, for a request without a key, that request;
- a unit's value is the mean over its requests (error rate, latency) or over its outcomes
  (correctness, absolute error), so a key asked 100 times weighs as much as a key asked once.
Without keys every request is its own unit and nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nba_mcp_deploy.experiments.twosample import FloatArray, IntArray


def unit_codes(keys: Sequence[str | None]) -> IntArray:
    """One code per request: the same key gives the same code; a keyless request its own."""
    codes: dict[str, int] = {}
    out = np.empty(len(keys), dtype=np.int64)
    for index, key in enumerate(keys):
        out[index] = -(index + 1) if key is None else codes.setdefault(key, len(codes))
    return out


def unit_means(units: IntArray, values: FloatArray) -> FloatArray:
    """The mean of `values` per unit, ignoring NaN; units without any value are left out."""
    finite = np.isfinite(values)
    if not finite.any():
        return np.empty(0)
    _, inverse = np.unique(units[finite], return_inverse=True)
    sums = np.bincount(inverse, weights=values[finite])
    counts = np.bincount(inverse)
    return np.asarray(sums / counts, dtype=np.float64)


def count_units(units: IntArray) -> int:
    return int(np.unique(units).shape[0])
