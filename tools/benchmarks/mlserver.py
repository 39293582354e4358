"""MLServer 1.7 (`mlserver-sklearn`, its own venv: tools/side_venv.py) serving a joblib'd
scikit-learn model over OIP REST and gRPC, with its defaults (one inference worker process)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

from benchmarks.common import stop_processes

TOOLS = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class MlserverAddresses:
    http: str
    grpc: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def venv_python() -> Path:
    sys.path.insert(0, str(TOOLS))
    try:
        from side_venv import MLSERVER
    finally:
        sys.path.remove(str(TOOLS))
    problem = MLSERVER.ensure()
    if problem is not None:
        raise RuntimeError(problem)
    return MLSERVER.python


@contextmanager
def mlserver(workdir: Path, model_file: Path, model: str, version: str) -> Iterator[MlserverAddresses]:
    """`mlserver start` on loopback ports for `model_file`, until it reports the model ready."""
    python = venv_python()
    root = workdir / "mlserver"
    (root / model).mkdir(parents=True, exist_ok=True)
    (root / model / "model.joblib").write_bytes(model_file.read_bytes())
    settings = {
        "name": model,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib", "version": version},
    }
    (root / model / "model-settings.json").write_text(json.dumps(settings))
    http_port, grpc_port, metrics_port = _free_port(), _free_port(), _free_port()
    server = {"host": "127.0.0.1", "http_port": http_port, "grpc_port": grpc_port, "metrics_port": metrics_port}
    (root / "settings.json").write_text(json.dumps(server))
    log = workdir / "mlserver.log"
    with log.open("w") as errors:
        process = subprocess.Popen(
            [str(python.with_name("mlserver")), "start", str(root)], stdout=errors, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"mlserver exited with {process.returncode}: {log.read_text()[-2000:]}")
            try:
                if httpx2.get(f"{base}/v2/models/{model}/ready", timeout=2).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"mlserver did not become ready: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield MlserverAddresses(base, f"127.0.0.1:{grpc_port}")
    finally:
        stop_processes([process])
