"""The `nba-mcp-deploy` command (placeholder until the serving issue lands)."""

from __future__ import annotations


def main() -> int:
    return 0
