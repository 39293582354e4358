"""A throwaway PostgreSQL server on loopback, for the tests, the benchmarks and trying replicas locally.

    python tools/local_postgres.py start DIR [--port PORT]   initdb + start; prints the admin URL
    python tools/local_postgres.py stop DIR                   stop it (DIR stays)

It uses the server binaries of Debian's `postgresql` package (found on PATH or under
/usr/lib/postgresql/*/bin). PostgreSQL refuses to run as root, so as root the cluster belongs to
the `postgres` user the package creates and every server command runs as that user. The server
listens on 127.0.0.1 only, trusts local connections (user `nba`) and keeps its socket in its data
directory; `fast=True` (the tests) turns fsync off: a crash of the machine loses the cluster,
which is thrown away anyway.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

USER = "nba"
SERVICE_ACCOUNT = "postgres"
START_TIMEOUT_SEC = 60


def find_binaries() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres; None when PostgreSQL is not installed."""
    found = shutil.which("pg_ctl")
    if found is not None and shutil.which("initdb") is not None:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return versions[-1].parent if versions else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalPostgres:
    """One cluster in `directory` (created if empty), started on `port`; a context manager."""

    def __init__(self, directory: Path | None = None, *, port: int | None = None, fast: bool = True) -> None:
        binaries = find_binaries()
        if binaries is None:
            raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql")
        self.bin = binaries
        self.directory = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="nba-pg-"))
        self._owned = directory is None
        self.port = port or free_port()
        self.fast = fast
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str, *, schema: str | None = None) -> str:
        """A SQLAlchemy URL for `database` (and `schema` as the search path)."""
        options = "" if schema is None else f"?options=-csearch_path%3D{schema}"
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}{options}"

    def conninfo(self, database: str = "postgres") -> str:
        """A libpq URI for psycopg itself."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> LocalPostgres:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._hand_over(self.directory)
        if not (self.data / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            )
        settings = [
            "-c listen_addresses=127.0.0.1",
            f"-c port={self.port}",
            f"-c unix_socket_directories={self.directory}",
            "-c max_connections=300",
        ]
        if self.fast:
            settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            " ".join(settings),
            "-w",
            "-t",
            str(START_TIMEOUT_SEC),
            "start",
        )
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        if self._owned:
            shutil.rmtree(self.directory, ignore_errors=True)

    def create_database(self, name: str) -> None:
        """CREATE DATABASE `name` unless it exists (another process may be creating it too)."""
        import psycopg
        from psycopg import errors

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if exists is None:
                with contextlib.suppress(errors.DuplicateDatabase, errors.UniqueViolation):
                    conn.execute(f'CREATE DATABASE "{name}"')

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # -- running as the service account when root ----------------------------------------------

    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _hand_over(self, path: Path) -> None:
        """As root, give the cluster's directory to the service account (PostgreSQL refuses root)."""
        if self._as_root():
            account = pwd.getpwnam(SERVICE_ACCOUNT)
            os.chown(path, account.pw_uid, account.pw_gid)
            path.chmod(0o700)

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        command = [str(self.bin / program), *args]
        user = SERVICE_ACCOUNT if self._as_root() else None
        result = subprocess.run(
            command, user=user, capture_output=True, text=True, check=False, cwd=self.directory, timeout=120
        )
        if check and result.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr or result.stdout}\n{log}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("start", "stop"))
    parser.add_argument("directory", type=Path)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    server = LocalPostgres(args.directory.absolute(), port=args.port or 5432, fast=False)
    if args.command == "start":
        server.start()
        print(server.admin_url)
    else:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
