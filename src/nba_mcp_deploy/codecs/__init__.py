"""Wire formats for application traffic: pure functions between protocol payloads and the
records the serving core takes, and from its results back to protocol responses.

    open_inference   Open Inference Protocol (KServe V2, MLServer, Triton) JSON
    mlflow_scoring   MLflow's scoring protocol (`mlflow models serve` /invocations)
    tensors          what both share: OIP datatypes, flattening, checking one value

No I/O, no web framework, no `mcp`/`mlflow`: every malformed payload becomes an
`InvalidInputError` naming the field (e.g. `inputs[2].shape`), the value and what is allowed.
"""
