"""A real `nba-mcp-deploy serve --transport http` subprocess on a free loopback port, and clients for it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import subprocess_env

START_TIMEOUT_SEC = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "nba_mcp_deploy", "serve", "--transport", "http", *args]


@dataclass(frozen=True)
class HttpServer:
    """A running server: its base URL and its stderr log."""

    base_url: str
    log: Path

    @property
    def mcp_url(self) -> str:
        return self.base_url + "/mcp"

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """A plain GET (no token), returning status, headers and body."""
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def metrics(self) -> dict[str, float]:
        """The Prometheus samples, by their full name with labels."""
        _, _, body = self.get("/metrics")
        samples: dict[str, float] = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                samples[name] = float(value)
        return samples


@contextmanager
def running_server(workdir: Path, *, args: tuple[str, ...] = (), **env: str) -> Iterator[HttpServer]:
    """Start the server in `workdir` and wait until /readyz answers 200; stop it afterwards."""
    port = free_port()
    log = workdir / f"server-{port}.log"
    with log.open("w") as errors:
        process = subprocess.Popen(
            serve_command("--host", "127.0.0.1", "--port", str(port), *args),
            cwd=workdir,
            env=subprocess_env(**env),
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    server = HttpServer(f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SEC
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the server exited with {process.returncode}: {log.read_text()[-3000:]}")
            try:
                if server.get("/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not become ready: {log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@asynccontextmanager
async def connect(server: HttpServer, token: str | None) -> AsyncIterator[Client]:
    """The MCP streamable-HTTP client, sending `Authorization: Bearer <token>` on every request."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60, read=300)) as http,
        Client(streamable_http_client(server.mcp_url, http_client=http)) as client,
    ):
        yield client


def post_initialize(server: HttpServer, authorization: str | None, body: bytes | None = None) -> httpx2.Response:
    """A raw MCP `initialize` POST, to see the HTTP status the endpoint answers with."""
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if authorization is not None:
        headers["Authorization"] = authorization
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
    }
    return httpx2.post(server.mcp_url, content=body or json.dumps(message).encode(), headers=headers, timeout=30)
