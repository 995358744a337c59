"""`entraform show user UPN | group NICK`: one object as the tenant sees it, in a handful of requests.

A user: attributes (marked where git disagrees), the manager chain up to the top, direct reports,
direct and transitive groups (each transitive one with the path that makes it), direct and inherited
licenses (and the group), directory roles (direct and through groups) and the last sign-in where the
app may read it. A group: attributes, owners, direct and transitive members, licenses, the groups it is
in and the roles it holds. The relations come in `$batch` envelopes (`transitiveMemberOf`,
`transitiveMembers`, `memberOf` of each group on a path).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from reconciler.desired.model import DesiredGroup, DesiredUser
from reconciler.desired.schema import GROUP_ATTRIBUTES, USER_ATTRIBUTES
from reconciler.errors import EntraformError, GraphError
from reconciler.graph.client import GraphClient
from reconciler.graph.reads import PAGE_SIZE, Json, read_many
from reconciler.reports.signins import UNAVAILABLE, last_sign_in

MAX_CHAIN = 1000  # user-list-manager: `$levels=max` reaches at most this far
_GROUP_FIELDS = "id,mailNickname,displayName,isAssignableToRole,securityEnabled,groupTypes"
_USER_FIELDS = "id,userPrincipalName,displayName"
_GROUPS_PAGE = f"$select={_GROUP_FIELDS}&$top={PAGE_SIZE}"


@dataclass(frozen=True)
class Attribute:
    name: str
    tenant: Any
    git: Any = None
    differs: bool = False  # the YAML declares this attribute with another value


@dataclass(frozen=True)
class GroupIn:
    nickname: str
    display_name: str
    path: tuple[str, ...]  # mailNicknames from a direct group to this one ((nick,) when direct)


@dataclass(frozen=True)
class License:
    sku: str
    via: str | None  # the group's mailNickname for an inherited license
    disabled_plans: tuple[str, ...]


@dataclass(frozen=True)
class RoleHeld:
    role: str
    scope: str
    via: str | None  # the group's mailNickname when held through a group


@dataclass
class Shown:
    kind: str  # "user" or "group"
    key: str
    id: str
    attributes: list[Attribute] = field(default_factory=list)
    declared: bool = False
    managers: list[str] = field(default_factory=list)  # the chain, nearest first
    direct_reports: int = 0
    groups: list[GroupIn] = field(default_factory=list)  # direct first, then transitive
    licenses: list[License] = field(default_factory=list)
    roles: list[RoleHeld] = field(default_factory=list)
    last_sign_in: str | None = None  # None: never signed in, or not readable (sign_in_readable)
    sign_in_readable: bool = True
    owners: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)  # direct: UPNs and group:NICK
    transitive_members: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: int = 0


# What Graph says of a guest besides its attributes: its invited address and whether it redeemed.
_GUEST_ATTRIBUTES = ("mail", "externalUserState")


async def show_user(
    client: GraphClient, upn: str, declared_user: Callable[[tuple[str, ...]], DesiredUser | None]
) -> Shown:
    """`declared_user(keys)`: the user git declares under the first of these keys that it declares."""
    start = client.requests_sent
    key = quote(upn, safe="@")
    # Two round trips: what can be asked by UPN side by side, then what needs the user's id and groups.
    try:
        (user, sign_in_readable), managers, relations = await asyncio.gather(
            _read_user(client, upn),
            _manager_chain(client, key),
            read_many(
                client,
                {
                    "direct": f"/users/{key}/memberOf/microsoft.graph.group?{_GROUPS_PAGE}",
                    "transitive": f"/users/{key}/transitiveMemberOf/microsoft.graph.group?{_GROUPS_PAGE}",
                    "reports": f"/users/{key}/directReports?$select=id&$top={PAGE_SIZE}",
                    "definitions": "/roleManagement/directory/roleDefinitions?$select=id,displayName",
                    "skus": "/subscribedSkus?$select=skuId,skuPartNumber,servicePlans",
                },
            ),
        )
    except GraphError as exc:
        if exc.status == 404:
            raise EntraformError(f"show user {upn}: the tenant has no such user") from None
        raise
    uid = str(user["id"])
    # A guest is declared under its invited address (its `mail`) until it names its UPN.
    keys = (upn.lower(), str(user.get("mail") or "").lower())
    declared = declared_user(keys)
    shown = Shown("user", str(user["userPrincipalName"]), uid, declared=declared is not None)
    shown_names = (
        (*USER_ATTRIBUTES, *_GUEST_ATTRIBUTES) if user.get("userType") == "Guest" else USER_ATTRIBUTES
    )
    shown.attributes = _attributes(user, shown_names, declared.attrs if declared else {})
    shown.sign_in_readable = sign_in_readable
    if sign_in_readable:
        shown.last_sign_in = last_sign_in(user)
    else:
        shown.notes.append(UNAVAILABLE)
    shown.managers = managers
    shown.direct_reports = len(relations["reports"])
    direct = {g["id"]: g for g in relations["direct"]}
    transitive = {g["id"]: g for g in relations["transitive"]}
    # Role-assignable groups cannot nest: a user holds a role through its direct groups only.
    holding = [gid for gid, g in direct.items() if g.get("isAssignableToRole")]
    indirect = [gid for gid in transitive if gid not in direct]
    second = {"roles": _role_assignments(uid)}
    second |= {f"roles:{gid}": _role_assignments(gid) for gid in holding}
    if indirect:
        # Each group's parents among the transitive ones: the edges of the paths.
        second |= {
            f"parents:{gid}": f"/groups/{gid}/memberOf/microsoft.graph.group?$select=id&$top={PAGE_SIZE}"
            for gid in [*direct, *indirect]
        }
    more = await read_many(client, second)
    parents = {k.removeprefix("parents:"): v for k, v in more.items() if k.startswith("parents:")}
    shown.groups = _group_paths(direct, transitive, parents)
    names = {g["id"]: str(g.get("mailNickname") or g["id"]) for g in [*direct.values(), *transitive.values()]}
    shown.licenses = _licenses(user, relations["skus"], names)
    role_names = {str(d["id"]): str(d.get("displayName") or d["id"]) for d in relations["definitions"]}
    shown.roles = [_role(a, role_names, None) for a in more["roles"]]
    for gid in holding:
        shown.roles += [_role(a, role_names, names[gid]) for a in more[f"roles:{gid}"]]
    shown.requests = client.requests_sent - start
    return shown


async def _read_user(client: GraphClient, upn: str) -> tuple[Json, bool]:
    """The user and whether its last sign-in could be read. Graph refuses signInActivity on a user
    addressed by UPN (only by id) but lists it, so the user is read as a list filtered by UPN."""
    fields = ",".join(
        dict.fromkeys(
            ("id", *USER_ATTRIBUTES, *_GUEST_ATTRIBUTES, "licenseAssignmentStates", "onPremisesSyncEnabled")
        )
    )
    condition = quote("userPrincipalName eq '" + upn.replace("'", "''") + "'")
    path = f"/users?$filter={condition}&$select={fields}"
    readable = True
    try:
        found = await client.get(f"{path},signInActivity")
    except GraphError as exc:
        if exc.status != 403:
            raise
        readable = False
        found = await client.get(path)
    users = found.get("value") or []
    if not users:
        raise EntraformError(f"show user {upn}: the tenant has no such user")
    return users[0], readable


async def show_group(
    client: GraphClient, nickname: str, declared_group: Callable[[str], DesiredGroup | None]
) -> Shown:
    start = client.requests_sent
    fields = ",".join(("id", *GROUP_ATTRIBUTES, "assignedLicenses", "onPremisesSyncEnabled"))
    condition = quote("mailNickname eq '" + nickname.replace("'", "''") + "'")
    found = (await client.get(f"/groups?$filter={condition}&$select={fields}")).get("value") or []
    if not found:
        raise EntraformError(f"show group {nickname}: the tenant has no group with this mailNickname")
    group = found[0]
    gid = str(group["id"])
    declared = declared_group(nickname.lower())
    shown = Shown("group", str(group.get("mailNickname") or nickname), gid, declared=declared is not None)
    shown.attributes = _attributes(group, GROUP_ATTRIBUTES, declared.attrs if declared else {})
    member_fields = "id,userPrincipalName,mailNickname"
    relations = await read_many(
        client,
        {
            "owners": f"/groups/{gid}/owners?$select={_USER_FIELDS}&$top={PAGE_SIZE}",
            "members": f"/groups/{gid}/members?$select={member_fields}&$top={PAGE_SIZE}",
            "transitive": f"/groups/{gid}/transitiveMembers?$select={member_fields}&$top={PAGE_SIZE}",
            "parents": f"/groups/{gid}/memberOf/microsoft.graph.group?{_GROUPS_PAGE}",
            "roles": _role_assignments(gid),
            "definitions": "/roleManagement/directory/roleDefinitions?$select=id,displayName",
            "skus": "/subscribedSkus?$select=skuId,skuPartNumber,servicePlans",
        },
    )
    shown.owners = sorted(str(o.get("userPrincipalName") or o["id"]) for o in relations["owners"])
    shown.members = sorted(_label(m) for m in relations["members"])
    shown.transitive_members = sorted(_label(m) for m in relations["transitive"])
    shown.groups = [
        GroupIn(
            str(p.get("mailNickname") or p["id"]),
            str(p.get("displayName") or ""),
            (str(p.get("mailNickname") or p["id"]),),
        )
        for p in relations["parents"]
    ]
    skus = {s["skuId"]: s for s in relations["skus"]}
    shown.licenses = [
        License(
            _sku_name(skus, a["skuId"]), None, _plan_names(skus, a["skuId"], a.get("disabledPlans") or [])
        )
        for a in group.get("assignedLicenses") or []
    ]
    role_names = {str(d["id"]): str(d.get("displayName") or d["id"]) for d in relations["definitions"]}
    shown.roles = [_role(a, role_names, None) for a in relations["roles"]]
    shown.requests = client.requests_sent - start
    return shown


def _role(assignment: Json, names: dict[str, str], via: str | None) -> RoleHeld:
    role_id = str(assignment["roleDefinitionId"])
    return RoleHeld(names.get(role_id, role_id), str(assignment.get("directoryScopeId") or "/"), via)


def _role_assignments(principal_id: str) -> str:
    condition = quote(f"principalId eq '{principal_id}'")
    select = "$select=roleDefinitionId,directoryScopeId"
    return f"/roleManagement/directory/roleAssignments?$filter={condition}&{select}"


def _label(member: Json) -> str:
    if member.get("userPrincipalName"):
        return str(member["userPrincipalName"])
    return f"group:{member.get('mailNickname') or member['id']}"


def _attributes(obj: Json, names: tuple[str, ...], declared: dict[str, Any]) -> list[Attribute]:
    out = []
    for name in names:
        tenant = obj.get(name)
        if isinstance(tenant, dict):  # employeeOrgData, onPremisesExtensionAttributes: the keys set
            tenant = {key: value for key, value in tenant.items() if value is not None} or None
        if name in declared:
            git = list(declared[name]) if isinstance(declared[name], tuple) else declared[name]
            if isinstance(git, dict):  # managed key by key: only the keys written are compared
                differs = any((tenant or {}).get(key) != value for key, value in git.items())
            else:
                differs = git != tenant and not (
                    name in ("userPrincipalName", "mailNickname") and str(git).lower() == str(tenant).lower()
                )
            out.append(Attribute(name, tenant, git, differs))
        elif tenant not in (None, [], ""):
            out.append(Attribute(name, tenant))
    return out


async def _manager_chain(client: GraphClient, key: str) -> list[str]:
    """The managers up to the top, nearest first, in one request (user-list-manager: `$levels=max`, which
    asks for `$count=true` and ConsistencyLevel: eventual to select the managers' properties)."""
    expand = f"manager($levels=max;$select={_USER_FIELDS})"
    path = f"/users/{key}?$select=id&$expand={quote(expand, safe='$=;,()')}&$count=true"
    body: Json = await client.get(path, headers={"ConsistencyLevel": "eventual"})
    chain: list[str] = []
    seen = {str(body.get("id"))}
    while isinstance(body.get("manager"), dict) and len(chain) < MAX_CHAIN:
        body = body["manager"]
        if str(body.get("id")) in seen:
            break
        seen.add(str(body.get("id")))
        chain.append(str(body.get("userPrincipalName") or body.get("id")))
    return chain


def _group_paths(
    direct: dict[str, Json], transitive: dict[str, Json], parents: dict[str, list[Json]]
) -> list[GroupIn]:
    """Direct groups, then each transitive one with the shortest path of groups that leads to it."""

    def nick(group_id: str) -> str:
        group = direct.get(group_id) or transitive.get(group_id) or {}
        return str(group.get("mailNickname") or group_id)

    paths: dict[str, tuple[str, ...]] = {gid: (nick(gid),) for gid in direct}
    frontier = sorted(direct, key=nick)
    while frontier:
        following = []
        for child in frontier:
            for parent in sorted((str(p["id"]) for p in parents.get(child, [])), key=nick):
                if parent in transitive and parent not in paths:
                    paths[parent] = (*paths[child], nick(parent))
                    following.append(parent)
        frontier = following
    ordered = sorted(paths.items(), key=lambda item: (len(item[1]), item[1]))
    groups = {**transitive, **direct}
    return [
        GroupIn(nick(gid), str(groups.get(gid, {}).get("displayName") or ""), path) for gid, path in ordered
    ]


def _sku_name(skus: dict[str, Json], sku_id: str) -> str:
    return str(skus.get(sku_id, {}).get("skuPartNumber") or sku_id)


def _plan_names(skus: dict[str, Json], sku_id: str, plan_ids: list[str]) -> tuple[str, ...]:
    names = {
        p["servicePlanId"]: p.get("servicePlanName") or p["servicePlanId"]
        for p in skus.get(sku_id, {}).get("servicePlans") or []
    }
    return tuple(sorted(str(names.get(p, p)) for p in plan_ids))


def _licenses(user: Json, skus_list: list[Json], group_names: dict[str, str]) -> list[License]:
    skus = {s["skuId"]: s for s in skus_list}
    out = []
    for state in user.get("licenseAssignmentStates") or []:
        via = state.get("assignedByGroup")
        name = group_names.get(via, via) if via else None
        out.append(
            License(
                _sku_name(skus, state["skuId"]),
                name,
                _plan_names(skus, state["skuId"], state.get("disabledPlans") or []),
            )
        )
    return sorted(out, key=lambda lic: (lic.via is not None, lic.sku, lic.via or ""))
