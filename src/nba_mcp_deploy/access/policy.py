"""The one table of every operation (MCP tool) with the permission it needs and whether it mutates.

A test fails when the server registers a tool that has no entry here, and the server refuses
a call to a tool without one, so nothing is reachable by accident. `mutates` decides which
calls the audit log records (refused calls are recorded too); a test checks it against the
tools' `readOnlyHint` annotations.

Decisions the issue leaves open:
- `promote_model` needs ADMIN when the target is production or `force` is set (taking the
  production version out of production needs force), WRITE otherwise (development <->
  staging, archiving a non-production version). Anything unexpected in those two arguments
  counts as ADMIN, so a value that validation would coerce cannot slip through as WRITE.
- `set_active_version` is WRITE, like the A/B split: an operator can already send all traffic
  to a version with weights [0, 1], so ADMIN here would protect nothing. Registry stage
  changes of production (promote to production, rollback) and destructive serving changes
  (retire, reset breaker) are ADMIN.
- `detect_drift` and `get_performance` are READ although they may raise alerts: they report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nba_mcp_deploy.access.permissions import Permission
from nba_mcp_deploy.errors import PermissionDeniedError

READ, WRITE, ADMIN = Permission.READ, Permission.WRITE, Permission.ADMIN

ArgumentRule = Callable[[Mapping[str, Any]], Permission]


@dataclass(frozen=True)
class OperationPolicy:
    """What one operation needs: a permission (or a rule over its arguments) and whether it mutates."""

    permission: Permission
    mutates: bool
    rule: ArgumentRule | None = None
    note: str = ""

    def needs(self, arguments: Mapping[str, Any]) -> Permission:
        return self.rule(arguments) if self.rule is not None else self.permission


_WRITE_STAGES = frozenset({"development", "staging", "archived"})


def _promotion(arguments: Mapping[str, Any]) -> Permission:
    """ADMIN for production or force; WRITE only for a plainly non-production, unforced move."""
    stage = arguments.get("target_stage")
    force = arguments.get("force", False)
    if isinstance(stage, str) and stage in _WRITE_STAGES and force in (False, None):
        return WRITE
    return ADMIN


def _read(note: str = "") -> OperationPolicy:
    return OperationPolicy(READ, mutates=False, note=note)


def _write(note: str = "") -> OperationPolicy:
    return OperationPolicy(WRITE, mutates=True, note=note)


def _admin(note: str = "", *, mutates: bool = True) -> OperationPolicy:
    return OperationPolicy(ADMIN, mutates=mutates, note=note)


OPERATIONS: Mapping[str, OperationPolicy] = {
    # serving
    "predict": _read(),
    "health_check": _read(),
    "list_deployments": _read(),
    "deploy_model": _write(),
    "setup_ab_test": _write(),
    "clear_ab_test": _write(),
    "setup_shadow": _write(),
    "clear_shadow": _write(),
    "set_active_version": _write(),
    "set_batching": _write(),
    "clear_batching": _write(),
    "retire_model": _admin(),
    "reset_circuit_breaker": _admin(),
    # registry
    "get_model": _read(),
    "search_models": _read(),
    "compare_models": _read(),
    "get_lineage": _read(),
    "registry_stats": _read(),
    "register_model": _write(),
    "promote_model": OperationPolicy(
        WRITE, mutates=True, rule=_promotion, note="ADMIN when target_stage is production or force is true"
    ),
    "rollback_model": _admin(),
    "sync_registry": _admin(),
    # monitoring
    "detect_drift": _read(),
    "get_performance": _read(),
    "get_alerts": _read(),
    "set_reference_data": _write(),
    "log_actuals": _write(),
    # experiments
    "get_ab_test_results": _read(),
    "canary_status": _read(),
    "start_canary": _admin(),
    "abort_canary": _admin(),
    # access
    "get_audit_log": _admin(mutates=False),
    # dashboard (it shows the audit entries only to callers with ADMIN)
    "show_dashboard": _read(),
}


def policy_for(operation: str) -> OperationPolicy:
    """The operation's entry; PermissionDeniedError for one without an entry (fail closed)."""
    policy = OPERATIONS.get(operation)
    if policy is None:
        raise PermissionDeniedError(
            f"{str(operation)[:100]!r} has no entry in the permission table (access/policy.py), so nobody may "
            "call it; add one"
        )
    return policy


def permission_for(operation: str, arguments: Mapping[str, Any]) -> Permission:
    """The permission `operation` needs when called with these (not yet validated) arguments."""
    return policy_for(operation).needs(arguments)


def is_mutating(operation: str) -> bool:
    """Whether calls to `operation` change state (and so are audited); unknown ones count as mutating."""
    policy = OPERATIONS.get(operation)
    return policy is None or policy.mutates


def describe(operation: str) -> str:
    """One line for the tool's description: the permission it needs."""
    policy = OPERATIONS.get(operation)
    if policy is None:
        return ""
    extra = f" ({policy.note})" if policy.note else ""
    return f"Needs the {policy.permission.value} permission{extra}."
