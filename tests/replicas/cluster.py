"""Server replicas as real `nba-mcp-deploy serve --transport http` subprocesses sharing one PostgreSQL.

Each replica listens on its own loopback port with the same bearer-token file, so a test talks to
any of them like a load balancer would, and can kill one with SIGKILL.
"""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import subprocess_env
from tests.server.http_server import START_TIMEOUT_SEC, HttpServer, free_port, serve_command


@dataclass
class Replica:
    """One running replica: its name, its server and its process."""

    name: str
    server: HttpServer
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL: no clean-up, no last flush."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Cluster:
    """Replicas of one deployment: the workdir, their shared settings and the running ones."""

    workdir: Path
    env: dict[str, str]
    replicas: list[Replica] = field(default_factory=list)

    def start(self, name: str) -> Replica:
        """Start a replica and wait until it is ready (its services built, saved routing loaded)."""
        port = free_port()
        log = self.workdir / f"{name}.log"
        env = subprocess_env(**self.env, NBA_MCP_REPLICA_ID=name, MODEL_REGISTRY_DIR=str(self.workdir / name))
        with log.open("w") as errors:
            process = subprocess.Popen(
                serve_command("--host", "127.0.0.1", "--port", str(port)),
                cwd=self.workdir,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
        replica = Replica(name, HttpServer(f"http://127.0.0.1:{port}", log), process)
        deadline = time.monotonic() + START_TIMEOUT_SEC
        while True:
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}: {log.read_text()[-3000:]}")
            try:
                if replica.server.get("/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                replica.stop()
                raise AssertionError(f"{name} did not become ready: {log.read_text()[-3000:]}")
            time.sleep(0.1)
        self.replicas.append(replica)
        return replica

    def close(self) -> None:
        for replica in self.replicas:
            replica.stop()
