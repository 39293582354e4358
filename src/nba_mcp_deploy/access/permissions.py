"""Permissions, roles and callers: who may do what, checked the same way by every transport.

    Permission   READ < WRITE < ADMIN (what an operation needs; see `policy.py`)
    Role         viewer -> {READ}; operator -> {READ, WRITE}; admin -> {READ, WRITE, ADMIN}
    Caller       a name (a token's name, or "local") and a role

The MCP server checks every tool call with `require_permission` before the tool sees its
arguments; the Python API can do the same with the check or the `permission_required`
decorator, for the caller set by `acting_as` (a context variable, so concurrent requests on
one event loop or in worker threads each keep their own caller).
"""

from __future__ import annotations

import contextvars
import enum
import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from nba_mcp_deploy.errors import InvalidInputError, PermissionDeniedError


class Permission(enum.Enum):
    """What an operation needs. Each role holds a set of them."""

    READ = "READ"
    WRITE = "WRITE"
    ADMIN = "ADMIN"


class Role(enum.Enum):
    """The roles a caller can have, from least to most trusted."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @classmethod
    def parse(cls, value: Any, field: str = "role") -> Role:
        """The role named `value`, or InvalidInputError naming the field and the roles allowed."""
        if isinstance(value, Role):
            return value
        try:
            return cls(value.strip().lower() if isinstance(value, str) else value)
        except ValueError:
            raise InvalidInputError(field, value, f"allowed roles: {', '.join(ROLE_NAMES)}") from None

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self]

    def allows(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self]


ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.OPERATOR: frozenset({Permission.READ, Permission.WRITE}),
    Role.ADMIN: frozenset({Permission.READ, Permission.WRITE, Permission.ADMIN}),
}
ROLE_NAMES: tuple[str, ...] = tuple(role.value for role in Role)

LOCAL_CALLER_NAME = "local"


@dataclass(frozen=True)
class Caller:
    """Who is calling: a bearer token's name over HTTP, `local` over stdio and in the Python API."""

    name: str
    role: Role

    def __str__(self) -> str:
        return f"{self.name} ({self.role.value})"


# Outside `acting_as` the Python API acts as the local user with every permission: a script
# that imports the library already has the process's rights.
LOCAL_ADMIN = Caller(LOCAL_CALLER_NAME, Role.ADMIN)
_current: contextvars.ContextVar[Caller] = contextvars.ContextVar("nba_mcp_deploy_caller", default=LOCAL_ADMIN)


def current_caller() -> Caller:
    """The caller set by the innermost `acting_as` (the local admin outside any)."""
    return _current.get()


@contextmanager
def acting_as(caller: Caller) -> Iterator[Caller]:
    """Run the block as `caller`: `require_permission` and `permission_required` check its role."""
    token = _current.set(caller)
    try:
        yield caller
    finally:
        _current.reset(token)


def require_permission(
    operation: str, *, caller: Caller | None = None, arguments: Mapping[str, Any] | None = None
) -> Permission:
    """Return the permission `operation` needs if `caller` (default: the current one) holds it.

    Raises PermissionDeniedError naming the operation, the permission it needs (for these
    arguments) and the caller's role. An operation missing from the policy is refused: a new
    tool without an entry fails closed.
    """
    from nba_mcp_deploy.access.policy import permission_for

    needed = permission_for(operation, arguments or {})
    check_permission(needed, operation, caller=caller)
    return needed


def check_permission(needed: Permission, operation: str, *, caller: Caller | None = None) -> None:
    """Raise PermissionDeniedError unless `caller` (default: the current one) holds `needed`.

    `operation` only names what was refused in the message (the Python API's decorator checks a
    fixed permission for any function, the tools the policy's permission for each tool).
    """
    who = caller if caller is not None else current_caller()
    if not who.role.allows(needed):
        holders = [role.value for role in Role if role.allows(needed)]
        raise PermissionDeniedError(
            f"{operation} needs the {needed.value} permission; caller {who.name!r} has role "
            f"{who.role.value!r} ({', '.join(sorted(p.value for p in who.role.permissions))}); "
            f"roles with {needed.value}: {', '.join(holders)}"
        )


P = ParamSpec("P")
R = TypeVar("R")


def permission_required(operation: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function so that each call first checks `operation` for the current caller.

    The function's arguments, bound by name, are what an argument-dependent rule sees (e.g.
    `promote_model`'s target_stage), so the decorated Python API and the MCP tool agree.
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind_partial(*args, **kwargs)
            require_permission(operation, arguments=bound.arguments)
            return fn(*args, **kwargs)

        return checked

    return decorate
