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
from typing import Any, Literal
from urllib.parse import quote

from reconciler.plan.model import Change

BIND_LIMIT = 20  # members@odata.bind per PATCH, relationships per POST /groups (Graph docs)
LICENSE_ACTIONS = ("assign_license", "update_license", "remove_license")
PASSWORD_LENGTH = 20

Op = Literal[
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
]
ObjectKind = Literal["user", "group"]
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


def member_key(ref: str) -> ObjectKey:
    """A membership's `member`: a UPN, or `group:NICK` for a nested group."""
    if ref.lower().startswith("group:"):
        return ("group", ref[len("group:") :].lower())
    return ("user", ref.lower())


def subject_of(change: Change) -> ObjectKey:
    """The object a change writes to (the URL's `{id}`)."""
    if change.kind in ("user", "group"):
        return (change.kind, (change.key or "").lower())
    if change.kind == "manager":
        return ("user", (change.user or change.key or "").lower())
    if change.kind == "license" and change.user:
        return ("user", change.user.lower())
    return ("group", (change.group or change.key or "").lower())


def target_of(change: Change) -> ObjectKey | None:
    """The other end of an edge: the member, owner or manager."""
    if change.kind == "membership" and change.member:
        return member_key(change.member)
    if change.kind == "owner" and change.owner:
        return ("user", change.owner.lower())
    if change.kind == "manager" and change.manager:
        return ("user", change.manager.lower())
    return None


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
    new_groups = {subject_of(c)[1]: c for c in changes if c.action == "create" and c.kind == "group"}
    inline: dict[str, list[Change]] = {}
    member_adds: dict[str, list[Change]] = {}
    licenses: dict[ObjectKey, list[Change]] = {}
    singles: list[Change] = []
    for change in changes:
        group = subject_of(change)[1] if change.kind in ("membership", "owner") else ""
        target = target_of(change)
        if (
            change.action in ("add_member", "add_owner")
            and group in new_groups
            and target is not None
            and target[0] == "user"
            and len(inline.setdefault(group, [])) < BIND_LIMIT
        ):
            inline[group].append(change)
        elif change.action == "add_member":
            member_adds.setdefault(group, []).append(change)
        elif change.action in LICENSE_ACTIONS:
            licenses.setdefault(subject_of(change), []).append(change)
        else:
            singles.append(change)

    def first_dependency(change: Change) -> int:
        # Members whose creates finish together go in the same PATCH, so each PATCH is ready early.
        return max((position.get(d, -1) for d in change.depends_on), default=-1)

    drafts: list[tuple[int, Op, list[Change]]] = []
    for change in singles:
        if change.action == "create" and change.kind == "group":
            members = inline.get(subject_of(change)[1], [])
            drafts.append((position[change.id], "create_group", [change, *members]))
        else:
            drafts.append((position[change.id], _single_op(change), [change]))
    for adds in member_adds.values():
        adds.sort(key=lambda c: (first_dependency(c), position[c.id]))
        for start in range(0, len(adds), BIND_LIMIT):
            chunk = adds[start : start + BIND_LIMIT]
            op: Op = "bind_members" if len(chunk) > 1 else "add_ref"
            drafts.append((min(position[c.id] for c in chunk), op, chunk))
    for same_owner in licenses.values():
        drafts.append((position[same_owner[0].id], "license", same_owner))
    drafts.sort(key=lambda d: d[0])
    # Graph refuses to remove a group's last owner, so removals of owners wait for the group's new ones.
    owners_added: dict[str, list[str]] = {}
    for change in changes:
        if change.action == "add_owner":
            owners_added.setdefault(subject_of(change)[1], []).append(change.id)
    units = []
    for i, (_, op, group_changes) in enumerate(drafts):
        first = group_changes[0]
        after = owners_added.get(subject_of(first)[1], []) if first.action == "remove_owner" else []
        units.append(Unit(id=f"u{i + 1:04d}", op=op, changes=group_changes, after=after))
    return units


