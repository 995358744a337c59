"""License seats after a plan: the units of each SKU the plan's changes would take beyond what is free.

Pre-flight counts them so that an apply never stops half-way on a `CountViolation` (SPEC §4).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from typing import assert_never

from reconciler.errors import Problem
from reconciler.live import LiveState
from reconciler.plan.model import (
    Change,
    Create,
    Invite,
    LicenseChange,
    ManagerChange,
    MembershipChange,
    ObjectRef,
    OwnershipChange,
    Plan,
    Remove,
    Restore,
    RoleChange,
    Update,
)

UPN = "userPrincipalName"
NICKNAME = "mailNickname"


def extra_units(plan: Plan, live: LiveState) -> Counter[str]:
    """Units of each SKU the plan's changes take (positive) or free (negative), by skuId."""
    if not any(isinstance(c, LicenseChange | MembershipChange | Create | Remove) for c in plan.changes):
        return Counter()
    licensing = _Licensing(live)
    for change in plan.changes:
        licensing.apply(change)
    return licensing.extra_units()


def seat_problems(plan: Plan, live: LiveState) -> Iterable[Problem]:
    """One problem per SKU the plan needs more units of than the tenant has free."""
    extra = extra_units(plan, live)
    for sku_id, sku in sorted(live.skus.items(), key=lambda item: item[1].part_number):
        free = sku.enabled - sku.consumed
        if extra[sku_id] > 0 and extra[sku_id] > free:
            yield Problem(
                f"SKU {sku.part_number}: the plan needs {extra[sku_id]} more unit(s) but only {max(free, 0)} "
                f"of {sku.enabled} are free"
            )


