"""The bulk read of the tenant into a `LiveState`, in as few requests and resource units as we measured.

Reads, all raw JSON and run concurrently (bench/bench_read.py has the numbers behind the choices):
- `/organization`: tenant id and verified domains; `/subscribedSkus`: SKUs, service plans and seats;
- `/users` with every managed attribute, the licenses and `$expand=manager($select=id)`, 999 a page, in
  ranges of userPrincipalName side by side when there are many;
- `/groups/delta` with `members` and `owners`: every group, its members and owners in a few pages,
  instead of one `/groups/{id}/members` step per group (3 RU and a `$batch` step each). Measured on
  10,000 users, 1,000 groups, 50,000 memberships: the whole read with delta takes 34 requests and 46 RU;
  with per-group `$batch` steps 73 requests and 2,057 RU, and it is slower. Many groups are read as
  delta rounds filtered by id, side by side (`_read_groups`).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from sys import intern
from typing import Any
from urllib.parse import quote

from reconciler.desired.schema import GROUP_ATTRIBUTES, USER_ATTRIBUTES
from reconciler.errors import GraphError
from reconciler.graph.client import GraphClient
from reconciler.graph.errors import error_from_response
from reconciler.graph.reads import PAGE_SIZE, DeltaRound, Json, pages, read_all, read_each, read_many
from reconciler.live import (
    LiveGroup,
    LiveLicense,
    LiveRoleAssignment,
    LiveRoleDefinition,
    LiveSku,
    LiveState,
    LiveUser,
    RolesToRead,
    ServicePlan,
    find_role,
    license_of,
)
from reconciler.progress import ProgressDisplay, Task

# `mail` is where a guest's invited address shows (its key until it is pinned); dict.fromkeys keeps a
# property named twice once.
USER_SELECT = ",".join(
    dict.fromkeys(
        (
            "id",
            *USER_ATTRIBUTES,
            "assignedLicenses",
            "licenseAssignmentStates",
            "onPremisesSyncEnabled",
            "mail",
            "externalUserState",
        )
    )
)
_GROUP_SELECT = ",".join(("id", *GROUP_ATTRIBUTES, "assignedLicenses", "onPremisesSyncEnabled"))
USERS_PATH = f"/users?$select={USER_SELECT}&$expand=manager($select=id)&$top={PAGE_SIZE}"
# Delta tracks any directoryObject-collection relationship selected (Graph docs: group-delta).
GROUPS_DELTA_PATH = f"/groups/delta?$select={_GROUP_SELECT},members,owners"
GROUP_IDS_PATH = f"/groups?$select=id&$top={PAGE_SIZE}"
GROUPS_PATH = f"/groups?$select={_GROUP_SELECT}&$top={PAGE_SIZE}"  # without members (bench/bench_read.py)
SKUS_PATH = "/subscribedSkus?$select=skuId,skuPartNumber,prepaidUnits,consumedUnits,servicePlans"
ORGANIZATION_PATH = "/organization?$select=id,verifiedDomains"
# Graph docs: directory-deleteditems-list (deleted users need User.Read.All; deleted groups Group.Read.All
# or Directory.Read.All).
DELETED_USERS_PATH = f"/directory/deletedItems/microsoft.graph.user?$select={USER_SELECT},deletedDateTime"
DELETED_GROUPS_PATH = f"/directory/deletedItems/microsoft.graph.group?$select={_GROUP_SELECT},deletedDateTime"
ROLE_DEFINITIONS_PATH = "/roleManagement/directory/roleDefinitions?$select=id,displayName,templateId"
ROLE_ASSIGNMENTS_PATH = (
    "/roleManagement/directory/roleAssignments?$select=id,roleDefinitionId,principalId,directoryScopeId"
    f"&$top={PAGE_SIZE}"
)
# Values one `in` may list: Graph caps the terms of a `$filter` (Graph docs: filter-query-parameter, "query
# parameter limitations"; 15 is the cap observed for directory queries).
ROLES_PER_FILTER = 15
# Round trips in flight at once while reading: overlaps latency without nearing Graph's limits (a page of
# users costs 2 resource units of the 8,000 an app may spend in 10 s in a large tenant).
MAX_PARALLEL_READS = 8
# Up to this many groups are read in one sequential delta round (5 pages of 200); more as filtered rounds.
SINGLE_ROUND_GROUPS = 1000
DELTA_FILTER_IDS = 50  # ids a delta `$filter` may name (Graph docs: delta-query-overview)
_USER_TYPE = "#microsoft.graph.user"
_GROUP_TYPE = "#microsoft.graph.group"


async def read_live(
    client: GraphClient, progress: ProgressDisplay | None = None, roles: RolesToRead = ()
) -> LiveState:
    """Read users, groups (members, owners), SKUs and domains, and the directory roles asked for:
    `roles` names them as the YAML does (displayName or templateId), or is "all" (for import);
    roles nobody asked for are never read (SPEC §3).

    Pages are turned into `LiveUser`/`LiveGroup` as they arrive, so the raw JSON of 100,000 users is
    never held at once.
    """
    live, _ = await read_snapshot(client, progress, roles)
    return live


async def read_snapshot(
    client: GraphClient, progress: ProgressDisplay | None = None, roles: RolesToRead = ()
) -> tuple[LiveState, str]:
    """`read_live`, and the deltaLink of its groups round (where the delta cache starts from)."""
    display = progress or ProgressDisplay(enabled=False)
    # One request first, so the concurrent reads below share its token instead of each fetching one.
    organization = await client.get(ORGANIZATION_PATH)
    skus, users, (groups, groups_link), (definitions, assignments) = await asyncio.gather(
        read_all(client, SKUS_PATH),
        _read_users(client, display.task("users")),
        _read_groups(client, display.task("groups")),
        read_roles(client, roles),
    )
    live = LiveState(tenant_id="")
    organization_into(live, organization)
    live.skus = {sku.sku_id: sku for sku in map(sku_from_json, skus)}
    live.users = {user.id: user for user in users}
    live.groups = {group.id: group for group in groups}
    live.role_definitions = {d.id: d for d in definitions}
    live.role_assignments = {a.id: a for a in assignments}
    return live, groups_link


async def read_deleted(client: GraphClient, live: LiveState, users: bool, groups: bool) -> None:
    """The deleted users and groups Graph still keeps (30 days), into `live`: what a plan restores.

    An app that may not list deleted groups (a 403: only GroupMember.Read.All) restores no group; its
    declared groups are then planned as creates, as before."""
    if users:
        found = await read_all(client, DELETED_USERS_PATH)
        live.deleted_users = {u.id: u for u in map(user_from_json, found)}
    if groups:
        response = await client.send("GET", DELETED_GROUPS_PATH)
        if response.status != 403:
            if not response.ok or not isinstance(response.body, dict):
                raise error_from_response("GET", DELETED_GROUPS_PATH, response)
            items = list(response.body.get("value", []))
            link = response.body.get("@odata.nextLink")
            if isinstance(link, str):
                items += await read_all(client, link)
            live.deleted_groups = {g.id: g for g in map(group_from_json, items)}


def organization_into(live: LiveState, page: Json) -> None:
    """The tenant id and verified domains, from `/organization`."""
    organization = (page.get("value") or [{}])[0]
    live.tenant_id = str(organization.get("id", ""))
    domains = organization.get("verifiedDomains") or []
    live.verified_domains = {str(d["name"]).lower() for d in domains if d.get("name")}


async def _read_users(client: GraphClient, task: Task) -> list[LiveUser]:
    users: list[LiveUser] = []
    await read_users_in_ranges(client, USERS_PATH, lambda page: users.extend(map(user_from_json, page)), task)
    return users


async def read_users_in_ranges(
    client: GraphClient, path: str, take: Callable[[list[Json]], None], task: Task | None = None
) -> None:
    """Every user of the `/users` list `path`, each page handed to `take`, in disjoint ranges of
    userPrincipalName read side by side when there are many.

    Paging is sequential (each nextLink comes with the page before it), so one list of 100,000 users is
    101 round trips in a row; ranges paged at once overlap them. `users_ranges` says why every user is
    read exactly once, whatever the tenant's names."""
    ranges = users_ranges(await _count(client, "users"))
    limit = asyncio.Semaphore(MAX_PARALLEL_READS)

    async def read(condition: str | None) -> None:
        filtered = path if condition is None else f"{path}&$filter={quote(condition)}"
        async with limit:
            async for page in pages(client, filtered):
                take(page)
                if task is not None:
                    task.advance(len(page))

    await asyncio.gather(*(read(condition) for condition in ranges))
    if task is not None:
        task.finish()


