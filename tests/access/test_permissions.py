"""Roles, the permission check and the Python API's decorator, on real registry operations."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
import pytest

from nba_mcp_deploy.access import (
    LOCAL_ADMIN,
    OPERATIONS,
    Caller,
    Permission,
    Role,
    acting_as,
    current_caller,
    permission_for,
    permission_required,
    require_permission,
)
from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from nba_mcp_deploy.registry.registry import ModelRegistry
from nba_mcp_deploy.stores.sqlite import SqliteRegistryStore

pytestmark = pytest.mark.anyio

VIEWER = Caller("grafana", Role.VIEWER)
OPERATOR = Caller("ci", Role.OPERATOR)
ADMIN = Caller("alice", Role.ADMIN)


def test_roles_hold_growing_sets_of_permissions() -> None:
    assert Role.VIEWER.permissions == {Permission.READ}
    assert Role.OPERATOR.permissions == {Permission.READ, Permission.WRITE}
    assert Role.ADMIN.permissions == set(Permission)
    assert Role.parse(" Operator ") is Role.OPERATOR
    with pytest.raises(InvalidInputError, match="allowed roles: viewer, operator, admin"):
        Role.parse("root")


@pytest.mark.parametrize(
    ("operation", "needed"),
    [
        ("predict", Permission.READ),
        ("health_check", Permission.READ),
        ("search_models", Permission.READ),
        ("detect_drift", Permission.READ),
        ("get_ab_test_results", Permission.READ),
        ("canary_status", Permission.READ),
        ("deploy_model", Permission.WRITE),
        ("register_model", Permission.WRITE),
        ("setup_ab_test", Permission.WRITE),
        ("setup_shadow", Permission.WRITE),
        ("set_reference_data", Permission.WRITE),
        ("log_actuals", Permission.WRITE),
        ("rollback_model", Permission.ADMIN),
        ("retire_model", Permission.ADMIN),
        ("reset_circuit_breaker", Permission.ADMIN),
        ("start_canary", Permission.ADMIN),
        ("abort_canary", Permission.ADMIN),
        ("sync_registry", Permission.ADMIN),
        ("get_audit_log", Permission.ADMIN),
    ],
)
def test_the_issue_groups(operation: str, needed: Permission) -> None:
    assert permission_for(operation, {}) is needed


@pytest.mark.parametrize(
    ("arguments", "needed"),
    [
        ({"target_stage": "staging"}, Permission.WRITE),
        ({"target_stage": "development"}, Permission.WRITE),
        ({"target_stage": "archived", "force": False}, Permission.WRITE),
        ({"target_stage": "production"}, Permission.ADMIN),
        ({"target_stage": "archived", "force": True}, Permission.ADMIN),
        # Values validation would coerce (or refuse) never pass as WRITE.
        ({"target_stage": "staging", "force": "true"}, Permission.ADMIN),
        ({"target_stage": "staging", "force": 1}, Permission.ADMIN),
        ({"target_stage": "Production"}, Permission.ADMIN),
        ({"target_stage": ["staging"]}, Permission.ADMIN),
        ({}, Permission.ADMIN),
    ],
)
def test_promotion_to_production_or_by_force_needs_admin(arguments: dict[str, object], needed: Permission) -> None:
    assert permission_for("promote_model", arguments) is needed


def test_a_refusal_names_the_operation_the_permission_and_the_role() -> None:
    with pytest.raises(PermissionDeniedError) as refused:
        require_permission("deploy_model", caller=VIEWER)
    message = str(refused.value)
    assert "deploy_model needs the WRITE permission" in message
    assert "'grafana' has role 'viewer'" in message and "roles with WRITE: operator, admin" in message
    assert require_permission("deploy_model", caller=OPERATOR) is Permission.WRITE
    with pytest.raises(PermissionDeniedError, match="promote_model needs the ADMIN permission"):
        require_permission("promote_model", caller=OPERATOR, arguments={"target_stage": "production"})


def test_an_operation_without_an_entry_is_refused_even_for_admin() -> None:
    with pytest.raises(PermissionDeniedError, match="no entry in the permission table"):
        require_permission("drop_everything", caller=ADMIN)


def test_every_entry_has_a_permission_and_reads_never_mutate() -> None:
    for name, policy in OPERATIONS.items():
        assert isinstance(policy.permission, Permission), name
        if name.startswith(("get_", "list_", "search_", "compare_", "detect_")) or name.endswith("_status"):
            assert not policy.mutates, name


def test_acting_as_sets_the_caller_for_the_block_only() -> None:
    assert current_caller() == LOCAL_ADMIN
    with acting_as(VIEWER):
        assert current_caller() == VIEWER
        with acting_as(ADMIN):
            assert current_caller() == ADMIN
        assert current_caller() == VIEWER
    assert current_caller() == LOCAL_ADMIN


def test_callers_do_not_leak_between_threads() -> None:
    seen: dict[str, Caller] = {}
    barrier = threading.Barrier(2)

    def work(caller: Caller) -> None:
        with acting_as(caller):
            barrier.wait()
            seen[caller.name] = current_caller()

    threads = [threading.Thread(target=work, args=(c,)) for c in (VIEWER, ADMIN)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"grafana": VIEWER, "alice": ADMIN}


async def test_callers_do_not_leak_between_tasks_and_follow_calls_into_worker_threads() -> None:
    seen: dict[str, Caller] = {}

    async def work(caller: Caller) -> None:
        with acting_as(caller):
            await anyio.sleep(0.01)
            seen[caller.name] = await anyio.to_thread.run_sync(current_caller)

    async with anyio.create_task_group() as group:
        group.start_soon(work, VIEWER)
        group.start_soon(work, OPERATOR)
    assert seen == {"grafana": VIEWER, "ci": OPERATOR}


def test_the_decorator_guards_real_registry_operations(tmp_path: Path) -> None:
    store = SqliteRegistryStore(tmp_path / "registry", sync_every_commit=False)
    registry = ModelRegistry(store, clock=ManualClock())
    register = permission_required("register_model")(registry.register_model)
    promote = permission_required("promote_model")(registry.promote_model)
    try:
        with acting_as(VIEWER), pytest.raises(PermissionDeniedError, match="register_model needs the WRITE"):
            register("win_prob", "v1.0")
        with pytest.raises(NotFoundError):
            registry.get_model("win_prob")  # nothing happened
        with acting_as(OPERATOR):
            register("win_prob", "v1.0", stage="staging")
            with pytest.raises(PermissionDeniedError, match="promote_model needs the ADMIN"):
                promote("win_prob", "v1.0", "production")
            assert registry.get_model("win_prob").stage.value == "staging"
        with acting_as(ADMIN):
            assert promote("win_prob", "v1.0", target_stage="production").version.stage.value == "production"
        assert register.__name__ == "register_model" and register.__doc__ == registry.register_model.__doc__
    finally:
        store.close()
