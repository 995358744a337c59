"""The blast radius of a plan, from the live snapshot alone (pure; no request).

A reviewer reads "+ add member group:grp-a to grp-b" and needs to know that 37 people just got into
grp-b (and every group grp-b is in), with the licenses and roles that come with it. For each membership
change that nests a group, or that moves a user into or out of a group that assigns licenses or holds
a directory role: the users whose transitive membership changes, the groups above it they reach, the
group's licenses (group-based licensing reaches its direct user members only) and the roles it holds.
And per SKU, the seats taken before and after the plan.
"""

from __future__ import annotations

from collections import deque

from reconciler.live import LiveState
from reconciler.plan.model import Effects, MemberEffect, MembershipChange, Plan, SeatEffect
from reconciler.plan.seats import extra_units


def plan_effects(plan: Plan, live: LiveState) -> Effects:
    graph = _Nesting(live)
    members: list[MemberEffect] = []
    for change in plan.changes:
        if not isinstance(change, MembershipChange) or change.group.id is None or change.member.id is None:
            continue
        group = live.groups.get(change.group.id)
        if group is None:
            continue
        licenses = tuple(sorted(live.skus[s].part_number if s in live.skus else s for s in group.licenses))
        roles = tuple(
            sorted(
                {
                    _role_name(live, a.role_definition_id)
                    for a in live.role_assignments.values()
                    if a.principal_id == group.id
                }
            )
        )
        nested = change.member.kind == "group"
        if not nested and not licenses and not roles:
            continue  # one user into a plain group: the line says it all
        if nested:
            moving = graph.users_of(change.member.id) - graph.users_of(group.id, skip=change.member.id)
        else:  # a user is in the group another way only through one of its nested groups
            moving = {change.member.id} - graph.through_children(group.id)
        changed = sorted(live.users[u].upn for u in moving if u in live.users)
        adding = change.action == "add_member"
        reached = tuple(sorted(live.groups[g].mail_nickname for g in graph.ancestors(group.id)))
        members.append(
            MemberEffect(
                change.id,
                change.group.key,
                tuple(changed) if adding else (),
                () if adding else tuple(changed),
                reached,
                licenses,
                roles,
            )
        )
    extra = extra_units(plan, live)
    seats = tuple(
        SeatEffect(sku.part_number, sku.consumed, sku.consumed + extra[sku_id], sku.enabled)
        for sku_id, sku in sorted(live.skus.items(), key=lambda item: item[1].part_number)
        if extra[sku_id]
    )
    return Effects(tuple(members), seats)


def _role_name(live: LiveState, role_id: str) -> str:
    definition = live.role_definitions.get(role_id)
    return definition.display_name if definition else role_id


class _Nesting:
    """Transitive membership over the live snapshot, each answer computed once."""

    def __init__(self, live: LiveState) -> None:
        self.live = live
        self.parents: dict[str, set[str]] = {}
        self._children_users: dict[str, set[str]] = {}
        self._ancestors: dict[str, set[str]] = {}
        for group in live.groups.values():
            for child in group.member_group_ids:
                self.parents.setdefault(child, set()).add(group.id)

    def users_of(self, group_id: str, skip: str | None = None) -> set[str]:
        """The users in `group_id`, directly or through nested groups, not counting its direct member
        `skip` (a user or a group: the edge a change adds or removes)."""
        users: set[str] = set()
        seen = {group_id}
        todo = deque([group_id])
        while todo:
            current = self.live.groups.get(todo.popleft())
            if current is None:
                continue
            top = current.id == group_id
            users |= current.member_user_ids - {skip} if top and skip else current.member_user_ids
            for child in current.member_group_ids:
                if child not in seen and not (top and child == skip):
                    seen.add(child)
                    todo.append(child)
        return users

    def through_children(self, group_id: str) -> set[str]:
        """The users in a group's nested groups (computed once per group)."""
        if group_id not in self._children_users:
            group = self.live.groups.get(group_id)
            users: set[str] = set()
            for child in group.member_group_ids if group else ():
                users |= self.users_of(child)
            self._children_users[group_id] = users
        return self._children_users[group_id]

    def ancestors(self, group_id: str) -> set[str]:
        if group_id in self._ancestors:
            return self._ancestors[group_id]
        found: set[str] = set()
        todo = deque([group_id])
        while todo:
            for parent in self.parents.get(todo.popleft(), ()):
                if parent not in found:
                    found.add(parent)
                    todo.append(parent)
        found.discard(group_id)
        self._ancestors[group_id] = found
        return found
