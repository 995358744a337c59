"""Pre-flight: what would make a plan fail half-way, found before anything is applied (SPEC §4).

`preflight(...)` returns one line per problem, `FILE:LINE:COL: ` in front where the desired state
says where; the caller raises `PlanError` naming them all. Lines are sorted (so grouped by file).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable

from reconciler.desired import grouptypes
from reconciler.desired.model import DesiredGroup, DesiredState, LicenseSpec
from reconciler.errors import Location
from reconciler.live import LiveGroup, LiveState
from reconciler.plan.groups import is_dynamic
from reconciler.plan.licenses import find_sku, unknown_plans
from reconciler.plan.model import Change, Plan
from reconciler.plan.users import UPN

_NICKNAME = "mailNickname"

# The few user properties a cloud client may change on an object synced from on-premises AD; every
# other attribute entraform manages (and the manager) is mastered on-premises.
CLOUD_WRITABLE_ON_SYNCED_USERS = frozenset({"usageLocation", "accountEnabled"})


def _at(location: Location | None, message: str) -> str:
    return f"{location}: {message}" if location else message


def preflight(plan: Plan, desired: DesiredState, live: LiveState) -> list[str]:
    problems = [
        *_licenses_written(desired, live),
        *_references(desired, live),
        *_creates(plan, desired),
        *_domains(plan, desired, live),
        *_key_collisions(plan, desired, live),
        *_usage_locations(plan, desired, live),
        *_synced(plan, desired, live),
        *_last_owners(desired, live),
        *_dynamic_members(desired, live),
        *_read_only_groups(desired, live),
        *_member_types(desired, live),
        *_seats(plan, live),
    ]
    return sorted(set(problems), key=_by_place)


_PLACE = re.compile(r"^(.*?):(\d+):(\d+): ")


def _by_place(problem: str) -> tuple[str, int, int, str]:
    """File, then line and column as numbers (line 10 after line 9), then the text."""
    match = _PLACE.match(problem)
    if match is None:
        return ("", 0, 0, problem)
    return (match.group(1), int(match.group(2)), int(match.group(3)), problem)


def _licenses_written(desired: DesiredState, live: LiveState) -> Iterable[str]:
    holders: list[tuple[str, tuple[LicenseSpec, ...], Location]] = [
        (f"user {u.key}", u.licenses, u.location) for u in desired.users.values() if u.licenses
    ]
    holders += [(f"group {g.key}", g.licenses, g.location) for g in desired.groups.values() if g.licenses]
    known = ", ".join(sorted(s.part_number for s in live.skus.values())) or "none"
    for holder, specs, where in holders:
        for spec in specs:
            sku = find_sku(live.skus, spec.sku)
            if sku is None:
                yield _at(
                    spec.location or where, f"{holder}: unknown SKU {spec.sku!r} (the tenant has: {known})"
                )
                continue
            for name in unknown_plans(sku, spec.disabled_plans):
                yield _at(
                    spec.location or where, f"{holder}: SKU {sku.part_number} has no service plan {name!r}"
                )


def _references(desired: DesiredState, live: LiveState) -> Iterable[str]:
    """References to users/groups declared nowhere and missing from the tenant: the loader's
    `external_refs`, and (should it miss one) any manager, owner or member the diff could not resolve."""
    known = {
        "user": {u.key for u in live.users.values()} | desired.users.keys(),
        "group": {g.key for g in live.groups.values()} | desired.groups.keys(),
    }
    for ref in desired.external_refs:
        if ref.key not in known[ref.kind]:
            yield _at(
                ref.location, f"{ref.role} {ref.kind} {ref.key} is declared nowhere and not in the tenant"
            )
    # Those already reported above are not reported again.
    for ref in desired.external_refs:
        known[ref.kind].add(ref.key)
    users, groups = known["user"], known["group"]
    for user in desired.users.values():
        if user.manager is not None and user.manager not in users:
            yield _at(user.location, f"manager user {user.manager} is declared nowhere and not in the tenant")
    for group in desired.groups.values():
        for owner in group.owners or ():
            if owner not in users:
                yield _at(group.location, f"owner user {owner} is declared nowhere and not in the tenant")
        for member in group.members or ():
            if member.key not in (users if member.kind == "user" else groups):
                yield _at(
                    member.location or group.location,
                    f"member {member.kind} {member.key} is declared nowhere and not in the tenant",
                )


def _creates(plan: Plan, desired: DesiredState) -> Iterable[str]:
    for change in plan.changes:
        if change.action == "create" and not (change.after or {}).get("displayName"):
            where = _location(desired, change.kind, change.key)
            yield _at(where, f"new {change.kind} {change.key} needs a displayName (Graph requires one)")


def _location(desired: DesiredState, kind: str, key: str | None) -> Location | None:
    found = (desired.users if kind == "user" else desired.groups).get(key or "")
    return found.location if found else None


def _domains(plan: Plan, desired: DesiredState, live: LiveState) -> Iterable[str]:
    for change in plan.changes:
        if change.kind != "user" or change.action not in ("create", "update"):
            continue
        upn = (change.after or {}).get(UPN) or (change.diff or {}).get(UPN, {}).get("after")
        if not upn:
            continue
        domain = str(upn).rsplit("@", 1)[-1].lower()
        if domain not in live.verified_domains:
            verified = ", ".join(sorted(live.verified_domains)) or "none"
            where = _location(desired, "user", change.key)
            yield _at(
                where, f"user {upn}: domain {domain} is not a verified domain of the tenant ({verified})"
            )


def _key_collisions(plan: Plan, desired: DesiredState, live: LiveState) -> Iterable[str]:
    """A create or rename onto a UPN/mailNickname another live object holds (claimed by a pin or a
    renamedFrom of another declaration): Graph would refuse it as a conflict."""
    holders = {("user", u.key): u.id for u in live.users.values()}
    holders |= {("group", g.key): g.id for g in live.groups.values()}
    for change in plan.changes:
        key_attr = UPN if change.kind == "user" else "mailNickname"
        if change.action == "create":
            new_key = change.key
        elif change.action == "update" and key_attr in (change.diff or {}):
            new_key = str((change.diff or {})[key_attr]["after"]).lower()
        else:
            continue
        holder = holders.get((change.kind, new_key or ""))
        if holder is not None and holder != change.object_id:
            where = _location(desired, change.kind, change.key)
            yield _at(
                where, f"{change.kind} {new_key} already exists in the tenant as another object (id {holder})"
            )


def _usage_locations(plan: Plan, desired: DesiredState, live: LiveState) -> Iterable[str]:
    live_users = live.user_by_upn()
    for change in plan.changes:
        if change.user is None or change.action not in ("assign_license", "update_license"):
            continue
        declared = desired.users.get(change.user)
        if declared is not None and "usageLocation" in declared.attrs:
            usage = declared.attrs["usageLocation"]
        else:
            current = live.users.get(change.object_id or "") or live_users.get(change.user)
            usage = current.attrs.get("usageLocation") if current else None
        if not usage:
            where = declared.location if declared else None
            yield _at(
                where, f"user {change.user}: license {change.sku} needs a usageLocation, which it lacks"
            )


def _synced(plan: Plan, desired: DesiredState, live: LiveState) -> Iterable[str]:
    """Attributes, managers and memberships of objects synced from on-premises AD are read-only."""
    for change in plan.changes:
        target = _synced_target(change, live)
        what = _synced_problem(change)
        if target is not None and what:
            kind, key = target
            yield _at(_location(desired, kind, key), f"{kind} {key} is synced from on-premises AD: {what}")


def _synced_target(change: Change, live: LiveState) -> tuple[str, str] | None:
    if change.kind == "user" or change.kind == "manager":
        user = live.users.get(change.object_id or "")
        return ("user", user.key) if user and user.on_premises_sync else None
    if change.kind in ("group", "membership"):
        group = live.groups.get(change.object_id or "")
        return ("group", group.key) if group and group.on_premises_sync else None
    return None


def _synced_problem(change: Change) -> str:
    """What Graph would refuse, or "" (licenses, usageLocation and accountEnabled stay cloud-writable)."""
    if change.action == "update":
        names = [
            n for n in (change.diff or {}) if change.kind != "user" or n not in CLOUD_WRITABLE_ON_SYNCED_USERS
        ]
        return f"{', '.join(names)} cannot be changed through Graph" if names else ""
    if change.kind == "manager":
        return "manager cannot be changed through Graph"
    if change.kind == "membership":
        return "members cannot be changed through Graph"
    return "it cannot be deleted through Graph; delete it on-premises" if change.action == "delete" else ""


def _last_owners(desired: DesiredState, live: LiveState) -> Iterable[str]:
    groups = live.group_by_nickname()
    for declared in desired.groups.values():
        group = groups.get(declared.key)
        if declared.owners == () and group is not None and group.owner_ids:
            yield _at(
                declared.location,
                f"group {declared.key}: owners: [] would remove its last owner, which Graph refuses",
            )


def _dynamic_members(desired: DesiredState, live: LiveState) -> Iterable[str]:
    groups = live.group_by_nickname()
    for declared in desired.groups.values():
        group = groups.get(declared.key)
        if declared.members is not None and group is not None and is_dynamic(group.attrs):
            yield _at(
                declared.location,
                f"group {declared.key} is a dynamic group in the tenant: Entra ID sets its members from its "
                "membershipRule and refuses edits; remove `members:` (or declare its membershipRule)",
            )


def _live_group(
    declared: DesiredGroup, by_id: dict[str, LiveGroup], by_key: dict[str, LiveGroup]
) -> LiveGroup | None:
    """The live group a declared one is: by pinned id, a former key, or its key (as the diff matches)."""
    if declared.id is not None and declared.id in by_id:
        return by_id[declared.id]
    for key in (*declared.renamed_from, declared.key):
        if key in by_key:
            return by_key[key]
    return None


def _read_only_groups(desired: DesiredState, live: LiveState) -> Iterable[str]:
    by_key = live.group_by_nickname()
    for declared in desired.groups.values():
        group = _live_group(declared, live.groups, by_key)
        if group is not None and grouptypes.is_read_only(group.attrs):
            yield _at(
                declared.location,
                f"group {declared.key} is {grouptypes.kind_of(group.attrs)} in the tenant: "
                f"{grouptypes.READ_ONLY}; remove it from the desired state (it may still be named as a "
                "member)",
            )


def _member_types(desired: DesiredState, live: LiveState) -> Iterable[str]:
    """Nested groups Graph would refuse, told by what the tenant says of either end (validate has
    already refused what the YAML alone says)."""
    by_key = live.group_by_nickname()

    def effective(key: str) -> tuple[dict[str, object], LiveGroup | None] | None:
        declared = desired.groups.get(key)
        group = _live_group(declared, live.groups, by_key) if declared else by_key.get(key)
        if declared is None and group is None:
            return None  # an unknown reference: reported as one
        attrs = dict(group.attrs) if group else {}
        attrs.update(declared.attrs if declared else {})
        return attrs, group

    for declared in desired.groups.values():
        if declared.members is None or is_dynamic(declared.attrs):
            continue
        parent = effective(declared.key)
        if parent is None or grouptypes.is_read_only(parent[0]):
            continue  # a read-only group is refused as a whole above
        parent_attrs, parent_live = parent
        for member in declared.members:
            child = effective(member.key) if member.kind == "group" else None
            if child is None:
                continue
            child_attrs, child_live = child
            if (
                parent_live is not None
                and child_live is not None
                and child_live.id in parent_live.member_group_ids
            ):
                continue  # already a member: nothing to add
            refused = grouptypes.nesting_refusal(parent_attrs, child_attrs)
            if refused:
                yield _at(
                    member.location or declared.location,
                    f"group {declared.key} ({grouptypes.kind_of(parent_attrs)}) cannot take group "
                    f"{member.key} ({grouptypes.kind_of(child_attrs)}) as a member: {refused}",
                )


def _seats(plan: Plan, live: LiveState) -> Iterable[str]:
    if not any(c.kind == "license" or c.kind == "membership" or c.action == "create" for c in plan.changes):
        return
    licensing = _Licensing(live)
    for change in plan.changes:
        licensing.apply(change)
    extra = licensing.extra_units()
    for sku_id, sku in sorted(live.skus.items(), key=lambda item: item[1].part_number):
        free = sku.enabled - sku.consumed
        if extra[sku_id] > 0 and extra[sku_id] > free:
            yield (
                f"SKU {sku.part_number}: the plan needs {extra[sku_id]} more unit(s) but only {max(free, 0)} "
                f"of {sku.enabled} are free"
            )


class _Licensing:
    """Who holds which SKU once the plan is applied, kept for the objects the plan touches only.

    A user holds a unit of each SKU assigned to them directly or to a group they are a direct member
    of (group-based licensing does not reach into nested groups). This follows `simulate` (created
    objects get ids `sim-<change id>`; ends resolve by id, else by key) without its copy of the whole
    tenant, which takes seconds for 100,000 users however small the plan.
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

    def user(self, object_id: str | None, key: str | None) -> str:
        return object_id or self.user_ids[(key or "").lower()]

    def group(self, object_id: str | None, key: str | None) -> str:
        return object_id or self.group_ids[(key or "").lower()]

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
        action, kind = change.action, change.kind
        if action == "create":
            self._create(change)
        elif action in ("update", "disable") and kind == "user" and UPN in (change.diff or {}):
            self._rename(self.user(change.object_id, change.key), change, UPN, self.user_keys, self.user_ids)
        elif action in ("update", "disable") and kind != "user" and _NICKNAME in (change.diff or {}):
            group_id = self.group(change.object_id, change.key)
            self._rename(group_id, change, _NICKNAME, self.group_keys, self.group_ids)
        elif action == "delete" and kind == "user":
            user_id = self.user(change.object_id, change.key)
            self.deleted_users.add(user_id)
            self.user_ids.pop(self.user_keys.pop(user_id, ""), None)
        elif action == "delete":
            group_id = self.group(change.object_id, change.key)
            self.deleted_groups.add(group_id)
            self.group_ids.pop(self.group_keys.pop(group_id, ""), None)
        elif kind == "membership" and not (change.member or "").startswith("group:"):
            member = change.target_id or self.user(None, change.member)
            members = self.members_of(self.group(change.object_id, change.group))
            _toggle(members, member, action == "add_member")
        elif kind == "license":
            if change.user is not None:
                skus = self.direct_of(self.user(change.object_id, change.user))
            else:
                skus = self.skus_of(self.group(change.object_id, change.group))
            _toggle(skus, change.sku_id or "", action != "remove_license")

    def _create(self, change: Change) -> None:
        new_id = f"sim-{change.id}"
        if change.kind == "user":
            key = str((change.after or {}).get(UPN, change.key or "")).lower()
            self.user_keys[new_id], self.user_ids[key] = key, new_id
            self.direct[new_id] = set()
        else:
            key = str((change.after or {}).get(_NICKNAME, change.key or "")).lower()
            self.group_keys[new_id], self.group_ids[key] = key, new_id
            self.members[new_id], self.group_skus[new_id] = set(), set()

    @staticmethod
    def _rename(object_id: str, change: Change, attr: str, keys: dict[str, str], ids: dict[str, str]) -> None:
        new_key = str((change.diff or {})[attr]["after"]).lower()
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
