"""Wire formats for application traffic: pure functions between protocol payloads and the
records the serving core takes, and from its results back to protocol responses.

    open_inference          Open Inference Protocol (KServe V2, MLServer, Triton) JSON
    open_inference_binary   its binary-data extension: raw tensors after the JSON
    open_inference_grpc     the same protocol's gRPC messages (built from oip_proto/)
    mlflow_scoring          MLflow's scoring protocol (`mlflow models serve` /invocations)
    tensors                 what they share: OIP datatypes, flattening, checking values, raw bytes

No I/O, no web framework, no `mcp`/`mlflow`: every malformed payload becomes an
`InvalidInputError` naming the field (e.g. `inputs[2].shape`), the value and what is allowed.
"""
