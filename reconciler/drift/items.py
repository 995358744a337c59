"""The plan's changes read as differences: what git says, what the tenant has (pure).

Each change of the plan that would put the tenant back becomes one or more drift items: one per
attribute for an update, one per edge otherwise. Nothing here reads Graph or the clock.
"""

from __future__ import annotations

from typing import Any, assert_never

from reconciler.drift.model import DriftItem
from reconciler.live import LiveState
from reconciler.plan.describe import attribute_diff
from reconciler.plan.model import (
    Change,
    Create,
    Invite,
    LicenseChange,
    ManagerChange,
    MembershipChange,
    OwnershipChange,
    Plan,
    Remove,
    Restore,
    RoleChange,
    Update,
)
from reconciler.plan.planfile import change_to_dict

PRESENT, ABSENT = "present", "absent"
_NAMES = ("key", "group", "member", "owner", "user", "sku", "role", "principal", "directoryScopeId")


def drift_items(plan: Plan, live: LiveState, known_ids: dict[tuple[str, str], str]) -> list[DriftItem]:
    """The differences behind `plan`, numbered `d0001…` in plan order.

    `known_ids` gives the last known Graph id of objects the tenant no longer has (from the cache or a
    pinned `id:`), so that an audit record of their deletion can be found.
    """
    items: list[DriftItem] = []
    for change in plan.changes:
        for attribute, git, tenant in _differences(change, live):
            items.append(
                DriftItem(
                    id=f"d{len(items) + 1:04d}",
                    kind=change.kind,
                    names={k: str(v) for k, v in change_to_dict(change).items() if k in _NAMES},
                    attribute=attribute,
                    git=git,
                    tenant=tenant,
                    fix=change.id,
                    target_ids=_targets(change, known_ids),
                    added_to_scope=isinstance(change, Remove),
                    deleted_in_tenant=isinstance(change, Create | Invite | Restore),
                )
            )
    return items


def _differences(change: Change, live: LiveState) -> list[tuple[str | None, Any, Any]]:
    """(attribute or None, git, tenant) for each difference the change would remove."""
    match change:
        case Create() | Invite() | Restore():
            return [(None, PRESENT, ABSENT)]
        case Update():
            return [(name, d["after"], d["before"]) for name, d in attribute_diff(change).items()]
        case Remove():
            return [(None, ABSENT, PRESENT)]
        case ManagerChange(action="set_manager"):
            user = live.users.get(change.user.id or "")
            current = live.users.get(user.manager_id or "") if user else None
            return [("manager", change.manager.key, current.key if current else None)]
        case ManagerChange():
            return [("manager", None, change.manager.key)]
        case MembershipChange() | OwnershipChange():
            added = change.action in ("add_member", "add_owner")
            return [(None, PRESENT, ABSENT) if added else (None, ABSENT, PRESENT)]
        case LicenseChange(action="update_license"):
            return [(name, d["after"], d["before"]) for name, d in attribute_diff(change).items()]
        case LicenseChange():
            assigned = change.action == "assign_license"
            return [(None, PRESENT, ABSENT) if assigned else (None, ABSENT, PRESENT)]
        case RoleChange():
            assigned = change.action == "assign_role"
            return [(None, PRESENT, ABSENT) if assigned else (None, ABSENT, PRESENT)]
        case _:
            assert_never(change)


def _targets(change: Change, known_ids: dict[tuple[str, str], str]) -> tuple[str, ...]:
    """The ids an audit record about this difference names among its targets."""
    ids: list[str] = []
    for ref in (change.subject, change.other):
        if ref is None:
            continue
        found = ref.id or known_ids.get((ref.kind, ref.key))
        if found:
            ids.append(found)
    if isinstance(change, RoleChange):
        ids.append(change.role.id)
    return tuple(ids)
