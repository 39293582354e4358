"""The webhook notifier against a real HTTP receiver on loopback (http.server in a thread)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.monitoring import AlertBook, AlertKind, AlertSeverity, MonitoringService
from nba_mcp_deploy.notify.webhook import WebhookNotifier, notifier_from_config


class Receiver:
    """A loopback HTTP server that records bodies; answers with the queued status codes, then 200."""

    def __init__(self, delay_sec: float = 0.0) -> None:
        self.bodies: list[dict] = []
        self.statuses: list[int] = []
        self.delay_sec = delay_sec
        self.arrived = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                if outer.delay_sec:
                    time.sleep(outer.delay_sec)
                status = outer.statuses.pop(0) if outer.statuses else 200
                if status == 200:
                    outer.bodies.append(body)
                    outer.arrived.set()
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _raise(book: AlertBook, subject: str = "error_rate") -> None:
    book.raise_alert(
        model_id="win_probability",
        version="v2",
        kind=AlertKind.ERROR_RATE,
        severity=AlertSeverity.CRITICAL,
        subject=subject,
        message="error rate is 0.3",
        value=0.3,
        threshold=0.05,
    )


def _wait(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_alert_arrives_as_slack_compatible_json(receiver: Receiver) -> None:
    notifier = WebhookNotifier(receiver.url, rng=np.random.default_rng(0))
    book = AlertBook(clock=ManualClock(), notifier=notifier)
    _raise(book)
    assert receiver.arrived.wait(5)
    [body] = receiver.bodies
    assert body["text"] == "[CRITICAL] win_probability v2: error rate is 0.3"
    assert body["alert"]["kind"] == "error_rate"
    assert body["alert"]["severity"] == "critical"
    notifier.close()
    assert notifier.sent == 1
    assert notifier.failed == 0


def test_server_errors_are_retried(receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    notifier = WebhookNotifier(receiver.url, backoff_sec=0.01, max_retries=3, rng=np.random.default_rng(1))
    _raise(AlertBook(clock=ManualClock(), notifier=notifier))
    assert receiver.arrived.wait(5)
    assert _wait(lambda: notifier.sent == 1)
    assert notifier.attempts == 3
    notifier.close()


def test_client_errors_are_not_retried(receiver: Receiver) -> None:
    receiver.statuses = [404]
    notifier = WebhookNotifier(receiver.url, backoff_sec=0.01, rng=np.random.default_rng(2))
    _raise(AlertBook(clock=ManualClock(), notifier=notifier))
    assert _wait(lambda: notifier.failed == 1)
    assert notifier.attempts == 1
    assert receiver.bodies == []
    notifier.close()


def test_dead_receiver_does_not_block_predictions() -> None:
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    notifier = WebhookNotifier(
        f"http://127.0.0.1:{port}/hook",
        backoff_sec=0.05,
        max_retries=2,
        timeout_sec=0.5,
        rng=np.random.default_rng(3),
    )
    service = MonitoringService(
        DeploymentConfig(error_rate_threshold=0.01, alert_cooldown_sec=0.0),
        clock=ManualClock(),
        notifier=notifier,
    )
    monitor = service.monitor("m")
    for i in range(50):
        monitor.log_prediction(f"p{i}", {"x": 1.0}, 0.5, error="boom")
    monitor.calculate_performance()
    start = time.perf_counter()
    for i in range(20_000):
        monitor.log_prediction(f"q{i}", {"x": 1.0}, 0.5)
    assert time.perf_counter() - start < 2.0
    assert _wait(lambda: notifier.failed == 1)
    assert notifier.attempts == 3
    notifier.close()


def test_slow_receiver_fills_the_bounded_queue_without_blocking() -> None:
    slow = Receiver(delay_sec=0.5)
    try:
        notifier = WebhookNotifier(slow.url, queue_size=3, timeout_sec=5.0, rng=np.random.default_rng(4))
        book = AlertBook(cooldown_sec=0.0, clock=ManualClock(), notifier=notifier)
        start = time.perf_counter()
        for i in range(20):
            _raise(book, subject=f"s{i}")
        assert time.perf_counter() - start < 0.2  # notify only enqueues
        assert notifier.dropped >= 20 - 3 - 1  # one in flight, three queued
        notifier.close(timeout_sec=0.1)
    finally:
        slow.close()


def test_config_switch() -> None:
    assert notifier_from_config(DeploymentConfig()) is None
    notifier = notifier_from_config(DeploymentConfig(alert_webhook_url="http://127.0.0.1:9/x"))
    assert isinstance(notifier, WebhookNotifier)
    with pytest.raises(InvalidInputError):
        WebhookNotifier("file:///etc/passwd")
