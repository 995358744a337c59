"""The plan: changes in the order they are applied, what makes it unsafe, and what is held (SPEC §4).

A change is one of a closed family of small frozen records over typed references to directory objects.
Each knows its action, its kind, the object it writes to (`subject`) and the other end of an edge
(`other`) once; ordering, safety, targeting, description, journaling and the Graph operations ask it,
and `mypy --strict` with `assert_never` proves that each of them handles every variant. The plan JSON
(`planfile`) is the one place that flattens them into Graph-style fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from reconciler.desired.model import Invitation

Action = Literal[
    "create",
    "update",
    "delete",
    "disable",
    "set_manager",
    "clear_manager",
    "add_member",
    "remove_member",
    "add_owner",
    "remove_owner",
    "assign_license",
    "update_license",
    "remove_license",
    "assign_role",
    "remove_role",
    "restore",
]
Kind = Literal["user", "group", "membership", "owner", "manager", "license", "role"]
ObjectKind = Literal["user", "group"]

# SPEC §4: create user · create group · update user · update group · set/clear manager · add member ·
# add owner · assign/update license · assign role · remove member · remove owner · remove license ·
# remove role · disable user · delete user · delete group. Restores come first, so that the updates and
# edges after them find the object.
ORDER: tuple[tuple[Action, Kind], ...] = (
    ("restore", "user"),
    ("restore", "group"),
    ("create", "user"),
    ("create", "group"),
    ("update", "user"),
    ("update", "group"),
    ("set_manager", "manager"),
    ("clear_manager", "manager"),
    ("add_member", "membership"),
    ("add_owner", "owner"),
    ("assign_license", "license"),
    ("update_license", "license"),
    ("assign_role", "role"),
    ("remove_member", "membership"),
    ("remove_owner", "owner"),
    ("remove_license", "license"),
    ("remove_role", "role"),
    ("disable", "user"),
    ("delete", "user"),
    ("delete", "group"),
)


@dataclass(frozen=True)
class ObjectRef:
    """A user (by lower-cased UPN) or group (by lower-cased mailNickname), with its Graph id when it
    exists live; an object this plan creates has no id until apply learns it."""

    kind: ObjectKind
    key: str
    id: str | None = None

    @property
    def label(self) -> str:
        """How a plan names the object at the other end of an edge: a UPN, or `group:NICK`."""
        return self.key if self.kind == "user" else f"group:{self.key}"


@dataclass(frozen=True, kw_only=True)
class _Numbered:
    """What every change has: its id in the plan (`c0001`…) and the creates it waits for."""

    id: str = ""
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Create(_Numbered):
    """A new user or group with the attributes sent (`after`). `gone_id` is the pinned id of a
    security group missing from the tenant and from deletedItems: Graph deletes security groups
    permanently, so it cannot be restored and the new group gets a new id."""

    subject: ObjectRef
    after: Mapping[str, Any]
    gone_id: str | None = None
    action: ClassVar[Literal["create"]] = "create"

    @property
    def kind(self) -> ObjectKind:
        return self.subject.kind

    @property
    def other(self) -> None:
        return None


@dataclass(frozen=True)
class Invite(_Numbered):
    """A new guest: `POST /invitations` (never `POST /users`), then the other declared attributes
    (`after`) written to the user Graph made. The guest's key is its invited address until it is pinned;
    its userPrincipalName is the one Graph assigns (`…#EXT#@…`)."""

    subject: ObjectRef
    invitation: Invitation
    after: Mapping[str, Any]
    action: ClassVar[Literal["create"]] = "create"

    @property
    def kind(self) -> Literal["user"]:
        return "user"

    @property
    def patch(self) -> dict[str, Any]:
        """The attributes the invitation cannot carry (it takes the displayName and makes a Guest)."""
        return {k: v for k, v in self.after.items() if k not in ("displayName", "userType")}

    @property
    def other(self) -> None:
        return None


@dataclass(frozen=True)
class Restore(_Numbered):
    """A declared user or Microsoft 365 group found in `directory/deletedItems` (by its pinned id or its
    key): restored with its id, instead of created anew. Graph brings back what it kept with the object
    (a user's memberships and licenses, a group's members and owners); updates follow as declared."""

    subject: ObjectRef  # its id is the deleted object's, which the restore keeps
    deleted_at: str = ""  # deletedDateTime, for the reader
    action: ClassVar[Literal["restore"]] = "restore"

    @property
    def kind(self) -> ObjectKind:
        return self.subject.kind

    @property
    def other(self) -> None:
        return None


@dataclass(frozen=True)
class Update(_Numbered):
    """Attributes of a user or group: `{attr: {"before": …, "after": …}}`. Disabling a user this way
    (accountEnabled false) also revokes their sign-in sessions (SPEC §5)."""

    subject: ObjectRef
    diff: Mapping[str, Mapping[str, Any]]
    revoke_sessions: bool = False
    action: ClassVar[Literal["update"]] = "update"

    @property
    def kind(self) -> ObjectKind:
        return self.subject.kind

    @property
    def other(self) -> None:
        return None


@dataclass(frozen=True)
class Remove(_Numbered):
    """An undeclared object in an authoritative scope: a user disabled (sessions revoked) or deleted,
    a group deleted. A deleted user or Microsoft 365 group stays restorable in `directory/deletedItems`
    for 30 days, unless `purge` deletes it permanently there too (`removal.users: purge`); a security
    group is always deleted permanently (Graph keeps none)."""

    action: Literal["disable", "delete"]
    subject: ObjectRef
    purge: bool = False
    restorable: bool = False  # a delete Graph keeps in deletedItems for 30 days

    @property
    def kind(self) -> ObjectKind:
        return self.subject.kind

    @property
    def other(self) -> None:
        return None

    @property
    def revoke_sessions(self) -> bool:
        return self.action == "disable"


@dataclass(frozen=True)
class ManagerChange(_Numbered):
    """A user's manager set to `manager`, or cleared (`manager` is then the one it had)."""

    action: Literal["set_manager", "clear_manager"]
    user: ObjectRef
    manager: ObjectRef
    kind: ClassVar[Literal["manager"]] = "manager"

    @property
    def subject(self) -> ObjectRef:
        return self.user

    @property
    def other(self) -> ObjectRef:
        return self.manager


