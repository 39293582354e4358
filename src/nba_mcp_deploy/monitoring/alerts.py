"""Alerts: severities, kinds, a bounded thread-safe book with cool-down, and the notifier port.

A condition (model, version, kind, subject) raises WARNING when it crosses its threshold and
CRITICAL when it crosses twice that (or, for drift, when the whole dataset drifts). The same
alert repeated within the cool-down is not raised again: the stored alert counts the repeats
(`occurrences`, `last_seen`). When a condition that had alerted is evaluated again and is back
under its threshold, an INFO alert says so. Raised alerts also go to the optional notifier
(e.g. the webhook adapter), which must not block.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

from nba_mcp_deploy.clock import Clock, SystemClock
from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.logs import get_logger

_log = get_logger(__name__)

MAX_ALERTS = 1_000


class AlertSeverity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "critical": 2}[self.value]


class AlertKind(enum.StrEnum):
    FEATURE_DRIFT = "feature_drift"
    PREDICTION_DRIFT = "prediction_drift"
    ERROR_RATE = "error_rate"
    LATENCY = "latency"
    ACCURACY_DROP = "accuracy_drop"
    # A decorated operation failed (the Python API's `@handle_errors(notify=True)`).
    OPERATION_ERROR = "operation_error"


def parse_severity(value: Any, field: str = "severity") -> AlertSeverity | None:
    """None, a member, or its name in any case."""
    if value is None or isinstance(value, AlertSeverity):
        return value
    if isinstance(value, str) and value.strip().lower() in AlertSeverity.__members__.values():
        return AlertSeverity(value.strip().lower())
    raise InvalidInputError(field, value, "allowed: info, warning, critical")


@dataclass(frozen=True)
class Alert:
    """One raised alert; `occurrences` counts repeats suppressed by the cool-down."""

    alert_id: str
    model_id: str
    version: str | None
    kind: AlertKind
    severity: AlertSeverity
    subject: str  # what the alert is about: a method, a metric
    message: str
    value: float | None
    threshold: float | None
    timestamp: float
    last_seen: float
    occurrences: int = 1

    @property
    def alert_type(self) -> AlertKind:
        """`kind` under the seed's name."""
        return self.kind

    def text(self) -> str:
        """A one-line human summary (the webhook's Slack-compatible `text`)."""
        where = f"{self.model_id} {self.version}" if self.version else self.model_id
        return f"[{self.severity.value.upper()}] {where + ': ' if where else ''}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["kind"] = self.kind.value
        out["severity"] = self.severity.value
        return out


class AlertNotifier(Protocol):
    """Where raised alerts are pushed. Called under no lock; must return at once (queue the work)."""

    def notify(self, alert: Alert) -> None: ...

    def close(self) -> None:
        """Stop background delivery (queued alerts get a last chance)."""
        ...


ConditionKey = tuple[str, str | None, AlertKind, str]


class AlertBook:
    """The alerts of every model, with cool-down deduplication and a bounded history."""

    def __init__(
        self,
        *,
        cooldown_sec: float = 300.0,
        clock: Clock | None = None,
        notifier: AlertNotifier | None = None,
        max_alerts: int = MAX_ALERTS,
    ) -> None:
        self.cooldown_sec = cooldown_sec
        self._clock = clock or SystemClock()
        self._notifier = notifier
        self._max = max_alerts
        self._lock = threading.Lock()
        self._alerts: OrderedDict[str, Alert] = OrderedDict()
        self._last: dict[tuple[ConditionKey, AlertSeverity], str] = {}
        self._active: set[ConditionKey] = set()
        self._ids = itertools.count(1)

    def raise_alert(
        self,
        *,
        model_id: str,
        version: str | None,
        kind: AlertKind,
        severity: AlertSeverity,
        subject: str,
        message: str,
        value: float | None = None,
        threshold: float | None = None,
    ) -> Alert | None:
        """Record an alert; returns it, or None when the same alert was raised within the cool-down."""
        key: ConditionKey = (model_id, version, kind, subject)
        now = self._clock.now()
        with self._lock:
            if severity is not AlertSeverity.INFO:
                self._active.add(key)
            previous_id = self._last.get((key, severity))
            previous = self._alerts.get(previous_id) if previous_id else None
            if previous is not None and now - previous.timestamp < self.cooldown_sec:
                self._alerts[previous.alert_id] = dataclasses.replace(
                    previous, last_seen=now, occurrences=previous.occurrences + 1
                )
                return None
            alert = Alert(
                alert_id=f"alert-{next(self._ids)}",
                model_id=model_id,
                version=version,
                kind=kind,
                severity=severity,
                subject=subject,
                message=message,
                value=value,
                threshold=threshold,
                timestamp=now,
                last_seen=now,
            )
            self._alerts[alert.alert_id] = alert
            self._last[(key, severity)] = alert.alert_id
            while len(self._alerts) > self._max:
                self._alerts.popitem(last=False)
        self._push(alert)
        return alert

    def resolve(
        self, *, model_id: str, version: str | None, kind: AlertKind, subject: str, message: str
    ) -> Alert | None:
        """Raise an INFO alert if the condition had alerted and is now back to normal."""
        key: ConditionKey = (model_id, version, kind, subject)
        with self._lock:
            if key not in self._active:
                return None
            self._active.discard(key)
        return self.raise_alert(
            model_id=model_id,
            version=version,
            kind=kind,
            severity=AlertSeverity.INFO,
            subject=subject,
            message=message,
        )

    def _push(self, alert: Alert) -> None:
        if self._notifier is None:
            return
        try:
            self._notifier.notify(alert)
        except Exception:  # a notifier must never break monitoring
            _log.warning("alert notifier failed", exc_info=True)

    def open_alerts(self, model_id: str | None = None) -> list[Alert]:
        """Conditions still alerting (warning or critical, not resolved since): the newest alert of
        each, most severe first, then newest first."""
        with self._lock:
            alerts = list(self._alerts.values())
            active = set(self._active)
        seen: set[ConditionKey] = set()
        found: list[Alert] = []
        for alert in reversed(alerts):
            key: ConditionKey = (alert.model_id, alert.version, alert.kind, alert.subject)
            if alert.severity is AlertSeverity.INFO or key in seen or key not in active:
                continue
            if model_id is None or alert.model_id == model_id:
                seen.add(key)
                found.append(alert)
        return sorted(found, key=lambda a: (-a.severity.rank, -a.last_seen))

    def list(
        self,
        *,
        model_id: str | None = None,
        severity: AlertSeverity | str | None = None,
        since: float | None = None,
    ) -> list[Alert]:
        """Alerts newest first; `severity` keeps that severity and above, `since` is a timestamp."""
        minimum = parse_severity(severity)
        with self._lock:
            alerts = list(self._alerts.values())
        return [
            a
            for a in reversed(alerts)
            if (model_id is None or a.model_id == model_id)
            and (minimum is None or a.severity.rank >= minimum.rank)
            and (since is None or a.last_seen >= since)
        ]
