"""Access control and audit, in the core (no `mcp` import): roles, the permission table, the
check every transport makes, bearer-token files and the audit log."""

from nba_mcp_deploy.access.audit import AuditEntry, AuditLog, summarise_arguments
from nba_mcp_deploy.access.permissions import (
    LOCAL_ADMIN,
    Caller,
    Permission,
    Role,
    acting_as,
    check_permission,
    current_caller,
    permission_required,
    require_permission,
)
from nba_mcp_deploy.access.policy import OPERATIONS, OperationPolicy, is_mutating, permission_for

__all__ = [
    "LOCAL_ADMIN",
    "OPERATIONS",
    "AuditEntry",
    "AuditLog",
    "Caller",
    "OperationPolicy",
    "Permission",
    "Role",
    "acting_as",
    "check_permission",
    "current_caller",
    "is_mutating",
    "permission_for",
    "permission_required",
    "require_permission",
    "summarise_arguments",
]
