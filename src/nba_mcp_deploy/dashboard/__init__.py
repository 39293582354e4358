"""The deployment dashboard's core (no `mcp`): one snapshot of serving, registry, monitoring and
experiments for people and agents, and a bounded history of each version's latency and errors.

    views.py      the JSON-ready dataclasses the dashboard shows (standard library only)
    snapshot.py   assemble(): pure, from what the services report to a DashboardSnapshot
    history.py    MetricsHistory (bounded sparkline points) and HealthSampler (its timer)
    summary.py    the snapshot as short text, for clients without MCP Apps

`server/dashboard/collect.py` reads the live services into a snapshot; the server delivers it
twice: the `show_dashboard` tool (an MCP App) and `GET /dashboard/data` behind the HTTP view.
"""

from nba_mcp_deploy.dashboard.views import DashboardSnapshot, SeriesPoint

__all__ = ["DashboardSnapshot", "SeriesPoint"]