@dataclass(frozen=True)
class MembershipChange(_Numbered):
    """A user or nested group added to or removed from a group's members."""

    action: Literal["add_member", "remove_member"]
    group: ObjectRef
    member: ObjectRef
    kind: ClassVar[Literal["membership"]] = "membership"

    @property
    def subject(self) -> ObjectRef:
        return self.group

    @property
    def other(self) -> ObjectRef:
        return self.member


@dataclass(frozen=True)
class OwnershipChange(_Numbered):
    """A user added to or removed from a group's owners."""

    action: Literal["add_owner", "remove_owner"]
    group: ObjectRef
    owner: ObjectRef
    kind: ClassVar[Literal["owner"]] = "owner"

    @property
    def subject(self) -> ObjectRef:
        return self.group

    @property
    def other(self) -> ObjectRef:
        return self.owner


@dataclass(frozen=True)
class LicenseChange(_Numbered):
    """A direct license of a user, or a group-based license of a group, assigned, updated (other
    disabled plans) or removed. `sku` is the skuPartNumber; plans are names, with their ids beside."""

    action: Literal["assign_license", "update_license", "remove_license"]
    holder: ObjectRef
    sku: str
    sku_id: str
    disabled_plans: tuple[str, ...] = ()
    disabled_plan_ids: tuple[str, ...] = ()
    plans_before: tuple[str, ...] = ()  # update_license: the disabled plans (names) it had
    kind: ClassVar[Literal["license"]] = "license"

    @property
    def subject(self) -> ObjectRef:
        return self.holder

    @property
    def other(self) -> None:
        return None