async def _count(client: GraphClient, collection: str) -> int | None:
    """How many users or groups there are (an advanced query, 1 RU), or None when Graph will not say."""
    response = await client.send("GET", f"/{collection}/$count", headers={"ConsistencyLevel": "eventual"})
    body = response.body
    if response.ok and isinstance(body, int | str) and str(body).strip().isdigit():
        return int(body)
    return None


# Boundaries of the userPrincipalName ranges: letters, since every collation orders them a < b < … < z.
_BOUNDARIES = tuple("bcdefghijklmnopqrstuvwxyz")


def users_ranges(count: int | None) -> list[str | None]:
    """`$filter`s of disjoint userPrincipalName ranges that together hold every user; [None] (one
    unfiltered list) for a tenant of a page or two.

    With boundaries b1 < b2 < … < bn (single letters): `le b1`, `ge b1 and le b2`, …, `ge bn`. Any name
    is in one of them (take the last boundary it is ≥ of), and in one only: to be in two it would have
    to equal a boundary, and no userPrincipalName is a single letter (it holds an @)."""
    if count is None or count <= 2 * PAGE_SIZE:
        return [None]
    key = "userPrincipalName"
    ranges: list[str | None] = [f"{key} le '{_BOUNDARIES[0]}'"]
    ranges += [f"{key} ge '{low}' and {key} le '{high}'" for low, high in itertools.pairwise(_BOUNDARIES)]
    ranges.append(f"{key} ge '{_BOUNDARIES[-1]}'")
    return ranges


