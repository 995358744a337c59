"""Apply a plan to an in-memory copy of a `LiveState`: the tenant as it would be after a full apply.

The expected end state of the tests: the idempotence property (plan, simulate, plan again: nothing
left), the apply order and pre-flight's seat counting are checked against it. Objects a plan creates
get the ids `sim-<change id>`. Ends of an edge resolve by id when the change carries one, else by key
(the object is created by the same plan). Consumed SKU units are not recomputed here.
"""

from __future__ import annotations

import copy
from typing import assert_never

from reconciler.live import LiveGroup, LiveLicense, LiveRoleAssignment, LiveState, LiveUser
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


class _Tenant:
    def __init__(self, state: LiveState) -> None:
        self.state = state
        self.user_ids = {u.key: u.id for u in state.users.values()}
        self.group_ids = {g.key: g.id for g in state.groups.values()}

    def id_of(self, ref: ObjectRef) -> str:
        """The id of an end: its own, else that of the object of its key (created by this plan)."""
        found = ref.id or (self.user_ids if ref.kind == "user" else self.group_ids).get(ref.key)
        if found is None:
            raise KeyError(f"no {ref.kind} {ref.key} to change")
        return found

    def user(self, ref: ObjectRef) -> LiveUser:
        return self.state.users[self.id_of(ref)]

    def group(self, ref: ObjectRef) -> LiveGroup:
        return self.state.groups[self.id_of(ref)]

    def apply(self, change: Change) -> None:
        match change:
            case Restore():
                self._restore(change)
            case Create():
                self._create(change)
            case Invite():
                self._invite(change)
            case Update():
                self._update(change.subject, {name: d["after"] for name, d in change.diff.items()})
            case Remove(action="disable"):
                self._update(change.subject, {"accountEnabled": False})
            case Remove() if change.kind == "user":
                self._delete_user(change.subject)
            case Remove():
                self._delete_group(change.subject)
            case ManagerChange():
                clear = change.action == "clear_manager"
                self.user(change.user).manager_id = None if clear else self.id_of(change.manager)
            case MembershipChange():
                group = self.group(change.group)
                edges = group.member_user_ids if change.member.kind == "user" else group.member_group_ids
                _toggle(edges, self.id_of(change.member), change.action == "add_member")
            case OwnershipChange():
                _toggle(
                    self.group(change.group).owner_ids, self.id_of(change.owner), change.action == "add_owner"
                )
            case LicenseChange():
                holder = change.holder
                licenses = (
                    self.user(holder).direct_licenses
                    if holder.kind == "user"
                    else self.group(holder).licenses
                )
                if change.action == "remove_license":
                    licenses.pop(change.sku_id, None)
                else:
                    licenses[change.sku_id] = LiveLicense(change.sku_id, frozenset(change.disabled_plan_ids))
            case RoleChange(action="assign_role"):
                assignment_id = f"sim-{change.id}"
                principal = self.id_of(change.principal)
                assignment = LiveRoleAssignment(
                    assignment_id, change.role.id, principal, change.directory_scope_id
                )
                self.state.role_assignments[assignment_id] = assignment
            case RoleChange():
                self.state.role_assignments.pop(change.assignment_id or "", None)
            case _:
                assert_never(change)

    def _create(self, change: Create) -> None:
        after = dict(change.after)
        new_id = f"sim-{change.id}"
        if change.kind == "user":
            user = LiveUser(id=new_id, upn=after.get(UPN, change.subject.key), attrs=after)
            self.state.users[new_id] = user
            self.user_ids[user.key] = new_id
        else:
            group = LiveGroup(id=new_id, mail_nickname=after.get(NICKNAME, change.subject.key), attrs=after)
            self.state.groups[new_id] = group
            self.group_ids[group.key] = new_id

    def _restore(self, change: Restore) -> None:
        """Back from deletedItems with its id (its memberships are not modelled here)."""
        object_id = self.id_of(change.subject)
        if change.kind == "user":
            user = self.state.deleted_users.pop(object_id)
            self.state.users[object_id] = user
            self.user_ids[user.key] = object_id
        else:
            group = self.state.deleted_groups.pop(object_id)
            self.state.groups[object_id] = group
            self.group_ids[group.key] = object_id

    def _invite(self, change: Invite) -> None:
        """A guest as Graph makes it: a `#EXT#` UPN, its invited address as `mail`."""
        new_id = f"sim-{change.id}"
        email = change.invitation.email
        upn = f"{email.replace('@', '_')}#EXT#@contoso.onmicrosoft.com"
        attrs = {**change.after, "userType": "Guest"}
        self.state.users[new_id] = LiveUser(id=new_id, upn=upn, attrs=attrs, mail=email)
        self.user_ids[change.subject.key] = new_id

    def _update(self, subject: ObjectRef, changed: dict[str, object]) -> None:
        if subject.kind == "user":
            user = self.user(subject)
            user.attrs.update(changed)
            if UPN in changed:
                self.user_ids.pop(user.key, None)
                user.upn = str(changed[UPN])
                self.user_ids[user.key] = user.id
        else:
            group = self.group(subject)
            group.attrs.update(changed)
            if NICKNAME in changed:
                self.group_ids.pop(group.key, None)
                group.mail_nickname = str(changed[NICKNAME])
                self.group_ids[group.key] = group.id

    def _delete_user(self, subject: ObjectRef) -> None:
        user = self.state.users.pop(self.id_of(subject))
        self.user_ids.pop(user.key, None)
        for group in self.state.groups.values():
            group.member_user_ids.discard(user.id)
            group.owner_ids.discard(user.id)
        for other in self.state.users.values():
            if other.manager_id == user.id:
                other.manager_id = None
        self._drop_assignments(user.id)

    def _drop_assignments(self, principal_id: str) -> None:
        """A deleted principal's role assignments go with it."""
        gone = [a.id for a in self.state.role_assignments.values() if a.principal_id == principal_id]
        for assignment_id in gone:
            del self.state.role_assignments[assignment_id]

    def _delete_group(self, subject: ObjectRef) -> None:
        group = self.state.groups.pop(self.id_of(subject))
        self.group_ids.pop(group.key, None)
        for other in self.state.groups.values():
            other.member_group_ids.discard(group.id)
        self._drop_assignments(group.id)


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
