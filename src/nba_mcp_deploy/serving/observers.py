"""Several prediction observers behind the one port the serving manager calls."""

from __future__ import annotations

from collections.abc import Sequence

from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.serving.ports import PredictionBatch, PredictionObserver

log = get_logger(__name__)


class FanOutObserver:
    """Hands each served request to every observer in order; one that raises never stops the rest."""

    def __init__(self, observers: Sequence[PredictionObserver]) -> None:
        self._observers = tuple(observers)
        self.failures = 0

    def observe(self, batch: PredictionBatch) -> None:
        for observer in self._observers:
            try:
                observer.observe(batch)
            except Exception:
                self.failures += 1
                if self.failures in (1, 10, 100) or self.failures % 1000 == 0:
                    log.warning(
                        "prediction observer failed", exc_info=True, extra={"observer": type(observer).__name__}
                    )
