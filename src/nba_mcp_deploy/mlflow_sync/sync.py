"""`MlflowSync`: MLflow attached to the services — mirrors, outbox relay, metrics flush, health,
and the two-way `sync_registry`.

    registry ──RegistryMirror──┐
    serving ───ServingMirror───┼──> outbox (registry store) ──OutboxRelay──Delivery──> MLflow
    monitoring ─MonitoringMirror┤                                 (probe first; back-off)
    MetricsFlusher (every 30 s)─┘
    sync_registry: import (sync_from_mlflow) <── MLflow;  export (queue_missing) ──> outbox

`enable_mlflow` turns on runs and metrics and reading training runs; `enable_mlflow_registry`
also mirrors the registry and allows `sync_registry`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

from nba_mcp_deploy.clock import Clock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import ConflictError, InvalidInputError
from nba_mcp_deploy.identifiers import validate_model_id
from nba_mcp_deploy.mlflow_sync.delivery import Delivery
from nba_mcp_deploy.mlflow_sync.exporter import ExportReport, queue_missing
from nba_mcp_deploy.mlflow_sync.flusher import DEFAULT_FLUSH_INTERVAL_SEC, MetricsFlusher
from nba_mcp_deploy.mlflow_sync.gateway import MlflowGateway
from nba_mcp_deploy.mlflow_sync.importer import ImportedVersion, ImportReport, SyncConflict, sync_from_mlflow
from nba_mcp_deploy.mlflow_sync.mirrors import MonitoringMirror, Outbox, RegistryMirror, ServingMirror
from nba_mcp_deploy.mlflow_sync.relay import OutboxRelay, RelaySettings, RelayState
from nba_mcp_deploy.mlflow_sync.runs import MlflowTrainingRuns
from nba_mcp_deploy.monitoring.service import MonitoringService
from nba_mcp_deploy.registry.outbox import OutboxStore
from nba_mcp_deploy.registry.registry import ModelRegistry
from nba_mcp_deploy.serving.manager import ModelServingManager
from nba_mcp_deploy.serving.results import DependencyHealth, HealthStatus

# An MLflow call taking longer than this makes the mirror degraded (it is probably retrying).
SLOW_CALL_SEC = 30.0


class SyncDirection(StrEnum):
    BOTH = "both"
    IMPORT = "import"  # MLflow -> registry
    EXPORT = "export"  # registry -> MLflow


@dataclass(frozen=True)
class MirrorStatus:
    """Where mirroring to MLflow stands."""

    tracking_uri: str
    experiment: str
    registry_sync: bool
    state: str
    backlog: int
    parked: int
    unqueued: int
    unavailable_since: float | None
    busy_since: float | None
    last_error: str | None
    last_delivered_at: float | None
    delivered: int


@dataclass(frozen=True)
class SyncReport:
    """What `sync_registry` did in each direction, and the mirror's state afterwards."""

    imported: list[ImportedVersion]
    conflicts: list[SyncConflict]
    unchanged: int
    queued_registrations: int
    queued_stage_changes: int
    in_step: int
    drained: bool
    status: MirrorStatus
    notes: list[str] = field(default_factory=list)