@dataclass(frozen=True)
class RoleRef:
    """A directory role definition: its id (a built-in role's templateId) and its displayName."""

    id: str
    name: str


@dataclass(frozen=True)
class RoleChange(_Numbered):
    """A directory role assigned to a user or role-assignable group at a scope, or an assignment of
    it removed. The principal is what the change touches (targeting, protection); Graph writes the
    `roleAssignments` collection."""

    action: Literal["assign_role", "remove_role"]
    role: RoleRef
    principal: ObjectRef
    directory_scope_id: str = "/"
    assignment_id: str | None = None  # remove_role: the unifiedRoleAssignment's id
    kind: ClassVar[Literal["role"]] = "role"

    @property
    def subject(self) -> ObjectRef:
        return self.principal

    @property
    def other(self) -> None:
        return None


Change = (
    Restore
    | Create
    | Invite
    | Update
    | Remove
    | ManagerChange
    | MembershipChange
    | OwnershipChange
    | LicenseChange
    | RoleChange
)

RESTORABLE_DAYS = 30  # how long Graph keeps a deleted user or Microsoft 365 group (directory-deleteditems)


def ends(change: Change) -> tuple[ObjectRef, ...]:
    """The objects a change touches: its subject, and the other end of an edge."""
    other = change.other
    return (change.subject,) if other is None else (change.subject, other)


@dataclass
class UnsafeItem:
    """Why the plan must not be applied without --force: removals or updates over a safety fraction."""

    reason: Literal["delete_fraction", "purge_fraction", "update_fraction"]
    message: str
    kind: str | None = None
    key: str | None = None
    change_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HeldItem:
    """A difference on a protected principal: never applied, not even with --force, and never a reason
    to need --force; shown loudly until the YAML agrees with the tenant (SPEC §4)."""

    principal: str  # the protected UPN or mailNickname, as the plan names it
    wants: str  # what the desired state (or an authoritative scope) would do, in one line


@dataclass(frozen=True)
class MemberEffect:
    """What one membership change brings: see `plan.effects`."""

    change: str  # the plan change's id
    group: str  # the group joined or left
    gained: tuple[str, ...]  # UPNs now in the group, directly or through nested groups
    lost: tuple[str, ...]  # UPNs no longer in it
    reached: tuple[str, ...]  # groups above it that the same users reach through it
    licenses: tuple[str, ...]  # SKUs the group assigns (to its direct user members)
    roles: tuple[str, ...]  # directory roles the group holds


@dataclass(frozen=True)
class SeatEffect:
    sku: str
    before: int
    after: int
    enabled: int


@dataclass(frozen=True)
class Effects:
    members: tuple[MemberEffect, ...] = ()
    seats: tuple[SeatEffect, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.members and not self.seats


class Digests(Protocol):
    """sha256 of the desired and of the live state a plan was made from (`reconciler.plan.digest`)."""

    @property
    def desired(self) -> str: ...

    @property
    def live(self) -> str: ...


@dataclass(frozen=True)
class WrittenDigests:
    """The digests as a plan file holds them."""

    desired: str
    live: str


@dataclass
class Plan:
    tenant: str
    digests: Digests
    changes: list[Change] = field(default_factory=list)
    unsafe: list[UnsafeItem] = field(default_factory=list)
    held: list[HeldItem] = field(default_factory=list)
    effects: Effects = Effects()  # the blast radius, computed from the live snapshot (`plan.effects`)
    created_at: str = ""  # ISO-8601, stamped by the caller (diff itself has no clock)
    # `--target KIND:KEY`s the plan was narrowed to: `apply FILE` re-plans with the same ones.
    targets: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """The tenant agrees with git: no change to make and nothing held (exit 0, not 2)."""
        return not self.changes and not self.held

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.action] = counts.get(change.action, 0) + 1
        return counts
