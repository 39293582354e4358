"""Hooks for other layers to hear about control changes (deploy, switch, A/B, shadow, batching, undeploy).

The serving manager tells each `ControlListener` after a change is published, in the order the
changes happened (they are serialised by the manager's control lock). Listeners run inside
that lock, so they must be quick (e.g. append to a queue) and must not call back into the
manager. Predictions never reach them. Restoring saved deployments at start-up is not a
change and is not reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


class ControlKind(StrEnum):
    """What kind of control change happened."""

    DEPLOYED = "deployed"
    ACTIVATED = "activated"
    UNDEPLOYED = "retired"  # the string outbox payloads already hold; it names an undeploy
    AB_TEST_SET = "ab_test_set"
    AB_TEST_CLEARED = "ab_test_cleared"
    SHADOW_SET = "shadow_set"
    SHADOW_CLEARED = "shadow_cleared"
    REFERENCE_SET = "reference_set"  # where the model's reference data is (every replica loads it)
    BATCHING_SET = "batching_set"
    BATCHING_CLEARED = "batching_cleared"


@dataclass(frozen=True)
class ControlChange:
    """One control change: the model, what happened, the version it concerns (if one), when,
    and the routing as it is now (`ModelRouting.to_document()`)."""

    model_id: str
    kind: ControlKind
    version: str | None
    at: float
    routing: Mapping[str, Any]


class ControlListener(Protocol):
    """Told about every control change after it is published."""

    def on_control_change(self, change: ControlChange) -> None:
        """Called with the manager's control lock held: be quick; an exception is logged, not raised."""
        ...
