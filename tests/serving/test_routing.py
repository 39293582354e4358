"""Traffic splits: validation, proportions over 10,000 requests, sticky stability across processes."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from scipy import stats

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.serving.routing import make_split, sticky_point
from tests.conftest import subprocess_env


@pytest.mark.parametrize(
    ("versions", "weights", "field", "fragment"),
    [
        (["v1"], [1.0], "versions", "at least 2"),
        (["v1", "v1"], [0.5, 0.5], "versions", "only once"),
        (["v1", "v2"], [1.0], "weights", "one weight per version"),
        (["v1", "v2"], [0.5, 0.6], "weights", "sum to 1"),
        (["v1", "v2"], [1.2, -0.2], "weights[1]", ">= 0"),
        (["v1", "v2"], [float("nan"), 1.0], "weights[0]", "finite"),
        (["v1", "v2"], [float("inf"), 1.0], "weights[0]", "finite"),
        (["v1", "v2"], [True, False], "weights[0]", "finite number"),
    ],
)
def test_invalid_splits_name_the_field(versions: list[str], weights: list[float], field: str, fragment: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        make_split(versions, weights, sticky=False)
    assert caught.value.field == field
    assert fragment in str(caught.value)


def test_sum_tolerance_is_1e_6() -> None:
    make_split(["v1", "v2"], [0.5, 0.5 + 9e-7], sticky=False)
    with pytest.raises(InvalidInputError):
        make_split(["v1", "v2"], [0.5, 0.5 + 2e-6], sticky=False)


@pytest.mark.parametrize("weights", [[0.9, 0.1], [0.5, 0.5], [0.05, 0.95], [0.2, 0.3, 0.5]])
def test_random_routing_proportions_over_10000_requests(weights: list[float]) -> None:
    versions = [f"v{i}" for i in range(len(weights))]
    split = make_split(versions, weights, sticky=False)
    rng = random.Random(1234)
    counts = dict.fromkeys(versions, 0)
    for _ in range(10_000):
        counts[split.pick(rng.random())] += 1
    observed = [counts[v] for v in versions]
    # Chi-square goodness of fit: the split must be consistent with the weights...
    assert stats.chisquare(observed, [w * 10_000 for w in weights]).pvalue > 1e-3
    # ...and each share within 4 standard deviations of its weight.
    for count, weight in zip(observed, weights, strict=True):
        sd = (weight * (1 - weight) / 10_000) ** 0.5
        assert abs(count / 10_000 - weight) < 4 * sd


def test_zero_weight_version_never_gets_traffic() -> None:
    split = make_split(["v1", "v2", "v3"], [0.5, 0.0, 0.5], sticky=False)
    rng = random.Random(5)
    assert "v2" not in {split.pick(rng.random()) for _ in range(5_000)}
    assert split.pick(0.0) == "v1"
    assert split.pick(0.999999) == "v3"


def test_sticky_keys_are_stable_and_split_by_weight() -> None:
    split = make_split(["v1", "v2"], [0.7, 0.3], sticky=True)
    first = {f"user-{i}": split.pick(sticky_point("win", f"user-{i}")) for i in range(10_000)}
    again = {key: split.pick(sticky_point("win", key)) for key in first}
    assert first == again
    share = sum(v == "v2" for v in first.values()) / len(first)
    assert abs(share - 0.3) < 4 * (0.3 * 0.7 / 10_000) ** 0.5
    # Different models hash the same key independently.
    assert sticky_point("win", "user-1") != sticky_point("other", "user-1")


def test_sticky_points_are_the_same_in_a_fresh_process() -> None:
    keys = [f"game-{i}" for i in range(50)]
    here = [sticky_point("win", k) for k in keys]
    code = (
        "from nba_mcp_deploy.serving.routing import sticky_point\n"
        f"print(repr([sticky_point('win', k) for k in {keys!r}]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=subprocess_env(PYTHONHASHSEED="123"),
    )
    assert eval(out.stdout) == here