class MlflowSync:
    """Everything MLflow, wired to the services' store, registry, manager and monitoring."""

    def __init__(
        self,
        config: DeploymentConfig,
        *,
        store: OutboxStore,
        registry: ModelRegistry,
        manager: ModelServingManager,
        monitoring: MonitoringService,
        clock: Clock,
        flush_interval_sec: float = DEFAULT_FLUSH_INTERVAL_SEC,
        relay_settings: RelaySettings | None = None,
    ) -> None:
        if not config.mlflow_tracking_uri:
            raise ConflictError("MLflow is enabled without a tracking URI: set MLFLOW_TRACKING_URI")
        self.config = config
        self._store = store
        self._registry = registry
        self._clock = clock
        self.gateway = MlflowGateway(config.mlflow_tracking_uri, experiment_name=config.mlflow_experiment_name)
        self.registry_sync = config.enable_mlflow_registry
        delivery = Delivery(
            self.gateway, model_roots=config.trusted_model_roots, registry=self.registry_sync, runs=True
        )
        self._settings = relay_settings or RelaySettings()
        self.relay = OutboxRelay(store, delivery, self.gateway.check, clock, self._settings)
        self.outbox = Outbox(store, clock, self.relay.wake)
        self.flusher = MetricsFlusher(manager, self.outbox, interval_sec=flush_interval_sec)
        if self.registry_sync:
            registry.add_listener(RegistryMirror(self.outbox))
        registry.use_runs(MlflowTrainingRuns(self.gateway))
        manager.add_control_listener(ServingMirror(self.outbox, config))
        monitoring.add_report_listener(MonitoringMirror(self.outbox, manager))
        manager.add_health_source(self)

    def start(self) -> None:
        """Start delivering (and replay whatever an earlier run left in the outbox)."""
        self.relay.start()
        self.flusher.start()

    def drain(self, timeout: float = 30.0) -> bool:
        """Flush serving metrics now and wait until the outbox is delivered; True if it was."""
        self.flusher.flush()
        return self.relay.drain(timeout)

    def close(self) -> None:
        """Queue a last metrics flush and stop; what is not delivered stays in the outbox."""
        self.flusher.close()
        self.relay.close()

    # -- reporting -----------------------------------------------------------------------------------

    def status(self) -> MirrorStatus:
        relay = self.relay.status()
        counts = self._store.outbox_counts()
        return MirrorStatus(
            tracking_uri=self.gateway.tracking_uri,
            experiment=self.gateway.experiment_name,
            registry_sync=self.registry_sync,
            state=relay.state.value,
            backlog=counts.pending,
            parked=counts.parked,
            unqueued=self.outbox.unqueued,
            unavailable_since=relay.unavailable_since,
            busy_since=relay.busy_since,
            last_error=relay.last_error,
            last_delivered_at=relay.last_delivered_at,
            delivered=relay.delivered,
        )

    def health(self) -> DependencyHealth:
        """`HealthSource`: degraded while MLflow does not answer or something could not reach it."""
        try:
            status = self.status()
        except Exception as exc:  # the store failed: say so rather than fail the health check
            return DependencyHealth("mlflow", HealthStatus.DEGRADED, [f"outbox unreadable: {exc}"])
        reasons = []
        if status.state == RelayState.UNAVAILABLE.value:
            since = status.unavailable_since or self._clock.now()
            reasons.append(
                f"not answering at {status.tracking_uri} for {self._clock.now() - since:.0f} s; "
                f"{status.backlog} changes wait in the outbox and will be replayed in order ({status.last_error})"
            )
        busy_for = 0.0 if status.busy_since is None else self._clock.now() - status.busy_since
        if busy_for > SLOW_CALL_SEC:
            reasons.append(
                f"a call to MLflow at {status.tracking_uri} has been waiting for {busy_for:.0f} s (MLflow retries "
                f"a lost connection for minutes); {status.backlog} changes wait in the outbox"
            )
        if status.parked:
            reasons.append(
                f"{status.parked} changes were refused {self._settings.max_attempts} times and are parked "
                f"(last error: {status.last_error}); sync_registry with retry_failed=true offers them again"
            )
        if status.unqueued:
            reasons.append(
                f"{status.unqueued} changes could not be queued ({self.outbox.last_unqueued_error}); "
                "sync_registry queues again what the registry holds"
            )
        return DependencyHealth(
            "mlflow",
            HealthStatus.DEGRADED if reasons else HealthStatus.HEALTHY,
            reasons,
            backlog=status.backlog,
            failed=status.parked,
        )

    # -- sync_registry ------------------------------------------------------------------------------

    def sync_registry(
        self,
        *,
        direction: SyncDirection | str = SyncDirection.BOTH,
        model_id: str | None = None,
        wait_sec: float = 10.0,
        retry_failed: bool = False,
    ) -> SyncReport:
        """Import from MLflow what the registry lacks, queue for MLflow what it lacks, and wait up to
        `wait_sec` for the outbox to be delivered. Conflicts are reported, never overwritten."""
        if not self.registry_sync:
            raise ConflictError(
                "MLflow registry sync is off: set ENABLE_MLFLOW_REGISTRY=true (with MLFLOW_TRACKING_URI)"
            )
        direction = _direction(direction)
        model_id = None if model_id is None else validate_model_id(model_id)
        self.gateway.check()  # an outage fails now, not after wait_sec
        deadline = time.monotonic() + wait_sec
        notes: list[str] = []
        if retry_failed:
            notes.append(f"{self._store.outbox_unpark()} parked changes offered again")
        drained = self.relay.drain(max(0.0, deadline - time.monotonic()))
        imported = ImportReport()
        if direction is not SyncDirection.EXPORT:
            imported = sync_from_mlflow(self._registry, self.gateway, model_id)
        exported = ExportReport(0, 0, 0)
        if direction is not SyncDirection.IMPORT:
            if drained:
                exported = queue_missing(self._registry, self.gateway, self.outbox, self._clock, model_id)
            else:
                notes.append("the outbox still holds changes on their way, so the registry was not compared yet")
        drained = self.relay.drain(max(0.0, deadline - time.monotonic()))
        return SyncReport(
            imported=imported.imported,
            conflicts=imported.conflicts,
            unchanged=imported.unchanged,
            queued_registrations=exported.registrations,
            queued_stage_changes=exported.stage_changes,
            in_step=exported.in_step,
            drained=drained,
            status=self.status(),
            notes=notes,
        )


def _direction(value: SyncDirection | str) -> SyncDirection:
    try:
        return SyncDirection(value)
    except ValueError:
        allowed = ", ".join(d.value for d in SyncDirection)
        raise InvalidInputError("direction", value, f"allowed: {allowed}") from None
