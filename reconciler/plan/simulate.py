"""Apply a plan to an in-memory copy of a `LiveState`: the tenant as it would be after a full apply.

Used by the idempotence property test (plan, simulate, plan again: nothing left), by pre-flight to
count license seats after the plan, and by apply's tests as the expected end state. Objects a plan
creates get the ids `sim-<change id>`. Ends of an edge resolve by id when the change carries one,
else by key (the object is created by the same plan). Consumed SKU units are not recomputed here.
"""

from __future__ import annotations

import copy

from reconciler.live import LiveGroup, LiveLicense, LiveState, LiveUser
from reconciler.plan.model import Change, Plan
from reconciler.plan.users import UPN

_NICKNAME = "mailNickname"


class _Tenant:
    def __init__(self, state: LiveState) -> None:
        self.state = state
        self.user_ids = {u.key: u.id for u in state.users.values()}
        self.group_ids = {g.key: g.id for g in state.groups.values()}

    def user(self, object_id: str | None, key: str | None) -> LiveUser:
        found = object_id or self.user_ids.get((key or "").lower())
        if found is None or found not in self.state.users:
            raise KeyError(f"no user {object_id or key} to change")
        return self.state.users[found]

    def group(self, object_id: str | None, key: str | None) -> LiveGroup:
        found = object_id or self.group_ids.get((key or "").lower())
        if found is None or found not in self.state.groups:
            raise KeyError(f"no group {object_id or key} to change")
        return self.state.groups[found]

    def member_id(self, change: Change) -> tuple[str, str]:
        """("user" | "group", id) of the member an add/remove_member names (a dangling id is kept)."""
        label = change.member or ""
        kind = "group" if label.startswith("group:") else "user"
        if change.target_id is not None:
            return kind, change.target_id
        if kind == "group":
            return kind, self.group(None, label.removeprefix("group:")).id
        return kind, self.user(None, label).id

    def apply(self, change: Change) -> None:
        action, kind = change.action, change.kind
        if action == "create":
            self._create(change)
        elif action in ("update", "disable"):
            self._update(change)
        elif action == "delete" and kind == "user":
            self._delete_user(change)
        elif action == "delete":
            self._delete_group(change)
        elif action in ("set_manager", "clear_manager"):
            user = self.user(change.object_id, change.user)
            user.manager_id = (
                self.user(change.target_id, change.manager).id if action == "set_manager" else None
            )
        elif kind == "membership":
            group = self.group(change.object_id, change.group)
            member_kind, member = self.member_id(change)
            edges = group.member_user_ids if member_kind == "user" else group.member_group_ids
            _toggle(edges, member, action == "add_member")
        elif kind == "owner":
            group = self.group(change.object_id, change.group)
            owner = change.target_id or self.user(None, change.owner).id
            _toggle(group.owner_ids, owner, action == "add_owner")
        else:
            self._license(change)

    def _create(self, change: Change) -> None:
        after = dict(change.after or {})
        new_id = f"sim-{change.id}"
        if change.kind == "user":
            self.state.users[new_id] = LiveUser(id=new_id, upn=after.get(UPN, change.key or ""), attrs=after)
            self.user_ids[self.state.users[new_id].key] = new_id
        else:
            group = LiveGroup(id=new_id, mail_nickname=after.get(_NICKNAME, change.key or ""), attrs=after)
            self.state.groups[new_id] = group
            self.group_ids[group.key] = new_id

    def _update(self, change: Change) -> None:
        changed = {name: d["after"] for name, d in (change.diff or {}).items()}
        if change.action == "disable":
            changed["accountEnabled"] = False
        if change.kind == "user":
            user = self.user(change.object_id, change.key)
            user.attrs.update(changed)
            if UPN in changed:
                self.user_ids.pop(user.key, None)
                user.upn = changed[UPN]
                self.user_ids[user.key] = user.id
        else:
            group = self.group(change.object_id, change.key)
            group.attrs.update(changed)
            if _NICKNAME in changed:
                self.group_ids.pop(group.key, None)
                group.mail_nickname = changed[_NICKNAME]
                self.group_ids[group.key] = group.id

    def _delete_user(self, change: Change) -> None:
        user = self.state.users.pop(self.user(change.object_id, change.key).id)
        self.user_ids.pop(user.key, None)
        for group in self.state.groups.values():
            group.member_user_ids.discard(user.id)
            group.owner_ids.discard(user.id)
        for other in self.state.users.values():
            if other.manager_id == user.id:
                other.manager_id = None

    def _delete_group(self, change: Change) -> None:
        group = self.state.groups.pop(self.group(change.object_id, change.key).id)
        self.group_ids.pop(group.key, None)
        for other in self.state.groups.values():
            other.member_group_ids.discard(group.id)

    def _license(self, change: Change) -> None:
        if change.user is not None:
            licenses = self.user(change.object_id, change.user).direct_licenses
        else:
            licenses = self.group(change.object_id, change.group).licenses
        sku_id = change.sku_id or ""
        if change.action == "remove_license":
            licenses.pop(sku_id, None)
        else:
            licenses[sku_id] = LiveLicense(sku_id, frozenset(change.disabled_plan_ids or ()))


def _toggle(edges: set[str], member: str, add: bool) -> None:
    if add:
        edges.add(member)
    else:
        edges.discard(member)


def simulate(plan: Plan, live: LiveState) -> LiveState:
    """A copy of `live` with every change of `plan` applied, in order; `live` itself is untouched."""
    tenant = _Tenant(copy.deepcopy(live))
    for change in plan.changes:
        tenant.apply(change)
    return tenant.state