async def _read_groups(client: GraphClient, task: Task) -> tuple[list[LiveGroup], str]:
    """Every group, its members and owners; and a deltaLink to follow from (for the cache).

    A delta round is sequential and its pages hold at most 200 groups (fewer when a large group's
    members are sliced), so many groups are read as delta rounds filtered to 50 ids each (Graph's
    limit), all of them as `$batch` steps, after a list of their ids. The deltaLink is then taken
    first with `$deltatoken=latest`: a change made during the read is seen again next time, which is
    harmless (delta answers carry current values)."""
    merged = DeltaGroups()
    count = await _count(client, "groups")
    if count is None or count <= SINGLE_ROUND_GROUPS:
        round_ = DeltaRound(client, GROUPS_DELTA_PATH)
        async for page in round_.pages():
            merged.add(page)
            task.advance(len(page))
        task.finish()
        return list(merged.groups.values()), round_.delta_link or ""
    link = await latest_delta_link(client, GROUPS_DELTA_PATH)
    ids = sorted(group["id"] for group in await read_all(client, GROUP_IDS_PATH))
    chunks = [ids[n : n + DELTA_FILTER_IDS] for n in range(0, len(ids), DELTA_FILTER_IDS)]
    paths = {
        str(n): f"{GROUPS_DELTA_PATH}&$filter={quote(_ids_filter(chunk))}" for n, chunk in enumerate(chunks)
    }

    def take(_: str, items: list[Json]) -> None:
        merged.add(items)
        task.advance(len(items))

    await read_each(client, paths, take, concurrency=MAX_PARALLEL_READS)
    task.finish()
    return list(merged.groups.values()), link


def _ids_filter(ids: list[str]) -> str:
    return " or ".join(f"id eq '{object_id}'" for object_id in ids)


