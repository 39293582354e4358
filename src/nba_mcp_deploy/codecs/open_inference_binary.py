"""The Open Inference Protocol's binary-data extension (Triton's `binary_tensor_data`, which
tritonclient and KServe's client use by default): tensors travel as raw bytes after the JSON.

A request whose `Inference-Header-Content-Length` header is set carries that many bytes of JSON,
then the raw values of every input whose `parameters.binary_data_size` says how many bytes it
takes, in input order. A response with binary outputs is built the same way, and the server
sends the length of its JSON in the same header.
"""

from __future__ import annotations

import json
from typing import Any

from nba_mcp_deploy.codecs.open_inference import BINARY_DATA_SIZE
from nba_mcp_deploy.codecs.tensors import encode_raw
from nba_mcp_deploy.errors import InvalidInputError

EXTENSION = "binary_tensor_data"
HEADER_LENGTH = "Inference-Header-Content-Length"
MEDIA_TYPE = "application/octet-stream"


def split_body(raw: bytes, header_length: str | None) -> tuple[bytes, bytes | None]:
    """The JSON part of a body and the binary data after it (None without the header)."""
    if header_length is None:
        return raw, None
    length = header_length.strip()
    if not length.isdigit() or int(length) > len(raw):
        raise InvalidInputError(
            HEADER_LENGTH, header_length, f"the byte length of the JSON at the start of the body (at most {len(raw)})"
        )
    return raw[: int(length)], raw[int(length) :]


def encode_binary_response(response: dict[str, Any], binary: frozenset[str]) -> tuple[bytes, int]:
    """The body of `response` with the outputs named in `binary` moved after the JSON as raw
    bytes, and the JSON's length (for the `Inference-Header-Content-Length` header)."""
    tail = []
    outputs = []
    for tensor in response["outputs"]:
        if tensor["name"] in binary:
            raw = encode_raw(tensor["data"], tensor["datatype"])
            parameters = {**(tensor.get("parameters") or {}), BINARY_DATA_SIZE: len(raw)}
            tensor = {k: v for k, v in tensor.items() if k != "data"} | {"parameters": parameters}
            tail.append(raw)
        outputs.append(tensor)
    header = json.dumps({**response, "outputs": outputs}, ensure_ascii=False, separators=(",", ":")).encode()
    return header + b"".join(tail), len(header)
