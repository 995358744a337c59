"""Plan changes → Graph write requests (SPEC §5; Graph docs: group-post-members, group-post-groups).

Changes are first grouped into *units*, each carried out by one Graph request (or a short sequence):
member adds to one group share `PATCH /groups/{id}` with `members@odata.bind` (≤ 20), all license
changes of one user or group share one `assignLicense`, and a new group takes up to 20 of its user
members and owners inline. Requests are built only when a unit is sent, because the ids of objects
created earlier in the same apply are not known before.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import Any, Literal, assert_never
from urllib.parse import quote

from reconciler.plan.model import (
    Change,
    Create,
    Invite,
    LicenseChange,
    ManagerChange,
    MembershipChange,
    ObjectKind,
    ObjectRef,
    OwnershipChange,
    Remove,
    Restore,
    RoleChange,
    Update,
)

BIND_LIMIT = 20  # members@odata.bind per PATCH, relationships per POST /groups (Graph docs)
LICENSE_ACTIONS = ("assign_license", "update_license", "remove_license")
PASSWORD_LENGTH = 20

Op = Literal[
    "restore",
    "invite",
    "create_user",
    "create_group",
    "patch",
    "bind_members",
    "add_ref",
    "remove_ref",
    "set_manager",
    "clear_manager",
    "license",
    "delete",
    "assign_role",
    "remove_role",
]
ObjectKey = tuple[ObjectKind, str]


class UnresolvedId(Exception):
    """An object a change refers to has no known id (its create was not part of this apply)."""


@dataclass(frozen=True)
class Request:
    method: str
    url: str  # relative to the Graph base URL, e.g. "/users/{id}"
    body: dict[str, Any] | None = None


@dataclass
class Unit:
    """Changes carried out together. For `create_group` the first change is the create itself."""

    id: str
    op: Op
    changes: list[Change]
    after: list[str] = field(default_factory=list)  # change ids to wait for, besides depends_on
    password: str | None = None  # create_user: generated once, reused by retries
    step: int = 0  # index of the next request of a multi-request unit (disable: PATCH, then revoke)


@dataclass
class Ids:
    """Graph ids by lower-cased UPN / mailNickname: live objects, then those created during the apply."""

    users: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)

    def get(self, obj: ObjectKey) -> str:
        kind, key = obj
        found = (self.users if kind == "user" else self.groups).get(key)
        if found is None:
            raise UnresolvedId(f"no id known for {kind} {key}")
        return found

    def set(self, obj: ObjectKey, object_id: str) -> None:
        kind, key = obj
        (self.users if kind == "user" else self.groups)[key] = object_id


def key_of(ref: ObjectRef) -> ObjectKey:
    return (ref.kind, ref.key)


def subject_of(change: Change) -> ObjectKey:
    """The object a change writes to (the URL's `{id}`)."""
    return key_of(change.subject)


def target_of(change: Change) -> ObjectKey | None:
    """The other end of an edge: the member, owner or manager."""
    other = change.other
    return key_of(other) if other is not None else None


def generate_password(length: int = PASSWORD_LENGTH) -> str:
    """A random password meeting Entra's complexity rule (all four character classes)."""
    classes = (string.ascii_lowercase, string.ascii_uppercase, string.digits, "!#$%&*+-=?@^_~")
    alphabet = "".join(classes)
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if all(any(ch in cls for ch in password) for cls in classes):
            return password


# ---- grouping ------------------------------------------------------------------------------------


def group_units(changes: list[Change]) -> list[Unit]:
    """Group changes into units, keeping plan order; deterministic for a given plan."""
    position = {c.id: i for i, c in enumerate(changes)}
    new_groups = {c.subject.key for c in changes if isinstance(c, Create) and c.kind == "group"}
    inline: dict[str, list[Change]] = {}
    member_adds: dict[str, list[Change]] = {}
    licenses: dict[ObjectKey, list[Change]] = {}
    singles: list[Change] = []
    for change in changes:
        if (
            _inline_in_create(change, new_groups)
            and len(inline.setdefault(change.subject.key, [])) < BIND_LIMIT
        ):
            inline[change.subject.key].append(change)
        elif isinstance(change, MembershipChange) and change.action == "add_member":
            member_adds.setdefault(change.group.key, []).append(change)
        elif isinstance(change, LicenseChange):
            licenses.setdefault(subject_of(change), []).append(change)
        else:
            singles.append(change)

    def first_dependency(change: Change) -> int:
        # Members whose creates finish together go in the same PATCH, so each PATCH is ready early.
        return max((position.get(d, -1) for d in change.depends_on), default=-1)

    drafts: list[tuple[int, Op, list[Change]]] = []
    for change in singles:
        if isinstance(change, Create) and change.kind == "group":
            drafts.append(
                (position[change.id], "create_group", [change, *inline.get(change.subject.key, [])])
            )
        else:
            drafts.append((position[change.id], _single_op(change), [change]))
    for adds in member_adds.values():
        adds.sort(key=lambda c: (first_dependency(c), position[c.id]))
        for start in range(0, len(adds), BIND_LIMIT):
            chunk = adds[start : start + BIND_LIMIT]
            op: Op = "bind_members" if len(chunk) > 1 else "add_ref"
            drafts.append((min(position[c.id] for c in chunk), op, chunk))
    for same_holder in licenses.values():
        drafts.append((position[same_holder[0].id], "license", same_holder))
    drafts.sort(key=lambda d: d[0])
    # Graph refuses to remove a group's last owner, so removals of owners wait for the group's new ones.
    owners_added: dict[str, list[str]] = {}
    for change in changes:
        if isinstance(change, OwnershipChange) and change.action == "add_owner":
            owners_added.setdefault(change.group.key, []).append(change.id)
    units = []
    for i, (_, op, group_changes) in enumerate(drafts):
        first = group_changes[0]
        removes_owner = isinstance(first, OwnershipChange) and first.action == "remove_owner"
        after = owners_added.get(first.subject.key, []) if removes_owner else []
        units.append(Unit(id=f"u{i + 1:04d}", op=op, changes=group_changes, after=after))
    return units


def _inline_in_create(change: Change, new_groups: set[str]) -> bool:
    """A user member or owner of a group created in this apply rides along in its `POST /groups`."""
    if isinstance(change, MembershipChange) and change.action == "add_member":
        return change.group.key in new_groups and change.member.kind == "user"
    if isinstance(change, OwnershipChange) and change.action == "add_owner":
        return change.group.key in new_groups
    return False


def _single_op(change: Change) -> Op:
    match change:
        case Restore():
            return "restore"
        case Invite():
            return "invite"
        case Create():
            return "create_user" if change.kind == "user" else "create_group"
        case Update() | Remove(action="disable"):
            return "patch"
        case Remove():
            return "delete"
        case MembershipChange(action="add_member") | OwnershipChange(action="add_owner"):
            return "add_ref"
        case MembershipChange() | OwnershipChange():
            return "remove_ref"
        case ManagerChange():
            return change.action
        case LicenseChange():
            return "license"
        case RoleChange():
            return change.action
        case _:
            assert_never(change)


def split_unit(unit: Unit, new_id: str) -> list[Unit]:
    """The fallback of a grouped write that failed as a whole: one unit per change.

    `bind_members` is all-or-nothing (one bad member fails the PATCH); a `create_group` with inline
    binds becomes a bare create followed by single adds.
    """
    if unit.op == "create_group":
        create, *members = unit.changes
        bare = [Unit(id=f"{new_id}.0", op="create_group", changes=[create])]
        adds = [
            Unit(id=f"{new_id}.{i + 1}", op="add_ref", changes=[c], after=[create.id])
            for i, c in enumerate(members)
        ]
        return bare + adds
    return [Unit(id=f"{new_id}.{i}", op="add_ref", changes=[c]) for i, c in enumerate(unit.changes)]


def can_split(unit: Unit) -> bool:
    return (unit.op == "bind_members" and len(unit.changes) > 1) or (
        unit.op == "create_group" and len(unit.changes) > 1
    )


# ---- requests ------------------------------------------------------------------------------------


def build_requests(unit: Unit, ids: Ids, graph_url: str) -> list[Request]:
    """The Graph request(s) that carry out a unit, in order. Raises `UnresolvedId`."""
    change = unit.changes[0]
    ref_base = graph_url.rstrip("/") + "/directoryObjects/"
    if isinstance(change, RoleChange):
        return [_role_request(change, ids)]
    if isinstance(change, Invite):
        return _invite_requests(change, ids)
    path = f"/{change.subject.kind}s/{_id(change.subject, ids)}" if not isinstance(change, Create) else ""
    if unit.op == "restore":
        return [Request("POST", f"/directory/deletedItems/{_id(change.subject, ids)}/restore")]
    if unit.op == "create_user" and isinstance(change, Create):
        return [Request("POST", "/users", _user_body(change, unit.password or generate_password()))]
    if unit.op == "create_group" and isinstance(change, Create):
        return [Request("POST", "/groups", _group_body(change, unit.changes[1:], ids, ref_base))]
    if unit.op == "delete" and isinstance(change, Remove) and change.purge:
        # Graph docs: directory-deleteditems-delete; a user deleted is kept in deletedItems until then.
        return [
            Request("DELETE", path),
            Request("DELETE", f"/directory/deletedItems/{_id(change.subject, ids)}"),
        ]
    if unit.op == "delete":
        return [Request("DELETE", path)]
    if unit.op == "patch" and isinstance(change, Update | Remove):
        return _patch_requests(change, path)
    if unit.op == "bind_members":
        refs = [ref_base + _other_id(c, ids) for c in unit.changes]
        return [Request("PATCH", path, {"members@odata.bind": refs})]
    if unit.op in ("add_ref", "remove_ref"):
        relation = "members" if change.kind == "membership" else "owners"
        target = _other_id(change, ids)
        if unit.op == "add_ref":
            return [Request("POST", f"{path}/{relation}/$ref", {"@odata.id": ref_base + target})]
        return [Request("DELETE", f"{path}/{relation}/{target}/$ref")]
    if unit.op == "set_manager":
        return [Request("PUT", f"{path}/manager/$ref", {"@odata.id": ref_base + _other_id(change, ids)})]
    if unit.op == "clear_manager":
        return [Request("DELETE", f"{path}/manager/$ref")]
    if unit.op == "license":
        return [Request("POST", f"{path}/assignLicense", license_body(unit.changes))]
    raise ValueError(f"unit {unit.id}: {unit.op} does not carry out {change.action} {change.kind}")


ROLE_ASSIGNMENTS = "/roleManagement/directory/roleAssignments"


def _role_request(change: RoleChange, ids: Ids) -> Request:
    """Graph docs: rbacapplication-post-roleassignments, unifiedroleassignment-delete."""
    if change.action == "remove_role":
        if change.assignment_id is None:
            raise UnresolvedId(f"change {change.id} names no role assignment to remove")
        return Request("DELETE", f"{ROLE_ASSIGNMENTS}/{change.assignment_id}")
    body = {
        "@odata.type": "#microsoft.graph.unifiedRoleAssignment",
        "roleDefinitionId": change.role.id,
        "principalId": _id(change.principal, ids),
        "directoryScopeId": change.directory_scope_id,
    }
    return Request("POST", ROLE_ASSIGNMENTS, body)


def _invite_requests(change: Invite, ids: Ids) -> list[Request]:
    """`POST /invitations` (Graph docs: invitation-post), then the declared attributes the invitation
    cannot carry, written to the user it made: that PATCH is known once Graph answers with its id."""
    invitation = change.invitation
    body: dict[str, Any] = {
        "invitedUserEmailAddress": invitation.email,
        "inviteRedirectUrl": invitation.redirect_url,
        "sendInvitationMessage": invitation.send_message,
        "invitedUserType": "Guest",
    }
    name = change.after.get("displayName")
    if name:
        body["invitedUserDisplayName"] = name
    requests = [Request("POST", "/invitations", body)]
    rest = change.patch
    guest_id = ids.users.get(change.subject.key)
    if rest and guest_id is not None:
        requests.append(Request("PATCH", f"/users/{guest_id}", rest))
    return requests


def created_id(unit: Unit, answer: Any) -> str | None:
    """The id of the object a unit's first request made or brought back, from Graph's answer."""
    if not isinstance(answer, dict) or unit.step != 0:
        return None
    if unit.op == "invite":
        invited = answer.get("invitedUser")
        return str(invited["id"]) if isinstance(invited, dict) and "id" in invited else None
    if unit.op in ("create_user", "create_group", "restore") and "id" in answer:
        return str(answer["id"])
    return None


def lookup_request(unit: Unit) -> Request:
    """Read the object a create conflicted on, by its key, with the attributes the create sent."""
    create = unit.changes[0]
    sent = create.after if isinstance(create, Create) else {}
    kind, key = subject_of(create)
    select = ",".join(["id", *sorted(k for k in sent if "@" not in k)])
    if kind == "user":
        return Request("GET", f"/users/{quote(key, safe='@')}?$select={select}")
    condition = "mailNickname eq '" + key.replace("'", "''") + "'"
    return Request("GET", f"/groups?$filter={quote(condition)}&$select={select}")


def license_body(changes: list[Change]) -> dict[str, Any]:
    """One `assignLicense` body for all license changes of one user or group."""
    add: list[dict[str, Any]] = []
    remove: list[str] = []
    for change in changes:
        if not isinstance(change, LicenseChange):
            raise ValueError(f"{change.id} is no license change")
        if change.action == "remove_license":
            remove.append(change.sku_id)
        else:
            add.append({"skuId": change.sku_id, "disabledPlans": list(change.disabled_plan_ids)})
    return {"addLicenses": add, "removeLicenses": remove}


def referenced_keys(unit: Unit) -> list[ObjectKey]:
    """Every object a unit's requests name: used to tell replication lag from a real 404."""
    keys: list[ObjectKey] = []
    for change in unit.changes:
        keys.append(subject_of(change))
        target = target_of(change)
        if target is not None:
            keys.append(target)
    return keys


def _id(ref: ObjectRef, ids: Ids) -> str:
    # A plan names the live id of what exists; only objects this apply creates need a lookup.
    return ref.id or ids.get(key_of(ref))


def _other_id(change: Change, ids: Ids) -> str:
    other = change.other
    if other is None:
        raise UnresolvedId(f"change {change.id} names no member, owner or manager")
    return _id(other, ids)


def _patch_requests(change: Update | Remove, path: str) -> list[Request]:
    if isinstance(change, Remove):
        body: dict[str, Any] = {"accountEnabled": False}
    else:
        body = {attr: values.get("after") for attr, values in change.diff.items()}
    requests = [Request("PATCH", path, body)] if body else []
    if change.revoke_sessions:
        # Revoke before disabling: if the PATCH then fails, the next plan still shows the disable and
        # repeats both; the other order would leave a disabled user whose sessions were never revoked.
        requests.insert(0, Request("POST", f"{path}/revokeSignInSessions"))
    return requests


def _user_body(change: Create, password: str) -> dict[str, Any]:
    body = dict(change.after)
    upn = body.get("userPrincipalName") or change.subject.key
    body["userPrincipalName"] = upn
    body.setdefault("accountEnabled", True)
    body.setdefault("mailNickname", upn.split("@")[0])
    body.setdefault("displayName", upn.split("@")[0])
    body["passwordProfile"] = {"password": password, "forceChangePasswordNextSignIn": True}
    return body


def _group_body(create: Create, members: list[Change], ids: Ids, ref_base: str) -> dict[str, Any]:
    body = dict(create.after)
    body.setdefault("mailNickname", create.subject.key)
    body.setdefault("displayName", body["mailNickname"])
    body.setdefault("mailEnabled", False)
    body.setdefault("securityEnabled", True)
    for relation, action in (("owners", "add_owner"), ("members", "add_member")):
        refs = [ref_base + _other_id(c, ids) for c in members if c.action == action]
        if refs:
            body[f"{relation}@odata.bind"] = refs
    return body
