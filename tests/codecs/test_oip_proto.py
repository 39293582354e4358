"""The checked-in gRPC descriptor is what the proto compiles to, and every message and field of it
is wire-compatible with Triton's `inference` protocol, which tritonclient speaks."""

from __future__ import annotations

import subprocess
import sys

import tritonclient.grpc.service_pb2 as triton

from nba_mcp_deploy.codecs import oip_proto
from tests.conftest import REPO


def test_the_descriptor_module_is_up_to_date_with_the_proto() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "gen_proto.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_every_field_has_tritons_number_and_type_and_the_service_its_methods() -> None:
    def fields(descriptor) -> dict[str, tuple[int, int, str]]:
        found = {}
        for field in descriptor.fields:
            target = field.message_type.full_name if field.message_type is not None else ""
            found[field.name] = (field.number, field.type, target)
            if field.message_type is not None and field.message_type.full_name.startswith("inference."):
                found.update({f"{field.name}.{k}": v for k, v in fields(field.message_type).items()})
        return found

    compared = 0
    for name in ("ModelInferRequest", "ModelInferResponse", "ModelMetadataResponse", "ServerMetadataResponse"):
        ours = fields(oip_proto.message_class(name).DESCRIPTOR)
        theirs = fields(getattr(triton, name).DESCRIPTOR)
        shared = {k: v for k, v in ours.items() if k in theirs}
        assert {k: theirs[k] for k in shared} == shared, name
        if name.startswith("ModelInfer"):  # all of inference itself; metadata `properties` is OIP's own
            assert shared == ours, name
        compared += len(shared)
    assert compared > 40
    triton_methods = {m.name for m in triton.DESCRIPTOR.services_by_name["GRPCInferenceService"].methods}
    assert set(oip_proto.method_names()) <= triton_methods