class _Licensing:
    """Who holds which SKU once the plan is applied, kept for the objects the plan touches only.

    A user holds a unit of each SKU assigned to them directly or to a group they are a direct member
    of (group-based licensing does not reach into nested groups). Created objects get ids
    `sim-<change id>`; ends resolve by id, else by key. No copy of the whole tenant is made: that took
    seconds for 100,000 users however small the plan.
    """

    def __init__(self, live: LiveState) -> None:
        self.live = live
        self.user_keys = {user.id: user.key for user in live.users.values()}
        self.group_keys = {group.id: group.key for group in live.groups.values()}
        self.user_ids = {key: object_id for object_id, key in self.user_keys.items()}
        self.group_ids = {key: object_id for object_id, key in self.group_keys.items()}
        # After the plan, for touched objects only (copied from live on first touch):
        self.direct: dict[str, set[str]] = {}  # user id -> skuIds assigned directly
        self.members: dict[str, set[str]] = {}  # group id -> user ids of direct members
        self.group_skus: dict[str, set[str]] = {}  # group id -> skuIds assigned to the group
        self.deleted_users: set[str] = set()
        self.deleted_groups: set[str] = set()

    def id_of(self, ref: ObjectRef) -> str:
        return ref.id or (self.user_ids if ref.kind == "user" else self.group_ids)[ref.key]

    def direct_of(self, user_id: str) -> set[str]:
        if user_id not in self.direct:
            user = self.live.users.get(user_id)
            self.direct[user_id] = set(user.direct_licenses) if user else set()
        return self.direct[user_id]

    def members_of(self, group_id: str) -> set[str]:
        if group_id not in self.members:
            group = self.live.groups.get(group_id)
            self.members[group_id] = set(group.member_user_ids) if group else set()
        return self.members[group_id]

    def skus_of(self, group_id: str) -> set[str]:
        if group_id not in self.group_skus:
            group = self.live.groups.get(group_id)
            self.group_skus[group_id] = set(group.licenses) if group else set()
        return self.group_skus[group_id]

    def apply(self, change: Change) -> None:
        match change:
            case Create():
                self._create(change)
            case Invite():
                new_id = f"sim-{change.id}"
                self.user_keys[new_id], self.user_ids[change.subject.key] = change.subject.key, new_id
                self.direct[new_id] = set()
            case Update() if change.kind == "user" and UPN in change.diff:
                self._rename(change, UPN, self.user_keys, self.user_ids)
            case Update() if change.kind == "group" and NICKNAME in change.diff:
                self._rename(change, NICKNAME, self.group_keys, self.group_ids)
            case Remove(action="delete") if change.kind == "user":
                user_id = self.id_of(change.subject)
                self.deleted_users.add(user_id)
                self.user_ids.pop(self.user_keys.pop(user_id, ""), None)
            case Remove(action="delete"):
                group_id = self.id_of(change.subject)
                self.deleted_groups.add(group_id)
                self.group_ids.pop(self.group_keys.pop(group_id, ""), None)
            case MembershipChange() if change.member.kind == "user":
                members = self.members_of(self.id_of(change.group))
                _toggle(members, self.id_of(change.member), change.action == "add_member")
            case LicenseChange():
                holder_id = self.id_of(change.holder)
                skus = self.direct_of(holder_id) if change.holder.kind == "user" else self.skus_of(holder_id)
                _toggle(skus, change.sku_id, change.action != "remove_license")
            case (
                Restore()
                | Update()
                | Remove()
                | ManagerChange()
                | MembershipChange()
                | OwnershipChange()
                | RoleChange()
            ):
                # No seat moves; a restored user gets its licenses back "even if there are no seats"
                # (Graph docs: directory-deleteditems-restore).
                pass
            case _:
                assert_never(change)

    def _create(self, change: Create) -> None:
        new_id = f"sim-{change.id}"
        if change.kind == "user":
            key = str(change.after.get(UPN, change.subject.key)).lower()
            self.user_keys[new_id], self.user_ids[key] = key, new_id
            self.direct[new_id] = set()
        else:
            key = str(change.after.get(NICKNAME, change.subject.key)).lower()
            self.group_keys[new_id], self.group_ids[key] = key, new_id
            self.members[new_id], self.group_skus[new_id] = set(), set()

    def _rename(self, change: Update, attr: str, keys: dict[str, str], ids: dict[str, str]) -> None:
        object_id = self.id_of(change.subject)
        new_key = str(change.diff[attr]["after"]).lower()
        ids.pop(keys.get(object_id, ""), None)
        keys[object_id], ids[new_key] = new_key, object_id

    def extra_units(self) -> Counter[str]:
        """Units of each SKU held after the plan minus before it, counted over the users whose
        licenses may change: touched users and the members, before and after, of touched groups."""
        touched_groups = self.members.keys() | self.group_skus.keys() | self.deleted_groups
        affected = self.direct.keys() | self.deleted_users
        for group_id in touched_groups:
            group = self.live.groups.get(group_id)
            affected |= (group.member_user_ids if group else set()) | self.members.get(group_id, set())
        users = self.live.users
        before = _held(
            {user_id: users[user_id].direct_licenses for user_id in affected if user_id in users},
            [(set(group.licenses), group.member_user_ids) for group in self.live.groups.values()],
        )
        after = _held(
            {user_id: self._direct_after(user_id) for user_id in affected if user_id in self.user_keys},
            [(self.skus_of(group_id), self._members_after(group_id)) for group_id in self.group_keys],
        )
        extra: Counter[str] = Counter()
        for user_id in affected:
            held_before, held_after = before.get(user_id, set()), after.get(user_id, set())
            if held_before != held_after:
                extra.update(held_after - held_before)
                extra.subtract(held_before - held_after)
        return extra

    def _direct_after(self, user_id: str) -> Collection[str]:
        direct = self.direct.get(user_id)
        return direct if direct is not None else self.live.users[user_id].direct_licenses

    def _members_after(self, group_id: str) -> set[str]:
        """Without copying the (large) member sets of groups the plan leaves alone."""
        members = self.members.get(group_id)
        return members if members is not None else self.live.groups[group_id].member_user_ids


def _held(direct: dict[str, Collection[str]], groups: list[tuple[set[str], set[str]]]) -> dict[str, set[str]]:
    """SKUs each user of `direct` holds: those assigned directly, and those of each group (skuIds,
    member ids) it is a direct member of."""
    held = {user_id: set(skus) for user_id, skus in direct.items()}
    for skus, members in groups:
        if skus:
            for user_id in members & held.keys():
                held[user_id] |= skus
    return held


def _toggle(items: set[str], item: str, add: bool) -> None:
    if add:
        items.add(item)
    else:
        items.discard(item)
