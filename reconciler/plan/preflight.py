"""Pre-flight: what would make a plan fail half-way, found before anything is applied (SPEC §4).

`preflight(...)` returns every problem, each at its `FILE:LINE:COL` where the desired state says where,
sorted by place; the caller raises `PlanError` naming them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import assert_never

from reconciler.desired import grouptypes
from reconciler.desired.model import DesiredGroup, DesiredRole, DesiredState, LicenseSpec
from reconciler.desired.typecheck import did_you_mean
from reconciler.errors import Location, Problem
from reconciler.live import LiveGroup, LiveState
from reconciler.plan.groups import is_dynamic
from reconciler.plan.licenses import find_sku, unknown_plans
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
from reconciler.plan.seats import seat_problems
from reconciler.plan.users import UPN

_NICKNAME = "mailNickname"

# The few user properties a cloud client may change on an object synced from on-premises AD; every
# other attribute entraform manages (and the manager) is mastered on-premises.
CLOUD_WRITABLE_ON_SYNCED_USERS = frozenset({"usageLocation", "accountEnabled", "passwordPolicies"})


def _at(location: Location | None, message: str) -> Problem:
    return Problem(message, location)


def preflight(plan: Plan, desired: DesiredState, live: LiveState) -> list[Problem]:
    problems = [
        *_licenses_written(desired, live),
        *_references(desired, live),
        *_creates(plan, desired),
        *_user_types(plan, desired),
        *_domains(plan, desired, live),
        *_key_collisions(plan, desired, live),
        *_usage_locations(plan, desired, live),
        *_synced(plan, desired, live),
        *_last_owners(desired, live),
        *_dynamic_members(desired, live),
        *_read_only_groups(desired, live),
        *_member_types(desired, live),
        *_roles(desired, live),
        *seat_problems(plan, live),
    ]
    return sorted(set(problems), key=Problem.sort_key)


def _licenses_written(desired: DesiredState, live: LiveState) -> Iterable[Problem]:
    holders: list[tuple[str, tuple[LicenseSpec, ...], Location]] = [
        (f"user {u.key}", u.licenses, u.location) for u in desired.users.values() if u.licenses
    ]
    holders += [(f"group {g.key}", g.licenses, g.location) for g in desired.groups.values() if g.licenses]
    known = ", ".join(sorted(s.part_number for s in live.skus.values())) or "none"
    # What is wrong with a license as written, once per distinct one: 100,000 users write a handful.
    wrong: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for holder, specs, where in holders:
        for spec in specs:
            written = (spec.sku, spec.disabled_plans)
            if written not in wrong:
                sku = find_sku(live.skus, spec.sku)
                wrong[written] = (
                    [f"unknown SKU {spec.sku!r} (the tenant has: {known})"]
                    if sku is None
                    else [
                        f"SKU {sku.part_number} has no service plan {name!r}"
                        for name in unknown_plans(sku, spec.disabled_plans)
                    ]
                )
            for message in wrong[written]:
                yield _at(spec.location or where, f"{holder}: {message}")


def _references(desired: DesiredState, live: LiveState) -> Iterable[Problem]:
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
        members = group.members
        if members:
            for n, (kind, key) in enumerate(members.pairs()):
                if key not in (users if kind == "user" else groups):
                    yield _at(
                        members.location(n) or group.location,
                        f"member {kind} {key} is declared nowhere and not in the tenant",
                    )


def _creates(plan: Plan, desired: DesiredState) -> Iterable[Problem]:
    for change in plan.changes:
        if isinstance(change, Create) and not change.after.get("displayName"):
            key = change.subject.key
            where = _location(desired, change.subject)
            yield _at(where, f"new {change.kind} {key} needs a displayName (Graph requires one)")


def _user_types(plan: Plan, desired: DesiredState) -> Iterable[Problem]:
    """A member is never turned into a guest (or back) by an attribute edit: that is a new account."""
    for change in plan.changes:
        if isinstance(change, Update) and change.kind == "user" and "userType" in change.diff:
            diff = change.diff["userType"]
            yield _at(
                _location(desired, change.subject),
                f"user {change.subject.key} is a {diff['before'] or 'Member'} in the tenant but the YAML "
                f"says userType {diff['after']}: entraform never converts a member into a guest or a guest "
                "into a member; declare it as it is, or remove it and declare the new account",
            )


def _location(desired: DesiredState, ref: ObjectRef) -> Location | None:
    found = (desired.users if ref.kind == "user" else desired.groups).get(ref.key)
    return found.location if found else None


def _new_key(change: Change) -> str | None:
    """The UPN or mailNickname a create or rename gives its object (lower-cased), else None."""
    key_attr = UPN if change.kind == "user" else _NICKNAME
    if isinstance(change, Create):
        return str(change.after.get(key_attr) or change.subject.key).lower()
    if isinstance(change, Update) and key_attr in change.diff:
        return str(change.diff[key_attr]["after"]).lower()
    return None


def _domains(plan: Plan, desired: DesiredState, live: LiveState) -> Iterable[Problem]:
    for change in plan.changes:
        upn = _new_key(change) if change.kind == "user" else None
        if upn is None:
            continue
        domain = upn.rsplit("@", 1)[-1]
        if domain not in live.verified_domains:
            verified = ", ".join(sorted(live.verified_domains)) or "none"
            shown = change.after.get(UPN, upn) if isinstance(change, Create) else _renamed_to(change)
            yield _at(
                _location(desired, change.subject),
                f"user {shown}: domain {domain} is not a verified domain of the tenant ({verified})",
            )


def _renamed_to(change: Change) -> object:
    return change.diff[UPN]["after"] if isinstance(change, Update) else None


def _key_collisions(plan: Plan, desired: DesiredState, live: LiveState) -> Iterable[Problem]:
    """A create or rename onto a UPN/mailNickname another live object holds (claimed by a pin or a
    renamedFrom of another declaration): Graph would refuse it as a conflict."""
    new_keys = [
        (change, new_key)
        for change in plan.changes
        if isinstance(change, Create | Update) and (new_key := _new_key(change)) is not None
    ]
    if not new_keys:
        return
    holders = {("user", u.key): u.id for u in live.users.values()}
    holders |= {("group", g.key): g.id for g in live.groups.values()}
    for change, new_key in new_keys:
        holder = holders.get((change.kind, new_key))
        if holder is not None and holder != change.subject.id:
            yield _at(
                _location(desired, change.subject),
                f"{change.kind} {new_key} already exists in the tenant as another object (id {holder})",
            )


def _usage_locations(plan: Plan, desired: DesiredState, live: LiveState) -> Iterable[Problem]:
    live_users = live.user_by_upn()
    for change in plan.changes:
        if not isinstance(change, LicenseChange) or change.holder.kind != "user":
            continue
        if change.action == "remove_license":
            continue
        key = change.holder.key
        declared = desired.users.get(key)
        if declared is not None and "usageLocation" in declared.attrs:
            usage = declared.attrs["usageLocation"]
        else:
            current = live.users.get(change.holder.id or "") or live_users.get(key)
            usage = current.attrs.get("usageLocation") if current else None
        if not usage:
            where = declared.location if declared else None
            yield _at(where, f"user {key}: license {change.sku} needs a usageLocation, which it lacks")


def _synced(plan: Plan, desired: DesiredState, live: LiveState) -> Iterable[Problem]:
    """Attributes, managers and memberships of objects synced from on-premises AD are read-only."""
    for change in plan.changes:
        what = _synced_problem(change)
        subject = change.subject
        if not what or subject.id is None:
            continue
        found = live.users.get(subject.id) if subject.kind == "user" else live.groups.get(subject.id)
        if found is not None and found.on_premises_sync:
            where = _location(desired, ObjectRef(subject.kind, found.key))
            yield _at(where, f"{subject.kind} {found.key} is synced from on-premises AD: {what}")


def _synced_problem(change: Change) -> str:
    """What Graph refuses on a synced subject, or "" (licenses, owners, usageLocation and accountEnabled
    stay cloud-writable)."""
    match change:
        case Update():
            names = [
                n for n in change.diff if change.kind != "user" or n not in CLOUD_WRITABLE_ON_SYNCED_USERS
            ]
            return f"{', '.join(names)} cannot be changed through Graph" if names else ""
        case ManagerChange():
            return "manager cannot be changed through Graph"
        case MembershipChange():
            return "members cannot be changed through Graph"
        case Remove(action="delete"):
            return "it cannot be deleted through Graph; delete it on-premises"
        case Restore() | Create() | Invite() | Remove() | OwnershipChange() | LicenseChange() | RoleChange():
            return ""
        case _:
            assert_never(change)


def _last_owners(desired: DesiredState, live: LiveState) -> Iterable[Problem]:
    groups = live.group_by_nickname()
    for declared in desired.groups.values():
        group = groups.get(declared.key)
        if declared.owners == () and group is not None and group.owner_ids:
            yield _at(
                declared.location,
                f"group {declared.key}: owners: [] would remove its last owner, which Graph refuses",
            )


def _dynamic_members(desired: DesiredState, live: LiveState) -> Iterable[Problem]:
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


def _read_only_groups(desired: DesiredState, live: LiveState) -> Iterable[Problem]:
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


def _member_types(desired: DesiredState, live: LiveState) -> Iterable[Problem]:
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
        members = declared.members
        if members is None or is_dynamic(declared.attrs):
            continue
        parent = effective(declared.key)
        if parent is None or grouptypes.is_read_only(parent[0]):
            continue  # a read-only group is refused as a whole above
        parent_attrs, parent_live = parent
        for n, (kind, key) in enumerate(members.pairs()):
            child = effective(key) if kind == "group" else None
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
                    members.location(n) or declared.location,
                    f"group {declared.key} ({grouptypes.kind_of(parent_attrs)}) cannot take group "
                    f"{key} ({grouptypes.kind_of(child_attrs)}) as a member: {refused}",
                )


def _roles(desired: DesiredState, live: LiveState) -> Iterable[Problem]:
    """Roles the tenant does not have, two declarations of one role and scope, and group principals
    the tenant holds but cannot give a role (isAssignableToRole is set when a group is created)."""
    names = sorted(d.display_name for d in live.role_definitions.values())
    seen: dict[tuple[str, str], DesiredRole] = {}
    by_key = live.group_by_nickname()
    for role in sorted(desired.roles.values(), key=lambda r: (r.location.file, r.location.line)):
        definition = live.role_definition(role.role)
        if definition is None:
            hint = did_you_mean(role.role, names) or " (the tenant's roles are listed by `entraform import`)"
            yield _at(role.location, f"role {role.role!r}: the tenant has no such directory role{hint}")
            continue
        first = seen.setdefault((definition.id, role.directory_scope_id), role)
        if first is not role:
            yield _at(
                role.location,
                f"role {role.role} is {definition.display_name}, declared already at {first.location} for "
                f"directoryScopeId {role.directory_scope_id}; declare each role once per scope",
            )
        for principal in role.principals:
            declared = desired.groups.get(principal.key) if principal.kind == "group" else None
            group = _live_group(declared, live.groups, by_key) if declared else by_key.get(principal.key)
            if (
                principal.kind == "group"
                and group is not None
                and not grouptypes.is_role_assignable(group.attrs)
            ):
                yield _at(
                    principal.location or role.location,
                    f"group {principal.key} holds role {definition.display_name} in the desired state, but "
                    "in the tenant it is not role-assignable (isAssignableToRole is set only when a group is "
                    "created): name a role-assignable group",
                )
