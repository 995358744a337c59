"""The application permissions a plan's changes need, checked against the token before the first write.

An apply that lacks one fails at once, naming it, instead of half-way with a 403 (SPEC §6). Each need
is Graph's least-privileged permission with the higher ones that also grant it (Graph docs: each
operation's permissions table; `Directory.ReadWrite.All` grants every write here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import assert_never

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

_ANY_WRITE = "Directory.ReadWrite.All"


@dataclass(frozen=True)
class Need:
    permission: str  # the least-privileged one, as the error names it
    also: tuple[str, ...] = ()  # higher permissions that grant it too
    why: str = ""
    directory_grants: bool = True  # whether Directory.ReadWrite.All grants it too

    def met_by(self, granted: frozenset[str]) -> bool:
        higher = {_ANY_WRITE} if self.directory_grants else set()
        return bool(granted & {self.permission, *higher, *self.also})


def needs(change: Change) -> list[Need]:
    match change:
        case Restore() if change.kind == "user":
            return [Need("User.DeleteRestore.All", ("User.ReadWrite.All",), "restore deleted users")]
        case Restore():
            return [Need("Group.ReadWrite.All", why="restore deleted groups")]
        case Invite():
            # Graph docs: invitation-post; the attributes after it are a user update.
            invite = Need("User.Invite.All", ("User.ReadWrite.All",), "invite guests")
            return [invite, Need("User.ReadWrite.All", why="update users")] if change.patch else [invite]
        case Create() if change.kind == "user":
            return [Need("User.ReadWrite.All", why="create users"), *_lifecycle(change.after)]
        case Create():
            role_assignable = [
                Need("RoleManagement.ReadWrite.Directory", why="create role-assignable groups")
            ]
            group = Need("Group.Create", ("Group.ReadWrite.All",), "create groups")
            return [group, *role_assignable] if change.after.get("isAssignableToRole") else [group]
        case Update() if change.kind == "user":
            enable_only = set(change.diff) == {"accountEnabled"}
            user = Need(
                "User.ReadWrite.All",
                ("User.EnableDisableAccount.All",) if enable_only else (),
                "update users",
            )
            revoke = Need("User.RevokeSessions.All", ("User.ReadWrite.All",), "revoke sign-in sessions")
            return [user, *_lifecycle(change.diff), *([revoke] if change.revoke_sessions else [])]
        case Update():
            return [Need("Group.ReadWrite.All", why="update groups")]
        case Remove(action="disable"):
            return [
                Need("User.EnableDisableAccount.All", ("User.ReadWrite.All",), "disable users"),
                Need("User.RevokeSessions.All", ("User.ReadWrite.All",), "revoke sign-in sessions"),
            ]
        case Remove() if change.kind == "user":
            return [Need("User.DeleteRestore.All", ("User.ReadWrite.All",), "delete users")]
        case Remove():
            return [Need("Group.ReadWrite.All", why="delete groups")]
        case ManagerChange():
            return [Need("User.ReadWrite.All", why="set managers")]
        case MembershipChange():
            return [Need("GroupMember.ReadWrite.All", ("Group.ReadWrite.All",), "change group members")]
        case OwnershipChange():
            return [Need("Group.ReadWrite.All", why="change group owners")]
        case LicenseChange():
            return [Need("LicenseAssignment.ReadWrite.All", why="assign licenses")]
        case RoleChange():
            return [Need("RoleManagement.ReadWrite.Directory", why="assign and remove directory roles")]
        case _:
            assert_never(change)


def _lifecycle(attributes: Mapping[str, object]) -> list[Need]:
    """employeeLeaveDateTime has a permission of its own, which no other user permission grants (Graph
    docs: resources/user; tutorial-lifecycle-workflows-set-employeeleavedatetime)."""
    if "employeeLeaveDateTime" not in attributes:
        return []
    return [
        Need("User-LifeCycleInfo.ReadWrite.All", why="write employeeLeaveDateTime", directory_grants=False)
    ]


def missing_permissions(plan: Plan, granted: frozenset[str]) -> list[str]:
    """`PERMISSION (to …, e.g. c0003)` for each permission the plan needs and the token lacks."""
    missing: dict[str, tuple[str, str]] = {}
    for change in plan.changes:
        for need in needs(change):
            if not need.met_by(granted):
                missing.setdefault(need.permission, (need.why, change.id))
    return [f"{permission} (to {why}, e.g. {cid})" for permission, (why, cid) in sorted(missing.items())]
