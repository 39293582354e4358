"""The model registry: catalogue, lifecycle, promotion, rollback, search, comparison, lineage.

Pure core: imports neither `mcp` nor `mlflow`; persistence goes through the store's role ports
(`store.py`; `nba_mcp_deploy.stores.sqlite.SqliteRegistryStore` is the embedded store).
"""

from nba_mcp_deploy.registry.compare import Comparison, HyperparameterDiff, MetricDiff
from nba_mcp_deploy.registry.lineage import Descendant, Lineage, LineageRelation, RelationKind
from nba_mcp_deploy.registry.listeners import StageListener
from nba_mcp_deploy.registry.outbox import OutboxCounts, OutboxEntry, OutboxStore
from nba_mcp_deploy.registry.records import (
    ChangeReason,
    ModelSummary,
    ModelVersion,
    RegistryStatistics,
    StageChange,
    StageChangeResult,
    VersionRef,
)
from nba_mcp_deploy.registry.registry import ModelRegistry
from nba_mcp_deploy.registry.runs import TrainingRun, TrainingRuns
from nba_mcp_deploy.registry.search import MetricCondition, Operator, SearchPage, SearchQuery, SortKey
from nba_mcp_deploy.registry.shared_state import ControlStateStore
from nba_mcp_deploy.registry.stages import TRANSITIONS, Stage, allowed_targets
from nba_mcp_deploy.registry.store import RegistryStore, VersionStore
from nba_mcp_deploy.registry.workflows import (
    CheckedPromotion,
    GateResult,
    MetricGate,
    VersionComparison,
    VersionWorkflows,
)

__all__ = [
    "TRANSITIONS",
    "ChangeReason",
    "CheckedPromotion",
    "Comparison",
    "ControlStateStore",
    "Descendant",
    "GateResult",
    "HyperparameterDiff",
    "Lineage",
    "LineageRelation",
    "MetricCondition",
    "MetricDiff",
    "MetricGate",
    "ModelRegistry",
    "ModelSummary",
    "ModelVersion",
    "Operator",
    "OutboxCounts",
    "OutboxEntry",
    "OutboxStore",
    "RegistryStatistics",
    "RegistryStore",
    "RelationKind",
    "SearchPage",
    "SearchQuery",
    "SortKey",
    "Stage",
    "StageChange",
    "StageChangeResult",
    "StageListener",
    "TrainingRun",
    "TrainingRuns",
    "VersionComparison",
    "VersionRef",
    "VersionStore",
    "VersionWorkflows",
    "allowed_targets",
]
