"""`ReferenceFollower`: loads the reference data files another replica pointed a model at.

`set_reference_data` with a path, for a deployed model, records the location in the model's
routing document (`ModelServingManager.set_reference_location`). Each replica prepares reference
data in its own monitor, so when a routing document arrives from the store (at start, or from
the control sync) this follower loads every location it has not loaded yet. The files must be
reachable under the same data roots on every replica.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from nba_mcp_deploy.errors import DeployError
from nba_mcp_deploy.monitoring.service import MonitoringService
from nba_mcp_deploy.serving.routing_document import RoutingDocument

WHOLE_MODEL = "*"


class ReferenceFollower:
    """Remembers which location it loaded for each (model, version) so each is loaded once."""

    def __init__(self, monitoring: MonitoringService) -> None:
        self._monitoring = monitoring
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, str], dict[str, Any]] = {}

    def follow(self, model_id: str, document: Mapping[str, Any]) -> list[str]:
        """Load the document's reference locations that changed; returns one line per failure."""
        problems = []
        for key, location in sorted(RoutingDocument.from_json(document).references.items()):
            wanted = dict(location)
            with self._lock:
                if self._loaded.get((model_id, key)) == wanted:
                    continue
            try:
                self._monitoring.monitor(model_id).set_reference_data(
                    wanted["path"],
                    version=None if key == WHOLE_MODEL else key,
                    prediction_column=wanted.get("prediction_column"),
                    data_field="path",
                )
            except (DeployError, KeyError) as exc:
                problems.append(f"{model_id}: reference data {wanted.get('path')!r} did not load: {exc}")
                continue
            with self._lock:
                self._loaded[(model_id, key)] = wanted
        return problems
