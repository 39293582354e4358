"""Ids and versions: what is accepted, what is refused, how versions sort."""

from __future__ import annotations

import pytest

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.identifiers import validate_model_id, validate_version, version_key


@pytest.mark.parametrize("good", ["win", "win_prob-2.0", "A1", "x" * 64])
def test_valid_model_ids(good: str) -> None:
    assert validate_model_id(good) == good


@pytest.mark.parametrize("bad", ["", "../x", "a/b", ".hidden", "a..b", "x" * 65, "a b", "é", "a\n", None, 3])
def test_invalid_model_ids(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="model_id"):
        validate_model_id(bad)


@pytest.mark.parametrize("good", ["v1", "v1.0", "v2.1.3", "v10.0.0.1"])
def test_valid_versions(good: str) -> None:
    assert validate_version(good) == good


@pytest.mark.parametrize("bad", ["1.0", "v", "v1.", "v1.0.0.0.0", "V1.0", "v1.0-rc1", "v1.a", "", None])
def test_invalid_versions(bad: object) -> None:
    with pytest.raises(InvalidInputError, match=r"'v' followed by"):
        validate_version(bad)


def test_versions_sort_semantically() -> None:
    versions = ["v1.10", "v1.9", "v2", "v1.0", "v10.0", "v2.0.1"]
    assert sorted(versions, key=version_key) == ["v1.0", "v1.9", "v1.10", "v2", "v2.0.1", "v10.0"]
