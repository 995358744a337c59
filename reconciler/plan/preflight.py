"""Pre-flight: what would make a plan fail half-way, found before anything is applied (SPEC §4).

`preflight(...)` returns one line per problem, `FILE:LINE:COL: ` in front where the desired state
says where; the caller raises `PlanError` naming them all. Lines are sorted (so grouped by file).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from reconciler.desired.model import DesiredState, LicenseSpec
from reconciler.errors import Location
from reconciler.live import LiveState
from reconciler.plan.licenses import find_sku, unknown_plans
from reconciler.plan.model import Change, Plan
from reconciler.plan.simulate import simulate
from reconciler.plan.users import UPN

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
        *_seats(plan, live),
    ]
    return sorted(set(problems))


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
    known = {("user", u.key) for u in live.users.values()} | {("group", g.key) for g in live.groups.values()}
    known |= {("user", key) for key in desired.users} | {("group", key) for key in desired.groups}
    listed = set()
    for ref in desired.external_refs:
        listed.add((ref.kind, ref.key))
        if (ref.kind, ref.key) not in known:
            yield _at(
                ref.location, f"{ref.role} {ref.kind} {ref.key} is declared nowhere and not in the tenant"
            )
    written: list[tuple[str, str, str, Location]] = []
    for user in desired.users.values():
        if user.manager is not None:
            written.append(("manager", "user", user.manager, user.location))
    for group in desired.groups.values():
        written += [("owner", "user", owner, group.location) for owner in group.owners or ()]
        written += [("member", m.kind, m.key, m.location or group.location) for m in group.members or ()]
    for role, kind, key, where in written:
        if (kind, key) not in known and (kind, key) not in listed:
            yield _at(where, f"{role} {kind} {key} is declared nowhere and not in the tenant")


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


def _units(state: LiveState) -> Counter[str]:
    """Units of each SKU held: one per user holding it directly or through a group they are a direct
    member of (group-based licensing does not reach into nested groups)."""
    from_groups: dict[str, set[str]] = {}
    for group in state.groups.values():
        for user_id in group.member_user_ids:
            from_groups.setdefault(user_id, set()).update(group.licenses)
    units: Counter[str] = Counter()
    for user in state.users.values():
        units.update(set(user.direct_licenses) | from_groups.get(user.id, set()))
    return units


def _seats(plan: Plan, live: LiveState) -> Iterable[str]:
    if not any(c.kind == "license" or c.kind == "membership" or c.action == "create" for c in plan.changes):
        return
    before, after = _units(live), _units(simulate(plan, live))
    for sku_id, sku in sorted(live.skus.items(), key=lambda item: item[1].part_number):
        extra = after[sku_id] - before[sku_id]
        free = sku.enabled - sku.consumed
        if extra > 0 and extra > free:
            yield (
                f"SKU {sku.part_number}: the plan needs {extra} more unit(s) but only {max(free, 0)} "
                f"of {sku.enabled} are free"
            )
