"""`ControlPlane`: the one owner of routing changes on this replica.

Every control action (deploy, activate, undeploy, A/B split, shadow, reference data, batching)
builds a new immutable `ModelRouting` under the routing table's lock and hands it to `_publish`,
which saves it as one routing document revision (compare-and-set), swaps it in and tells the
control listeners. So each action is exactly one saved revision, and a reader (a predict, another
replica following the store) sees either the routing before it or the one after it.

Loading a model happens outside the lock, so predictions keep flowing while a version loads and
warms up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from nba_mcp_deploy.clock import Clock
from nba_mcp_deploy.errors import ConflictError, InvalidInputError
from nba_mcp_deploy.identifiers import validate_model_id, validate_version
from nba_mcp_deploy.logs import get_logger, request_context
from nba_mcp_deploy.registry.shared_state import ControlStateStore
from nba_mcp_deploy.serving.batching import BatchSettings
from nba_mcp_deploy.serving.control import ControlChange, ControlKind, ControlListener
from nba_mcp_deploy.serving.deployment import ModelRouting, empty_routing
from nba_mcp_deploy.serving.reporting import deployment_info
from nba_mcp_deploy.serving.results import DeploymentInfo
from nba_mcp_deploy.serving.routing import TrafficSplit, make_split
from nba_mcp_deploy.serving.routing_table import RoutingTable
from nba_mcp_deploy.serving.shadow import ShadowConfig
from nba_mcp_deploy.serving.version_loader import VersionLoader

log = get_logger(__name__)


class SplitOnActivation(StrEnum):
    """What activating a version does to the model's A/B split, in the same saved revision."""

    KEEP = "keep"  # the split goes on deciding traffic until it is cleared
    CLEAR = "clear"  # every request goes to the newly active version
    # Ends a split that already sends every request to the version being activated (a finished
    # canary, a ramp-up done by hand): it has no traffic left to decide. Any other split goes on.
    CLEAR_IF_SETTLED = "clear_if_settled"


