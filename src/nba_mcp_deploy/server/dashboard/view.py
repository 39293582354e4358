"""The dashboard view as one self-contained HTML document (its CSS and JavaScript inlined).

The sources live beside this module in `assets/` (HTML template, CSS, JS) and ship in the wheel.
The same document serves both delivery paths; only `data-mode` differs: `app` (an MCP App in a
host's sandboxed iframe, fed through the host bridge) or `http` (the `/dashboard` page, polling
`/dashboard/data`). It loads nothing from the network: no CDN, no fonts, no images.

For HTTP, `page_headers` gives a Content-Security-Policy that allows exactly the inlined script
and style (by SHA-256 hash) and connections to this origin, so even a hostile value that slipped
into the page could run nothing and send the token nowhere.
"""

import base64
import functools
import hashlib
from importlib.resources import files
from typing import Literal

Mode = Literal["app", "http"]
VIEW_URI = "ui://nba-mcp-deploy/dashboard.html"


def _asset(name: str) -> str:
    return files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


@functools.cache
def _parts() -> tuple[str, str, str]:
    return _asset("dashboard.html"), _asset("dashboard.css"), _asset("dashboard.js")


@functools.cache
def render_view(mode: Mode) -> str:
    """The whole document for `mode`, CSS and JS inlined."""
    template, css, js = _parts()
    return template.replace("{{MODE}}", mode).replace("{{CSS}}", css).replace("{{JS}}", js)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


@functools.cache
def page_headers() -> dict[str, str]:
    """Security headers for the HTTP page: a CSP pinned to the inlined code, no caching, no referrer."""
    _, css, js = _parts()
    policy = "; ".join(
        [
            "default-src 'none'",
            f"script-src {_sha256(js)}",
            f"style-src {_sha256(css)}",
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
