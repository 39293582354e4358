"""A writer process for the multi-process tests; it acknowledges each write only after it returned.

python -m tests.stores.worker KIND DIRECTORY register PREFIX COUNT
    waits for a line on stdin (the start signal), registers COUNT versions of model
    'shared' named v<PREFIX>.<i>, printing 'ack <version>' after each.
python -m tests.stores.worker KIND DIRECTORY promote VERSION
    waits for the start signal, promotes VERSION of model 'race' to production and prints
    'promoted' or 'refused' (another process's promotion got there first).
python -m tests.stores.worker KIND DIRECTORY loop START
    writes until killed: registers v<n> of model 'crash' ('reg <n>'), saves the deployment
    document {'n': n} ('dep <n>') and every 5th version promotes it to production ('prod <n>').
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from nba_mcp_deploy.errors import ConflictError, InvalidInputError
from nba_mcp_deploy.registry.registry import ModelRegistry
from nba_mcp_deploy.registry.store import RegistryStore
from tests.stores.implementations import OPENERS


def ack(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def register(registry: ModelRegistry, prefix: str, count: int) -> None:
    ack("ready")
    sys.stdin.readline()
    for i in range(count):
        version = f"v{prefix}.{i}"
        registry.register_model(
            "shared",
            version,
            metrics={"accuracy": i / count},
            tags={"writer": prefix},
            actor=f"writer-{prefix}",
        )
        ack(f"ack {version}")


def loop(registry: ModelRegistry, store: RegistryStore, start: int) -> None:
    n = start
    while True:
        # ConflictError: the previous writer committed it just before it was killed.
        with contextlib.suppress(ConflictError):
            registry.register_model("crash", f"v{n}", description="x" * 300, metrics={"n": float(n)})
        ack(f"reg {n}")
        store.save_deployment("crash", {"n": n, "payload": ["y" * 50] * 20})
        ack(f"dep {n}")
        if n % 5 == 0:
            current = registry.get_model("crash", f"v{n}")
            if current.stage.value == "development":
                registry.promote_model("crash", f"v{n}", "staging")
                current = registry.get_model("crash", f"v{n}")
            if current.stage.value == "staging":
                registry.promote_model("crash", f"v{n}", "production")
            ack(f"prod {n}")
        n += 1


def promote(registry: ModelRegistry, version: str) -> None:
    ack("ready")
    sys.stdin.readline()
    try:
        registry.promote_model("race", version, "production", actor=f"process-{version}")
        ack("promoted")
    except (ConflictError, InvalidInputError):
        ack("refused")


def main(argv: list[str]) -> None:
    kind, directory, mode, *args = argv
    store = OPENERS[kind](Path(directory))
    registry = ModelRegistry(store)
    if mode == "register":
        register(registry, args[0], int(args[1]))
    elif mode == "promote":
        promote(registry, args[0])
    else:
        loop(registry, store, int(args[0]))


if __name__ == "__main__":
    main(sys.argv[1:])
