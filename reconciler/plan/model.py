"""The plan: changes in the order they are applied, what makes it unsafe, and what is held (SPEC §4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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
]
Kind = Literal["user", "group", "membership", "owner", "manager", "license"]

# SPEC §4: create user · create group · update user · update group · set/clear manager · add member ·
# add owner · assign/update license · remove member · remove owner · remove license · disable user ·
# delete user · delete group.
ORDER: tuple[tuple[str, str], ...] = (
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
    ("remove_member", "membership"),
    ("remove_owner", "owner"),
    ("remove_license", "license"),
    ("disable", "user"),
    ("delete", "user"),
    ("delete", "group"),
)


@dataclass
class Change:
    """One change. Fields not relevant to an action stay None and are left out of the JSON.

    `key` names the object (UPN or mailNickname); memberships name `group` and `member`
    (a UPN, or `group:NICK` for a nested group); licenses name `user` or `group` and `sku`.
    """

    id: str
    action: Action
    kind: Kind
    key: str | None = None
    object_id: str | None = None
    after: dict[str, Any] | None = None  # create: the attributes sent
    diff: dict[str, dict[str, Any]] | None = None  # update: {attr: {"before": …, "after": …}}
    group: str | None = None
    member: str | None = None
    owner: str | None = None
    user: str | None = None
    manager: str | None = None
    sku: str | None = None  # skuPartNumber as written, resolved at apply through `sku_id`
    sku_id: str | None = None
    disabled_plans: list[str] | None = None  # JSON: "disabledPlans" (names as written)
    disabled_plan_ids: list[str] | None = None
    # Graph ids of the ends of an edge, when they exist live (apply resolves the rest from depends_on).
    target_id: str | None = None
    revoke_sessions: bool = False  # disable/update to accountEnabled false also revokes sign-in sessions
    depends_on: list[str] = field(default_factory=list)


@dataclass
class UnsafeItem:
    """Why the plan must not be applied without --force: removals or updates over a safety fraction."""

    reason: Literal["delete_fraction", "update_fraction"]
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


@dataclass
class Plan:
    tenant: str
    desired_digest: str
    live_digest: str
    changes: list[Change] = field(default_factory=list)
    unsafe: list[UnsafeItem] = field(default_factory=list)
    held: list[HeldItem] = field(default_factory=list)
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
