"""What replicas share through the registry store besides the catalogue: control state and counters.

- `DeploymentRecord`: a model's routing document (the serving layer owns its shape) with a
  `revision` that grows by one on every save. A replica saves with the revision it last applied
  (compare-and-set), so two replicas changing one model at once cannot silently overwrite each
  other; the others poll the revisions (or are woken by PostgreSQL NOTIFY) and apply what changed.
- `TrafficRow`: one replica instance's counters for one served version, cumulative since that
  instance started and replaced on every flush (a few per replica, never one per request).
  Adding up the rows of every instance gives the fleet's traffic; a dead instance's last row
  still counts, so what it served before its last flush is never lost.
- `CanaryRecord`: a running canary's state, and which replica evaluates it (`owner`, with a
  heartbeat: when it stops, another replica takes the canary over).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# A revision of 0 means "no document": the expected revision of a first save.
NO_REVISION = 0


@dataclass(frozen=True)
class DeploymentRecord:
    """A saved routing document, its revision and who saved it when."""

    model_id: str
    document: Mapping[str, Any]
    revision: int
    updated_at: float
    updated_by: str


@dataclass(frozen=True)
class TrafficRow:
    """One replica instance's cumulative counters for one version (see `replicas/traffic.py`)."""

    instance: str
    replica_id: str
    model_id: str
    version: str
    counters: Mapping[str, Any]
    updated_at: float


@dataclass(frozen=True)
class CanaryRecord:
    """A canary's state document, the replica that evaluates it and when it last said so."""

    model_id: str
    document: Mapping[str, Any]
    owner: str
    heartbeat_at: float
    revision: int
