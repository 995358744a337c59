"""`diff(desired, live, config) -> Plan`: pure, deterministic (SPEC §3–4).

No clock, no network, no randomness: changes come out in ORDER of actions, then by key, numbered
`c0001…` in that final order, with `depends_on` naming the creates each change waits for.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.config import Config
from reconciler.desired.model import DesiredState
from reconciler.live import LiveState
from reconciler.plan.digest import StateDigests
from reconciler.plan.effects import plan_effects
from reconciler.plan.groups import group_drafts, orphan_group_drafts
from reconciler.plan.matching import Draft, Index
from reconciler.plan.model import (
    ORDER,
    Change,
    Create,
    Invite,
    LicenseChange,
    Plan,
    Remove,
    Restore,
    RoleChange,
    ends,
)
from reconciler.plan.roles import role_drafts
from reconciler.plan.safety import fraction_items, split_protected
from reconciler.plan.users import leaver_drafts, leavers, user_drafts

_RANK = {pair: rank for rank, pair in enumerate(ORDER)}


def diff(desired: DesiredState, live: LiveState, config: Config) -> Plan:
    index = Index.build(desired, live, config)
    leaving = leavers(index)
    # A deleted user leaves its groups with it; a disabled one is taken out of the declared groups.
    leaver_ids = {u.id for u in leaving} if config.removal.users == "disable" else set()
    drafts = [
        *user_drafts(index),
        *leaver_drafts(index, leaving),
        *group_drafts(index, leaver_ids),
        *orphan_group_drafts(index),
        *role_drafts(index),
    ]
    drafts.sort(key=lambda d: sort_key(d.change))
    kept, held = split_protected(index, drafts)
    changes = _number(kept)
    plan = Plan(
        tenant=live.tenant_id,
        digests=StateDigests(desired, live),
        changes=changes,
        unsafe=fraction_items(index, changes),
        held=held,
    )
    plan.effects = plan_effects(plan, live)
    return plan


def sort_key(change: Change) -> tuple[int, str, str, str, str, str]:
    """Action order (SPEC §4), then the object written to, the other end, the SKU, and their ids; role
    changes by role, scope and principal, so that a review reads each role's holders together."""
    rank = _RANK[(change.action, change.kind)]
    if isinstance(change, RoleChange):
        principal = change.principal
        return (
            rank,
            change.role.name.lower(),
            change.directory_scope_id,
            principal.label,
            principal.id or "",
            "",
        )
    other = change.other
    sku = change.sku if isinstance(change, LicenseChange) else ""
    return (
        rank,
        change.subject.key,
        other.label if other is not None else "",
        sku,
        change.subject.id or "",
        (other.id or "") if other is not None else "",
    )


def _number(drafts: list[Draft]) -> list[Change]:
    """Ids in plan order, then `depends_on`: the creates each change needs, the restore of any object it
    touches, and for a group delete the removal of the licenses it assigns (Graph refuses to delete a
    group that still assigns licenses)."""
    ids = [f"c{n:04d}" for n in range(1, len(drafts) + 1)]
    creates: dict[tuple[str, str], str] = {}
    restores: dict[tuple[str, str], str] = {}
    group_license_removals: dict[str, list[str]] = {}
    for change_id, draft in zip(ids, drafts, strict=True):
        change = draft.change
        if isinstance(change, Create | Invite):
            creates[(change.subject.kind, change.subject.key)] = change_id
        if isinstance(change, Restore):
            restores[(change.subject.kind, change.subject.key)] = change_id
        if (
            isinstance(change, LicenseChange)
            and change.action == "remove_license"
            and change.holder.kind == "group"
        ):
            group_license_removals.setdefault(change.holder.key, []).append(change_id)
    changes: list[Change] = []
    for change_id, draft in zip(ids, drafts, strict=True):
        change = draft.change
        needed = {creates[need] for need in draft.needs if need in creates}
        needed |= {restores[end] for end in ((e.kind, e.key) for e in ends(change)) if end in restores}
        needed.discard(change_id)
        if isinstance(change, Remove) and change.kind == "group":
            needed |= set(group_license_removals.get(change.subject.key, []))
        changes.append(replace(change, id=change_id, depends_on=tuple(sorted(needed))))
    return changes
