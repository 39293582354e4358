"""Prometheus metrics read at scrape time from what the server already counts.

Nothing on the request path changes: tool calls come from the operation metrics every tool
call records, serving figures from the manager's health report (requests, errors, rejected
calls, latency quantiles, breaker state), read only once the services have started.
"""

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from nba_mcp_deploy.host import ServiceHost

if TYPE_CHECKING:
    from nba_mcp_deploy.serving.results import HealthReport

BREAKER_STATES = {"closed": 0.0, "half_open": 1.0, "open": 2.0}
STATUSES = {"healthy": 0.0, "degraded": 1.0, "unhealthy": 2.0}


class ResponseCounts:
    """HTTP responses by route and status code, counted by the app's middleware."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], int] = {}

    def add(self, route: str, status: int) -> None:
        with self._lock:
            key = (route, str(status))
            self._counts[key] = self._counts.get(key, 0) + 1

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "nba_mcp_http_responses", "HTTP responses by route and status code", labels=["route", "status"]
        )
        with self._lock:
            counts = sorted(self._counts.items())
        for labels, count in counts:
            family.add_metric(list(labels), count)
        yield family


class ServiceCollector:
    """A custom collector over the host's operation metrics and the serving manager's health."""

    def __init__(self, host: ServiceHost) -> None:
        self._host = host

    def describe(self) -> list[Metric]:
        return []  # the families depend on what is deployed; scraped fresh each time

    def collect(self) -> Iterator[Metric]:
        ready = self._host.is_ready()
        yield GaugeMetricFamily("nba_mcp_services_ready", "1 once the services have started", value=float(ready))
        yield from self._tool_calls()
        if ready:
            try:
                manager = self._host.services(timeout=0).manager
            except Exception:  # start-up failed: /readyz says why; metrics just stay empty
                return
            yield from self._serving(manager.health_check())

    def _tool_calls(self) -> Iterator[Metric]:
        calls = CounterMetricFamily("nba_mcp_tool_calls", "MCP tool calls", labels=["tool"])
        errors = CounterMetricFamily("nba_mcp_tool_errors", "MCP tool calls that failed", labels=["tool"])
        mean = GaugeMetricFamily("nba_mcp_tool_call_mean_seconds", "mean duration of a tool call", labels=["tool"])
        for name, stats in self._host.operations.snapshot().items():
            calls.add_metric([name], stats.count)
            errors.add_metric([name], stats.errors)
            mean.add_metric([name], stats.mean_ms / 1000)
        yield from (calls, errors, mean)

    def _serving(self, report: "HealthReport") -> Iterator[Metric]:
        labels = ["model_id", "version"]
        status = GaugeMetricFamily("nba_mcp_model_status", "0 healthy, 1 degraded, 2 unhealthy", labels=["model_id"])
        ready = GaugeMetricFamily("nba_mcp_model_ready", "1 when the model can serve", labels=["model_id"])
        requests = CounterMetricFamily("nba_mcp_predict_requests", "predict requests served", labels=labels)
        errors = CounterMetricFamily("nba_mcp_predict_errors", "predict requests that failed", labels=labels)
        rejected = CounterMetricFamily("nba_mcp_predict_rejected", "requests refused by an open breaker", labels=labels)
        latency = GaugeMetricFamily(
            "nba_mcp_predict_latency_seconds", "latency quantiles over the recent window", labels=[*labels, "quantile"]
        )
        breaker = GaugeMetricFamily("nba_mcp_breaker_state", "0 closed, 1 half-open, 2 open", labels=labels)
        batch_calls = CounterMetricFamily("nba_mcp_batch_model_calls", "model calls made by the batcher", labels=labels)
        batched = CounterMetricFamily("nba_mcp_batched_requests", "requests answered by batched calls", labels=labels)
        for model in report.models:
            status.add_metric([model.model_id], STATUSES.get(str(model.status), 2.0))
            ready.add_metric([model.model_id], float(model.ready))
            for version in model.versions:
                key = [model.model_id, version.version]
                requests.add_metric(key, version.metrics.requests)
                errors.add_metric(key, version.metrics.errors)
                rejected.add_metric(key, version.metrics.rejected)
                breaker.add_metric(key, BREAKER_STATES.get(str(version.breaker.state), 2.0))
                if version.batching is not None:
                    batch_calls.add_metric(key, version.batching.model_calls)
                    batched.add_metric(key, version.batching.requests)
                summary = version.metrics.latency
                for quantile, value in (("0.5", summary.p50_ms), ("0.95", summary.p95_ms), ("0.99", summary.p99_ms)):
                    if value is not None:
                        latency.add_metric([*key, quantile], value / 1000)
        yield from (status, ready, requests, errors, rejected, latency, breaker, batch_calls, batched)