class ControlPlane:
    """Changes routing, one saved revision per action; see the module docstring."""

    def __init__(
        self,
        table: RoutingTable,
        versions: VersionLoader,
        clock: Clock,
        *,
        state_sink: ControlStateStore | None = None,
        replica_id: str = "",
    ) -> None:
        self._table = table
        self._versions = versions
        self._clock = clock
        self._state_sink = state_sink
        self._replica_id = replica_id
        self._loading: set[tuple[str, str]] = set()
        self._listeners: tuple[ControlListener, ...] = ()

    def add_control_listener(self, listener: ControlListener) -> None:
        """Tell `listener` about every later control change (see serving/control.py)."""
        with self._table.lock:
            self._listeners = (*self._listeners, listener)

    # -- versions --------------------------------------------------------------------------

    def deploy_model(
        self,
        model_id: str,
        version: str,
        model_instance: Any = None,
        model_uri: str | None = None,
        set_active: bool = True,
        *,
        feature_names: Sequence[str] | None = None,
        warmup_input: npt.NDArray[np.float64] | None = None,
    ) -> DeploymentInfo:
        """Load, warm up and add a version; make it active if `set_active` (or if none is).

        A version is only added once it has loaded and answered a warm-up call. If either
        fails, nothing changes (the previous active version keeps serving) and the error says why.
        """
        validate_model_id(model_id)
        validate_version(version)
        if (model_instance is None) == (model_uri is None):
            raise InvalidInputError(
                "model_uri", model_uri, "give exactly one of model_uri and model_instance (Python API only)"
            )
        key = (model_id, version)
        table = self._table
        with table.lock:
            routing = table.get(model_id)
            if key in self._loading:
                raise ConflictError(f"{model_id} {version} is already being deployed")
            if routing is not None and version in routing.versions:
                raise ConflictError(
                    f"{model_id} {version} is already deployed "
                    f"(from {routing.versions[version].model_uri or 'memory'}); "
                    "deploy under a new version, or undeploy it first"
                )
            self._loading.add(key)
        try:
            with request_context(model_id=model_id, version=version):
                served = self._versions.load(
                    model_id,
                    version,
                    model_instance=model_instance,
                    model_uri=model_uri,
                    feature_names=feature_names,
                    warmup_input=warmup_input,
                )
                with table.lock:
                    routing = table.get(model_id) or empty_routing(model_id)
                    routing = routing.with_changes(versions={**routing.versions, version: served})
                    if set_active or routing.active is None:
                        routing = _activate(routing, version)
                    self._publish(routing, ControlKind.DEPLOYED, version)
                    table.ensure_batchers(routing)  # after the save: a refused deploy starts no worker
                log.info("deployed", extra={"load_ms": round(served.load_ms, 1), "active": routing.active})
                return deployment_info(routing)
        finally:
            with table.lock:
                self._loading.discard(key)

    def set_active_version(
        self, model_id: str, version: str, *, split: SplitOnActivation = SplitOnActivation.KEEP
    ) -> DeploymentInfo:
        """Send default traffic to `version` (blue-green switch); the old one stays for rollback.

        `split` says whether the A/B split ends with it: a promotion that also ends the split is
        one saved revision, so no replica ever serves the new active version beside a stale split.
        """
        with self._table.lock:
            routing = self._table.require(model_id)
            routing.require(version)
            routing = _activate(routing, version)
            if split is SplitOnActivation.CLEAR or (
                split is SplitOnActivation.CLEAR_IF_SETTLED and _settled_on(routing.split, version)
            ):
                routing = routing.with_changes(split=None)
            self._publish(routing, ControlKind.ACTIVATED, version)
            return deployment_info(routing)

    def undeploy(self, model_id: str, version: str) -> DeploymentInfo:
        """Unload a version that no traffic depends on (the registry keeps its record and stage)."""
        with self._table.lock:
            routing = self._table.require(model_id)
            routing.require(version)
            if len(routing.versions) == 1:
                raise ConflictError(
                    f"{version} is the only deployed version of {model_id}; deploy another before undeploying it"
                )
            if version == routing.active:
                others = [v for v in routing.sorted_versions() if v != version]
                raise ConflictError(
                    f"{version} is the active version of {model_id}; call set_active_version with one of {others} first"
                )
            if routing.split is not None and version in routing.split.versions:
                raise ConflictError(f"{version} is part of the A/B test of {model_id}; clear or change the test first")
            shadow = routing.shadow
            unloaded = routing.versions[version].batcher
            routing = routing.with_changes(
                versions={k: v for k, v in routing.versions.items() if k != version},
                previous_active=tuple(v for v in routing.previous_active if v != version),
                shadow=None if shadow is not None and shadow.version == version else shadow,
            )
            self._publish(routing, ControlKind.UNDEPLOYED, version)
            if unloaded is not None:
                unloaded.close(timeout=0)  # drains what is queued, on its own thread
            return deployment_info(routing)

    def reset_circuit_breaker(self, model_id: str, version: str) -> DeploymentInfo:
        """Close a version's breaker now (after the cause is fixed); the breaker is this
        replica's own, so nothing is saved."""
        routing = self._table.require(model_id)
        routing.require(version).breaker.reset()
        return deployment_info(routing)

    # -- traffic ---------------------------------------------------------------------------

    def setup_ab_test(
        self, model_id: str, versions: Sequence[str], weights: Sequence[float], sticky: bool = False
    ) -> DeploymentInfo:
        """Split traffic by weight (canary = a small weight raised in steps); replaces any split."""
        with self._table.lock:
            routing = self._table.require(model_id)
            split = make_split(versions, weights, sticky=sticky)
            missing = [v for v in split.versions if v not in routing.versions]
            if missing:
                raise InvalidInputError(
                    "versions",
                    list(versions),
                    f"not deployed: {missing}; deployed: {routing.sorted_versions()}",
                )
            routing = routing.with_changes(split=split)
            self._publish(routing, ControlKind.AB_TEST_SET)
            return deployment_info(routing)

    def clear_ab_test(self, model_id: str) -> DeploymentInfo:
        """Send all traffic back to the active version."""
        with self._table.lock:
            routing = self._table.require(model_id).with_changes(split=None)
            self._publish(routing, ControlKind.AB_TEST_CLEARED)
            return deployment_info(routing)

    def setup_shadow(self, model_id: str, version: str, fraction: float = 1.0) -> DeploymentInfo:
        """Mirror `fraction` of live requests to `version`; its answers are only compared, never returned."""
        with self._table.lock:
            routing = self._table.require(model_id)
            routing.require(version)
            if not isinstance(fraction, int | float) or isinstance(fraction, bool) or not 0 < fraction <= 1:
                raise InvalidInputError("fraction", fraction, "must be a number in (0, 1]")
            if version in routing.live_versions() and routing.split is None:
                raise InvalidInputError(
                    "version", version, f"it is the active version of {model_id}; shadow a standby version"
                )
            routing = routing.with_changes(shadow=ShadowConfig(version, float(fraction)))
            self._publish(routing, ControlKind.SHADOW_SET, version)
            return deployment_info(routing)

    def clear_shadow(self, model_id: str) -> DeploymentInfo:
        with self._table.lock:
            routing = self._table.require(model_id).with_changes(shadow=None)
            self._publish(routing, ControlKind.SHADOW_CLEARED)
            return deployment_info(routing)

    # -- settings every replica shares -----------------------------------------------------

    def set_reference_location(self, model_id: str, version: str | None, location: Mapping[str, Any] | None) -> None:
        """Record where the reference data of a deployed model (or one version) is, so every replica
        loads the same file (None forgets it); the monitor itself holds the prepared data."""
        with self._table.lock:
            routing = self._table.require(model_id)
            references = dict(routing.references)
            key = version or "*"
            if location is None:
                references.pop(key, None)
            else:
                references[key] = dict(location)
            self._publish(
                routing.with_changes(references=MappingProxyType(references)), ControlKind.REFERENCE_SET, version
            )

    def set_batching(self, model_id: str, max_batch_size: int, max_wait_ms: float) -> DeploymentInfo:
        """Gather concurrent requests for each version of the model into one model call: at most
        `max_batch_size` rows per call, no request waiting more than `max_wait_ms` for others.

        Replaces any earlier setting; versions deployed later batch too. Requests with more rows
        than `max_batch_size` call the model on their own.
        """
        return self._change_batching(model_id, BatchSettings(max_batch_size, max_wait_ms), ControlKind.BATCHING_SET)

    def clear_batching(self, model_id: str) -> DeploymentInfo:
        """Each request calls the model on its own again (the default)."""
        return self._change_batching(model_id, None, ControlKind.BATCHING_CLEARED)

    def _change_batching(self, model_id: str, settings: BatchSettings | None, kind: ControlKind) -> DeploymentInfo:
        with self._table.lock:
            routing = self._table.require(model_id).with_changes(batching=settings)
            self._publish(routing, kind)
            self._table.rebatch(routing, settings)  # after the save: a refused change leaves the batchers as they were
            return deployment_info(routing)

    # -- the one way a change takes effect -------------------------------------------------

    def _publish(self, routing: ModelRouting, kind: ControlKind, version: str | None = None) -> None:
        """Persist the new snapshot, swap it in and tell the control listeners what `kind` of
        change it was (called with the table's lock held).

        The save is compare-and-set against the revision this replica follows: if another
        replica saved this model's routing meanwhile, ConflictError, and nothing changes here
        (the other replica's routing arrives through the control sync; the caller tries again).
        """
        model_id = routing.model_id
        table = self._table
        document = routing.to_document() if self._state_sink is not None or self._listeners else None
        if self._state_sink is not None and document is not None:
            table.revisions[model_id] = self._state_sink.save_deployment(
                model_id,
                document,
                expected_revision=table.revisions.get(model_id),
                updated_by=self._replica_id,
                updated_at=self._clock.now(),
            )
        table.put(routing)
        if document is None:
            return
        change = ControlChange(model_id, kind, version, self._clock.now(), document)
        for listener in self._listeners:
            try:
                listener.on_control_change(change)
            except Exception:  # a listener must never undo or block a control change
                log.exception("control listener failed", extra={"listener": type(listener).__name__})


def _settled_on(split: TrafficSplit | None, version: str) -> bool:
    """Whether `split` sends every request to `version`."""
    if split is None or version not in split.versions:
        return False
    return all(w == 0 for v, w in zip(split.versions, split.weights, strict=True) if v != version)


def _activate(routing: ModelRouting, version: str) -> ModelRouting:
    """`routing` with `version` active; the version it replaces heads the previous actives, and a
    shadow of `version` ends (it now serves live traffic)."""
    if routing.active == version:
        return routing
    previous = routing.previous_active
    if routing.active is not None:
        previous = (routing.active, *(v for v in previous if v not in (routing.active, version)))
    else:
        previous = tuple(v for v in previous if v != version)
    shadow = routing.shadow if routing.shadow is None or routing.shadow.version != version else None
    return routing.with_changes(active=version, previous_active=previous, shadow=shadow)
