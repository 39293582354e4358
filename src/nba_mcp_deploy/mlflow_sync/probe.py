"""Is the MLflow tracking server answering? Asked before every batch of MLflow calls.

MLflow's HTTP client retries a refused connection seven times with exponential back-off
(minutes in all), and only environment variables change that. A two-second `GET /health` first
lets a relay see an outage at once and wait, and lets a deploy fail fast with a clear message.
Local tracking URIs (`sqlite:///...`, `file:...`) have no server to ask and always pass.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from nba_mcp_deploy.errors import UnavailableError

PROBE_TIMEOUT_SEC = 2.0


def is_remote(tracking_uri: str) -> bool:
    """Whether the tracking URI names a server (rather than a local database or directory)."""
    return tracking_uri.startswith(("http://", "https://"))


def check_tracking_server(tracking_uri: str, timeout: float = PROBE_TIMEOUT_SEC) -> None:
    """Return if the server answers (any HTTP answer below 500 counts); else UnavailableError."""
    if not is_remote(tracking_uri):
        return
    url = tracking_uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UnavailableError(f"the MLflow tracking server at {tracking_uri} does not answer ({reason})") from exc
    if status >= 500:
        raise UnavailableError(f"the MLflow tracking server at {tracking_uri} answers HTTP {status}")
