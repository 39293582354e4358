"""schemathesis on the Open Inference Protocol's REST spec (MLServer's `dataplane.json`, see
specs/README.md): generated requests to every operation, with a bounded number of examples,
must never get a 5xx, and every answer must match the spec's response schemas."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import NbaModels
from tests.server.inference_server import InferenceServer, inference_server

SPEC = Path(__file__).parent / "specs" / "oip_dataplane.json"
MAX_EXAMPLES = 40
MODEL, VERSION = "nba", "v1.0"


def pinned_spec() -> dict[str, Any]:
    """The spec with `model_name` / `model_version` pinned to the deployed model, so generated
    requests reach the model instead of only its 404; and `TensorData`'s second alternative,
    `"type": "bytes"` (not a JSON Schema type: the binary-data extension, which JSON cannot
    describe), left out."""
    spec = json.loads(SPEC.read_text())
    spec["components"]["schemas"]["TensorData"] = {"title": "TensorData", "type": "array"}
    pins = {"model_name": MODEL, "model_version": VERSION}
    for operations in spec["paths"].values():
        for parameter in operations.get("parameters", []):
            if parameter.get("name") in pins:
                parameter["schema"] = {"type": "string", "enum": [pins[parameter["name"]]]}
    return spec


schema = schemathesis.openapi.from_dict(pinned_spec())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, nba: NbaModels) -> Iterator[InferenceServer]:
    with inference_server(tmp_path_factory.mktemp("schemathesis"), nba) as server:
        server.deploy(MODEL, VERSION, "logistic_mlflow")
        yield server


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_5xx(case: Any, served: InferenceServer) -> None:
    response = case.call(base_url=served.server.base_url, headers=served.bearer())
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
