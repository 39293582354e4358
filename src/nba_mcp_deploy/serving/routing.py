"""Traffic splits: weighted random routing and sticky routing by a stable hash of the request key.

A split is immutable; changing weights swaps in a new one, so a request in flight always sees
one consistent split. The sticky hash is BLAKE2b of the model id and the key, so the same key
reaches the same version in every process and after every restart (Python's `hash` would not).
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from nba_mcp_deploy.errors import InvalidInputError

WEIGHT_SUM_TOLERANCE = 1e-6
_TWO_TO_64 = float(2**64)


@dataclass(frozen=True)
class TrafficSplit:
    """Versions with weights summing to 1; `cumulative` holds the running sums for bisection."""

    versions: tuple[str, ...]
    weights: tuple[float, ...]
    sticky: bool
    cumulative: tuple[float, ...]

    def pick(self, point: float) -> str:
        """The version whose cumulative band contains `point` in [0, 1)."""
        index = bisect.bisect_right(self.cumulative, point)
        # Zero-weight versions have empty bands; clamp for points at the very top.
        return self.versions[min(index, len(self.versions) - 1)]

    def weight_of(self, version: str) -> float:
        return dict(zip(self.versions, self.weights, strict=True)).get(version, 0.0)


def make_split(versions: Sequence[str], weights: Sequence[float], *, sticky: bool) -> TrafficSplit:
    """Validate a split: non-negative finite weights, one per version, summing to 1 within
    WEIGHT_SUM_TOLERANCE."""
    versions = list(versions)
    weights = list(weights)
    if len(versions) < 2:
        raise InvalidInputError("versions", versions, "an A/B split needs at least 2 versions")
    if len(set(versions)) != len(versions):
        raise InvalidInputError("versions", versions, "each version may appear only once")
    if len(weights) != len(versions):
        raise InvalidInputError("weights", weights, f"need exactly one weight per version ({len(versions)} versions)")
    for index, weight in enumerate(weights):
        if not isinstance(weight, int | float) or isinstance(weight, bool) or not math.isfinite(weight):
            raise InvalidInputError(f"weights[{index}]", weight, "each weight must be a finite number")
        if weight < 0:
            raise InvalidInputError(f"weights[{index}]", weight, "each weight must be >= 0")
    total = math.fsum(weights)
    if abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
        raise InvalidInputError(
            "weights",
            weights,
            f"weights must sum to 1 within {WEIGHT_SUM_TOLERANCE:g} (they sum to {total:.9g})",
        )
    if all(w == 0 for w in weights):
        raise InvalidInputError("weights", weights, "at least one weight must be > 0")
    cumulative: list[float] = []
    running = 0.0
    for weight in weights:
        running += float(weight) / total
        cumulative.append(running)
    cumulative[-1] = 1.0
    return TrafficSplit(tuple(versions), tuple(float(w) for w in weights), sticky, tuple(cumulative))


def sticky_point(model_id: str, request_key: str) -> float:
    """A stable point in [0, 1) for (model, key): the same in every process and across restarts."""
    digest = hashlib.blake2b(f"{model_id}\x1f{request_key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _TWO_TO_64