def _single_op(change: Change) -> Op:
    if change.action == "create":
        return "create_user" if change.kind == "user" else "create_group"
    if change.action in ("update", "disable"):
        return "patch"
    if change.action in ("add_member", "add_owner"):
        return "add_ref"
    if change.action in ("remove_member", "remove_owner"):
        return "remove_ref"
    if change.action == "set_manager":
        return "set_manager"
    if change.action == "clear_manager":
        return "clear_manager"
    return "delete"


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
    if unit.op == "create_user":
        return [Request("POST", "/users", _user_body(change, unit.password or generate_password()))]
    if unit.op == "create_group":
        return [Request("POST", "/groups", _group_body(change, unit.changes[1:], ids, ref_base))]
    if unit.op == "delete":
        return [Request("DELETE", _path(change, ids))]
    if unit.op == "patch":
        return _patch_requests(change, ids)
    if unit.op == "bind_members":
        refs = [ref_base + _target_id(c, ids) for c in unit.changes]
        return [Request("PATCH", _path(change, ids), {"members@odata.bind": refs})]
    if unit.op in ("add_ref", "remove_ref"):
        relation = "members" if change.kind == "membership" else "owners"
        target = _target_id(change, ids)
        group = _path(change, ids)
        if unit.op == "add_ref":
            return [Request("POST", f"{group}/{relation}/$ref", {"@odata.id": ref_base + target})]
        return [Request("DELETE", f"{group}/{relation}/{target}/$ref")]
    if unit.op == "set_manager":
        body = {"@odata.id": ref_base + _target_id(change, ids)}
        return [Request("PUT", f"{_path(change, ids)}/manager/$ref", body)]
    if unit.op == "clear_manager":
        return [Request("DELETE", f"{_path(change, ids)}/manager/$ref")]
    return [Request("POST", f"{_path(change, ids)}/assignLicense", license_body(unit.changes))]


def lookup_request(unit: Unit) -> Request:
    """Read the object a create conflicted on, by its key, with the attributes the create sent."""
    create = unit.changes[0]
    kind, key = subject_of(create)
    select = ",".join(["id", *sorted(k for k in (create.after or {}) if "@" not in k)])
    if kind == "user":
        return Request("GET", f"/users/{quote(key, safe='@')}?$select={select}")
    condition = "mailNickname eq '" + key.replace("'", "''") + "'"
    return Request("GET", f"/groups?$filter={quote(condition)}&$select={select}")


def license_body(changes: list[Change]) -> dict[str, Any]:
    """One `assignLicense` body for all license changes of one user or group."""
    add: list[dict[str, Any]] = []
    remove: list[str] = []
    for change in changes:
        if change.action == "remove_license":
            remove.append(change.sku_id or change.sku or "")
        else:
            add.append(
                {"skuId": change.sku_id or change.sku, "disabledPlans": change.disabled_plan_ids or []}
            )
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


def _path(change: Change, ids: Ids) -> str:
    # A plan names the live id of a change's subject; only objects this apply creates need a lookup.
    kind, key = subject_of(change)
    return f"/{kind}s/{change.object_id or ids.get((kind, key))}"


def _target_id(change: Change, ids: Ids) -> str:
    if change.target_id:
        return change.target_id
    target = target_of(change)
    if target is None:
        raise UnresolvedId(f"change {change.id} names no member, owner or manager")
    return ids.get(target)


def _patch_requests(change: Change, ids: Ids) -> list[Request]:
    path = _path(change, ids)
    if change.action == "disable":
        body: dict[str, Any] = {"accountEnabled": False}
    else:
        body = {attr: values.get("after") for attr, values in (change.diff or {}).items()}
    requests = [Request("PATCH", path, body)] if body else []
    if change.revoke_sessions:
        # Revoke before disabling: if the PATCH then fails, the next plan still shows the disable and
        # repeats both; the other order would leave a disabled user whose sessions were never revoked.
        requests.insert(0, Request("POST", f"{path}/revokeSignInSessions"))
    return requests


def _user_body(change: Change, password: str) -> dict[str, Any]:
    body = dict(change.after or {})
    upn = body.get("userPrincipalName") or change.key or ""
    body["userPrincipalName"] = upn
    body.setdefault("accountEnabled", True)
    body.setdefault("mailNickname", upn.split("@")[0])
    body.setdefault("displayName", upn.split("@")[0])
    body["passwordProfile"] = {"password": password, "forceChangePasswordNextSignIn": True}
    return body


def _group_body(create: Change, members: list[Change], ids: Ids, ref_base: str) -> dict[str, Any]:
    body = dict(create.after or {})
    body.setdefault("mailNickname", create.key)
    body.setdefault("displayName", body["mailNickname"])
    body.setdefault("mailEnabled", False)
    body.setdefault("securityEnabled", True)
    for relation, action in (("owners", "add_owner"), ("members", "add_member")):
        refs = [ref_base + _target_id(c, ids) for c in members if c.action == action]
        if refs:
            body[f"{relation}@odata.bind"] = refs
    return body
