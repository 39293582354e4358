"""Where `@handle_errors(notify=True)` sends a failure: the process's book of operation-error
alerts, and the alert webhook when one is configured.

The webhook is the one monitoring alerts go to (`NBA_MCP_ALERT_WEBHOOK_URL`, read through
`environment.py` at each failure, so a script may set it late); the book is the same `AlertBook`
as monitoring's, so a function failing in a loop notifies once per cool-down
(`NBA_MCP_ALERT_COOLDOWN_SEC`), its repeats counted on the alert. A refusal of ours (a
`DeployError`: bad input, conflict, ...) is a WARNING, anything else CRITICAL. Notifying never
raises: the failure being reported is what the caller must see.
"""

from __future__ import annotations

import atexit
import threading
from typing import TYPE_CHECKING

from nba_mcp_deploy.api.environment import read_environment
from nba_mcp_deploy.errors import DeployError
from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.monitoring.alerts import Alert, AlertBook, AlertKind, AlertSeverity

if TYPE_CHECKING:
    from nba_mcp_deploy.notify.webhook import WebhookNotifier

log = get_logger(__name__)


class OperationErrorAlerts:
    """The process's operation-error alerts; a new book (and notifier) when the webhook URL changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._book = AlertBook()
        self._url: str | None = None
        self._notifier: WebhookNotifier | None = None

    def raise_for(self, operation: str, error: BaseException, model_id: str | None, version: str | None) -> None:
        """Record (and send) one failure of `operation`."""
        try:
            book = self._current_book()
            severity = AlertSeverity.WARNING if isinstance(error, DeployError) else AlertSeverity.CRITICAL
            book.raise_alert(
                model_id=model_id or "",
                version=version,
                kind=AlertKind.OPERATION_ERROR,
                severity=severity,
                subject=operation,
                message=f"{operation} failed: {type(error).__name__}: {error}",
            )
        except Exception:
            log.exception("could not raise the alert for a failed operation", extra={"operation": operation})

    def list(self) -> list[Alert]:
        """The alerts of the current book, newest first."""
        with self._lock:
            book = self._book
        return book.list()

    def close(self) -> None:
        """Send what is queued for the webhook (at interpreter exit)."""
        with self._lock:
            notifier, self._notifier = self._notifier, None
        if notifier is not None:
            notifier.close()

    def _current_book(self) -> AlertBook:
        config = read_environment().config
        with self._lock:
            if config.alert_webhook_url == self._url:
                return self._book
            previous = self._notifier
            self._notifier = None
            if config.alert_webhook_url is not None:
                from nba_mcp_deploy.notify.webhook import WebhookNotifier

                self._notifier = WebhookNotifier(config.alert_webhook_url)
            self._url = config.alert_webhook_url
            self._book = AlertBook(cooldown_sec=config.alert_cooldown_sec, notifier=self._notifier)
            book = self._book
        if previous is not None:
            previous.close()
        return book


_PROCESS_ALERTS = OperationErrorAlerts()
atexit.register(_PROCESS_ALERTS.close)


def operation_error_alerts() -> OperationErrorAlerts:
    """The process's operation-error alerts (what `@handle_errors(notify=True)` raises)."""
    return _PROCESS_ALERTS