async def latest_delta_link(client: GraphClient, path: str) -> str:
    """A delta link from now on, without reading any object (Graph docs: delta-query-overview)."""
    page = await client.get(f"{path}&$deltatoken=latest")
    link = page.get("@odata.deltaLink")
    if not isinstance(link, str):
        raise GraphError(f"Graph answered {path.split('?', 1)[0]}?$deltatoken=latest without a deltaLink")
    return link


async def read_roles(
    client: GraphClient, roles: RolesToRead
) -> tuple[list[LiveRoleDefinition], list[LiveRoleAssignment]]:
    """The role definitions, then the assignments of the roles asked for: a `roleDefinitionId in (…)`
    `$filter` per `ROLES_PER_FILTER` roles, all of them `$batch` steps, 999 a page. 500 assignments of 16
    roles take 3 requests (tests/e2e/test_roles_read_budget.py)."""
    if not roles:
        return [], []
    definitions = [role_definition_from_json(d) for d in await read_all(client, ROLE_DEFINITIONS_PATH)]
    if roles == "all":
        return definitions, [
            role_assignment_from_json(a) for a in await read_all(client, ROLE_ASSIGNMENTS_PATH)
        ]
    wanted = sorted({found.id for name in roles if (found := find_role(definitions, name)) is not None})
    # As many filters as the cap needs, the roles spread evenly over them (pages of similar size).
    filters = -(-len(wanted) // ROLES_PER_FILTER)
    chunks = [wanted[n::filters] for n in range(filters)]
    paths = {
        str(n): f"{ROLE_ASSIGNMENTS_PATH}&$filter={quote(_role_filter(chunk))}"
        for n, chunk in enumerate(chunks)
    }
    answers = await read_many(client, paths) if paths else {}
    return definitions, [role_assignment_from_json(a) for items in answers.values() for a in items]


def _role_filter(role_ids: list[str]) -> str:
    return "roleDefinitionId in ({})".format(", ".join(f"'{role_id}'" for role_id in role_ids))


def role_definition_from_json(item: Json) -> LiveRoleDefinition:
    return LiveRoleDefinition(
        id=item["id"],
        display_name=item.get("displayName") or "",
        template_id=item.get("templateId") or item["id"],
    )


def role_assignment_from_json(item: Json) -> LiveRoleAssignment:
    return LiveRoleAssignment(
        id=item["id"],
        role_definition_id=item["roleDefinitionId"],
        principal_id=item["principalId"],
        directory_scope_id=item.get("directoryScopeId") or "/",
    )


class DeltaGroups:
    """Groups from `/groups/delta` rounds: `members@delta` slices and `owners@delta` merged, removed
    objects dropped.

    Starting from `groups` (a cached snapshot), a later round's changes are merged into it: a changed
    group carries its selected properties again, and the members and owners added or removed since."""

    def __init__(self, groups: dict[str, LiveGroup] | None = None) -> None:
        self.groups: dict[str, LiveGroup] = groups if groups is not None else {}

    def add(self, items: list[Json]) -> None:
        for item in items:
            if "@removed" in item:
                self.groups.pop(item["id"], None)
                continue
            group = self.groups.get(item["id"])
            if group is None:
                group = self.groups[item["id"]] = group_from_json(item)
            else:
                # A repeated group (the next slice of its members, or a later change) carries its
                # properties again.
                for name, value in set_attributes(item, GROUP_ATTRIBUTES, every=True).items():
                    if value is None:
                        group.attrs.pop(name, None)
                    else:
                        group.attrs[name] = value
                if "mailNickname" in item:
                    group.mail_nickname = item["mailNickname"] or ""
                if "assignedLicenses" in item:
                    group.licenses = _licenses(item["assignedLicenses"] or [])
                if "onPremisesSyncEnabled" in item:
                    group.on_premises_sync = bool(item["onPremisesSyncEnabled"])
            add_members(group, item.get("members@delta") or [])
            add_owners(group, item.get("owners@delta") or [])


def add_owners(group: LiveGroup, owners: list[Json]) -> None:
    for owner in owners:
        # Users only: YAML owners are UPNs, and an app owning a group is not entraform's to remove.
        if _type(owner) not in ("", _USER_TYPE):
            continue
        if "@removed" in owner:
            group.owner_ids.discard(owner["id"])
        else:
            group.owner_ids.add(intern(owner["id"]))


def add_members(group: LiveGroup, members: list[Json]) -> None:
    for member in members:
        kind = _type(member)
        ids = (
            group.member_user_ids
            if kind == _USER_TYPE
            else group.member_group_ids
            if kind == _GROUP_TYPE
            else None
        )
        if ids is None:
            continue  # devices, contacts, service principals: not managed
        if "@removed" in member:
            ids.discard(member["id"])
        else:
            ids.add(intern(member["id"]))


def sku_from_json(sku: Json) -> LiveSku:
    return LiveSku(
        sku_id=sku["skuId"],
        part_number=sku.get("skuPartNumber") or "",
        enabled=int((sku.get("prepaidUnits") or {}).get("enabled") or 0),
        consumed=int(sku.get("consumedUnits") or 0),
        service_plans=[
            ServicePlan(id=p["servicePlanId"], name=p.get("servicePlanName") or "")
            for p in sku.get("servicePlans") or []
        ],
    )


def set_attributes(item: Json, names: tuple[str, ...], every: bool = False) -> dict[str, Any]:
    """The attributes `item` sets: a null is left out, as are a nested object's null keys and the object
    when it sets none (every reader asks with `.get`; 100,000 users carry 15 null extension attributes
    each, 150 MB kept for nothing). `every`: the nulls too, for a delta item clearing what it names."""
    attrs: dict[str, Any] = {}
    for name in names:
        value = item.get(name)
        if isinstance(value, dict):
            value = {key: inner for key, inner in value.items() if inner is not None} or None
        if value is not None or (every and name in item):
            attrs[name] = value
    return attrs


def user_from_json(user: Json) -> LiveUser:
    manager = user.get("manager")
    direct, inherited = _user_licenses(user)
    return LiveUser(
        id=intern(user["id"]),
        upn=user["userPrincipalName"],
        attrs=set_attributes(user, USER_ATTRIBUTES),
        manager_id=intern(manager["id"]) if isinstance(manager, dict) and manager.get("id") else None,
        on_premises_sync=bool(user.get("onPremisesSyncEnabled")),
        direct_licenses=direct,
        inherited_sku_ids=inherited,
        mail=user.get("mail"),
        external_user_state=user.get("externalUserState"),
        deleted_at=user.get("deletedDateTime"),
    )


def _user_licenses(user: Json) -> tuple[dict[str, LiveLicense], frozenset[str]]:
    """Direct assignments and group-inherited SKUs, told apart by `licenseAssignmentStates`."""
    states: list[Json] | None = user.get("licenseAssignmentStates")
    if states is None:
        # No states to tell them apart: every assigned license counts as direct.
        return _licenses(user.get("assignedLicenses") or []), frozenset()
    direct = _licenses([s for s in states if not s.get("assignedByGroup")])
    inherited = frozenset(s["skuId"] for s in states if s.get("assignedByGroup"))
    return direct, inherited


def _licenses(assigned: list[Json]) -> dict[str, LiveLicense]:
    return {a["skuId"]: license_of(a["skuId"], frozenset(a.get("disabledPlans") or [])) for a in assigned}


def group_from_json(group: Json) -> LiveGroup:
    """A group without members and owners (they come from other reads)."""
    return LiveGroup(
        id=intern(group["id"]),
        mail_nickname=group.get("mailNickname") or "",
        attrs=set_attributes(group, GROUP_ATTRIBUTES),
        licenses=_licenses(group.get("assignedLicenses") or []),
        on_premises_sync=bool(group.get("onPremisesSyncEnabled")),
        deleted_at=group.get("deletedDateTime"),
    )


def _type(item: Json) -> str:
    return str(item.get("@odata.type", ""))
