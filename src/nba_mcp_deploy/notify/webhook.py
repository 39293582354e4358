"""Alerts POSTed to a webhook (Slack incoming webhooks and most chat tools accept the body).

Body: `{"text": "<one line>", "alert": {...every field...}}` as JSON. `notify` only puts the alert
on a bounded queue and returns; one background thread sends, retrying failures (network errors,
HTTP 429 and 5xx) with jittered exponential back-off. A full queue drops the alert and counts it,
so a slow or dead receiver can never block predictions or grow memory. Off unless a URL is
configured (`NBA_MCP_ALERT_WEBHOOK_URL`).
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import urllib.error
import urllib.request
from typing import Protocol

import numpy as np

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.monitoring.alerts import Alert

_log = get_logger(__name__)


class PermanentSendError(Exception):
    """The receiver refused the alert in a way a retry will not fix (HTTP 4xx other than 429)."""


class HttpSender(Protocol):
    """Sends one JSON body; raises on failure (PermanentSendError when retrying is pointless)."""

    def __call__(self, url: str, body: bytes, timeout_sec: float) -> None: ...


def urllib_post(url: str, body: bytes, timeout_sec: float) -> None:
    """POST `body` as JSON with the standard library; raise on a non-2xx answer or a network error."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "nba-mcp-deploy"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_sec) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500 and exc.code != 429:
            raise PermanentSendError(f"HTTP {exc.code}") from None
        raise


def alert_body(alert: Alert) -> bytes:
    """The JSON body for one alert."""
    return json.dumps({"text": alert.text(), "alert": alert.to_dict()}).encode("utf-8")


_STOP = object()


class WebhookNotifier:
    """An `AlertNotifier` that sends in the background with retries and a bounded queue."""

    def __init__(
        self,
        url: str,
        *,
        timeout_sec: float = 5.0,
        max_retries: int = 3,
        backoff_sec: float = 0.5,
        queue_size: int = 100,
        rng: np.random.Generator | None = None,
        sender: HttpSender = urllib_post,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InvalidInputError("alert_webhook_url", url, "must be an http:// or https:// URL")
        self.url = url
        self.timeout_sec = timeout_sec
        self.max_retries = max_retries
        self.backoff_sec = backoff_sec
        self._send = sender
        self._rng = rng if rng is not None else np.random.default_rng()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        self.attempts = 0

    def notify(self, alert: Alert) -> None:
        """Queue the alert and return at once; drop it (and count it) if the queue is full."""
        if self._stop.is_set():
            self.dropped += 1
            return
        self._ensure_worker()
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            self.dropped += 1

    def _ensure_worker(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="alert-webhook", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP or not isinstance(item, Alert):
                return
            self._deliver(item)

    def _deliver(self, alert: Alert) -> None:
        body = alert_body(alert)
        for attempt in range(self.max_retries + 1):
            if self._stop.is_set() and attempt > 0:
                break
            self.attempts += 1
            try:
                self._send(self.url, body, self.timeout_sec)
                self.sent += 1
                return
            except PermanentSendError as exc:
                _log.warning("alert webhook refused the alert", extra={"error": str(exc)})
                break
            except Exception as exc:  # network errors, timeouts, 5xx: retry
                if attempt == self.max_retries:
                    _log.warning("alert webhook failed", extra={"error": str(exc), "attempts": attempt + 1})
                    break
                delay = self.backoff_sec * (2**attempt) * (0.5 + float(self._rng.random()))
                if self._stop.wait(delay):
                    break
        self.failed += 1

    def close(self, timeout_sec: float = 5.0) -> None:
        """Stop the worker: alerts still queued are sent first (without retries) for `timeout_sec`."""
        self._stop.set()
        thread = self._thread
        if thread is None:
            return
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=timeout_sec)
        thread.join(timeout_sec)


def notifier_from_config(config: DeploymentConfig, *, rng: np.random.Generator | None = None) -> WebhookNotifier | None:
    """The webhook notifier if `alert_webhook_url` is set, else None (alerts stay in memory)."""
    if config.alert_webhook_url is None:
        return None
    return WebhookNotifier(config.alert_webhook_url, rng=rng)
