"""The transition table and its refusals, without a store."""

from __future__ import annotations

import itertools

import pytest

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.registry.stages import TRANSITIONS, Stage, check_transition, parse_stage


def test_the_table_covers_every_stage_and_never_loops():
    assert set(TRANSITIONS) == set(Stage)
    for stage, targets in TRANSITIONS.items():
        assert stage not in targets
        assert len(set(targets)) == len(targets)


def test_production_is_reached_only_from_staging():
    assert [s for s, targets in TRANSITIONS.items() if Stage.PRODUCTION in targets] == [Stage.STAGING]


@pytest.mark.parametrize(("current", "target"), list(itertools.product(Stage, Stage)))
def test_every_pair_is_allowed_exactly_when_the_table_says(current, target):
    if target in TRANSITIONS[current]:
        check_transition(current, target, subject="m:v1")
        return
    with pytest.raises(InvalidInputError) as info:
        check_transition(current, target, subject="m:v1")
    assert info.value.field == "target_stage"
    allowed = ", ".join(s.value for s in TRANSITIONS[current])
    assert f"from {current.value} the allowed target stages are: {allowed}" in str(info.value)


@pytest.mark.parametrize("text", ["production", "PRODUCTION", " Staging ", Stage.ARCHIVED])
def test_stage_names_parse_in_any_case(text):
    assert isinstance(parse_stage(text), Stage)


@pytest.mark.parametrize("bad", ["prod", "", None, 3, ["staging"]])
def test_unknown_stage_names_list_the_allowed_ones(bad):
    with pytest.raises(InvalidInputError, match="allowed stages: development, staging, production, archived"):
        parse_stage(bad, "target_stage")
