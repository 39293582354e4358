"""Run in the KServe venv (tools/side_venv.py): KServe 0.21's own clients, REST and gRPC, against
a running server; prints what they got as JSON for tests/server/test_inference_kserve_clients.py.

Usage: python kserve_clients.py BASE_URL GRPC_ADDRESS TOKEN MODEL ROWS_JSON
"""

import asyncio
import json
import sys

import numpy as np
from kserve import InferenceGRPCClient, InferenceRESTClient, InferInput, InferRequest, RESTConfig


def request(model: str, columns: dict, binary: bool, datatype: str) -> InferRequest:
    inputs = []
    for name, values in columns.items():
        tensor = InferInput(name, [len(values)], datatype)
        tensor.set_data_from_numpy(
            np.asarray(values, dtype={"FP64": np.float64, "FP32": np.float32}[datatype]), binary_data=binary
        )
        inputs.append(tensor)
    return InferRequest(model_name=model, infer_inputs=inputs, request_id="kserve-1")


def outputs(response) -> dict:
    return {output.name: output.as_numpy().tolist() for output in response.outputs}


async def main() -> None:
    base, grpc_address, token, model, rows = sys.argv[1:6]
    columns = json.loads(rows)
    headers = {"Authorization": f"Bearer {token}"}
    found: dict = {}
    rest = InferenceRESTClient(RESTConfig(protocol="v2", retries=0, timeout=60))
    try:
        found["server_ready"] = await rest.is_server_ready(base, headers=headers)
        found["model_ready"] = await rest.is_model_ready(base, model, headers=headers)
        for binary in (False, True):
            for datatype in ("FP64", "FP32"):
                response = await rest.infer(
                    base, request(model, columns, binary, datatype), model_name=model, headers=dict(headers)
                )
                found[f"rest_{'binary' if binary else 'json'}_{datatype}"] = outputs(response)
    finally:
        await rest.close()
    grpc_client = InferenceGRPCClient(grpc_address, retries=0)
    try:
        metadata = [("authorization", f"Bearer {token}")]
        response = await grpc_client.infer(request(model, columns, False, "FP64"), headers=metadata)
        found["grpc_FP64"] = outputs(response)
        found["grpc_server_ready"] = await grpc_client.is_server_ready(headers=metadata)
    finally:
        await grpc_client.close()
    print(json.dumps(found))


asyncio.run(main())
