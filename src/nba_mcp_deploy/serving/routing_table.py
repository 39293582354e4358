"""`RoutingTable`: each served model's current routing snapshot, shared by the parts of serving.

The predict pipeline reads snapshots without locking (each is immutable). The control plane and
the replica follower replace them only with `lock` held, so changes are serialised and a reader
sees either the routing before a change or the one after it. `revisions` holds, per model, the
revision of the saved routing document the snapshot reflects: the next save is compare-and-set
against it.

Batcher workers belong to versions, so the table also starts and stops them when a model's
batching setting or its versions change.
"""

from __future__ import annotations

import threading

from nba_mcp_deploy.clock import Clock
from nba_mcp_deploy.errors import NotFoundError
from nba_mcp_deploy.serving.batching import BatchSettings, MicroBatcher
from nba_mcp_deploy.serving.deployment import ModelRouting, ServedVersion

# How long closing waits for a batcher to drain what it holds when serving shuts down.
CLOSE_TIMEOUT_SEC = 5.0


class RoutingTable:
    """Routing snapshots by model id; see the module docstring for who may change them and when."""

    def __init__(self, clock: Clock) -> None:
        self.lock = threading.RLock()
        self.revisions: dict[str, int] = {}
        self._routes: dict[str, ModelRouting] = {}
        self._clock = clock

    def get(self, model_id: str) -> ModelRouting | None:
        return self._routes.get(model_id)

    def require(self, model_id: str) -> ModelRouting:
        """The model's routing, or NotFoundError naming the deployed models."""
        routing = self._routes.get(model_id)
        if routing is None:
            raise NotFoundError(f"model {model_id!r} is not deployed; deployed models: {sorted(self._routes)}")
        return routing

    def put(self, routing: ModelRouting) -> None:
        """Swap in a new snapshot (with `lock` held)."""
        self._routes[routing.model_id] = routing

    def model_ids(self) -> list[str]:
        return sorted(self._routes)

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._routes

    # -- batchers -------------------------------------------------------------------------------

    def rebatch(self, routing: ModelRouting, settings: BatchSettings | None) -> None:
        """Give every version a new batcher (or none); old ones drain what they hold, then stop."""
        for served in routing.versions.values():
            old = served.batcher
            served.batcher = None if settings is None else self._batcher(served, settings)
            if old is not None:
                old.close(timeout=0)

    def ensure_batchers(self, routing: ModelRouting) -> None:
        """Give a batcher to each version without one when the model batches (a version just loaded)."""
        if routing.batching is None:
            return
        for served in routing.versions.values():
            if served.batcher is None:
                served.batcher = self._batcher(served, routing.batching)

    def close(self) -> None:
        """Stop every batcher, letting each finish what it holds."""
        with self.lock:
            batchers = [v.batcher for r in self._routes.values() for v in r.versions.values() if v.batcher]
        for batcher in batchers:
            batcher.close(timeout=CLOSE_TIMEOUT_SEC)

    def _batcher(self, served: ServedVersion, settings: BatchSettings) -> MicroBatcher:
        return MicroBatcher(served.model.infer, settings, clock=self._clock, name=f"{served.model_id}-{served.version}")
