"""The baseline for the MCP predict round trip: a bare MCPServer that scores records with a model.

What an engineer would write in ten lines without us: load a `.skops` scikit-learn model, and
answer a tool call with `predict_proba` on the records. No routing, breaker, validation, metrics
or structured result. Its round trip minus the echo server's is the model's own time as served
(a process woken by a request, with caches cold), which the serving suite budgets against.

Usage: model_server.py MODEL.skops FEATURE [FEATURE ...]
"""

import sys
from typing import Any

import numpy as np
import skops.io as sio
from mcp.server.mcpserver import MCPServer

server = MCPServer("bare-model")
features = sys.argv[2:]
model: Any = None  # loaded in __main__, before the server answers


@server.tool()
def predict(inputs: list[dict[str, float]]) -> list[list[float]]:
    """Class probabilities for each record."""
    matrix = np.array([[record[name] for name in features] for record in inputs], dtype=np.float64)
    probabilities: list[list[float]] = model.predict_proba(matrix).tolist()
    return probabilities


if __name__ == "__main__":
    model = sio.load(sys.argv[1], trusted=sio.get_untrusted_types(file=sys.argv[1]))
    server.run("stdio")
