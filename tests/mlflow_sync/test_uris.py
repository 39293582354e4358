"""`models:/` URIs name a version by number or alias, a deprecated stage, or a logged model."""

from __future__ import annotations

import pytest

from nba_mcp_deploy.mlflow_sync.uris import ModelsUri, parse_models_uri


@pytest.mark.parametrize(
    ("uri", "parsed"),
    [
        ("models:/win_prob/3", ModelsUri("win_prob", number="3")),
        ("models:/win_prob@champion", ModelsUri("win_prob", alias="champion")),
        ("models:/win_prob@champion/sub/dir", ModelsUri("win_prob", alias="champion", path="sub/dir")),
        ("models:/win_prob/12/model.skops", ModelsUri("win_prob", number="12", path="model.skops")),
        ("models:/win_prob/Production", ModelsUri("win_prob", stage="Production")),
        ("models:/m-0123abcd", ModelsUri("m-0123abcd")),
    ],
)
def test_the_parts_of_a_models_uri(uri: str, parsed: ModelsUri) -> None:
    assert parse_models_uri(uri) == parsed
    assert parsed.names_registered_version == (parsed.number is not None or parsed.alias is not None)


@pytest.mark.parametrize("uri", ["runs:/abc/model", "models:/", "models:@x", "/tmp/models/win_prob", ""])
def test_anything_else_is_not_a_models_uri(uri: str) -> None:
    assert parse_models_uri(uri) is None
