"""`diff(desired, live, config) -> Plan`: pure, deterministic (SPEC §3–4).

No clock, no network, no randomness: changes come out in ORDER of actions, then by key, numbered
`c0001…` in that final order, with `depends_on` naming the creates each change waits for.
"""

from __future__ import annotations

from reconciler.config import Config
from reconciler.desired.model import DesiredState
from reconciler.live import LiveState
from reconciler.plan.digest import desired_digest, live_digest
from reconciler.plan.groups import group_drafts, orphan_group_drafts
from reconciler.plan.matching import Draft, Index
from reconciler.plan.model import ORDER, Change, Plan
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
    ]
    drafts.sort(key=lambda d: sort_key(d.change))
    kept, held = split_protected(index, drafts)
    changes = _number(kept)
    return Plan(
        tenant=live.tenant_id,
        desired_digest=desired_digest(desired),
        live_digest=live_digest(live),
        changes=changes,
        unsafe=fraction_items(index, changes),
        held=held,
    )


def sort_key(change: Change) -> tuple[int, str, str, str, str, str, str, str, str, str]:
    c = change
    return (
        _RANK[(c.action, c.kind)],
        c.key or c.user or c.group or "",
        c.user or "",
        c.group or "",
        c.member or "",
        c.owner or "",
        c.manager or "",
        c.sku or "",
        c.object_id or "",
        c.target_id or "",
    )


def _number(drafts: list[Draft]) -> list[Change]:
    creates: dict[tuple[str, str], str] = {}
    group_license_removals: dict[str, list[str]] = {}
    for n, draft in enumerate(drafts, start=1):
        change = draft.change
        change.id = f"c{n:04d}"
        if change.action == "create" and change.key is not None:
            creates[(change.kind, change.key)] = change.id
        if change.action == "remove_license" and change.group is not None:
            group_license_removals.setdefault(change.group, []).append(change.id)
    for draft in drafts:
        change = draft.change
        change.depends_on = sorted({creates[need] for need in draft.needs if need in creates})
        if change.action == "delete" and change.kind == "group" and change.key is not None:
            # A group that still assigns licenses cannot be deleted (Graph refuses it).
            change.depends_on = sorted({*change.depends_on, *group_license_removals.get(change.key, [])})
    return [d.change for d in drafts]
