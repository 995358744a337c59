"""The bulk read of the tenant into a `LiveState`, in as few requests and resource units as we measured.

Reads, all raw JSON and run concurrently (bench/bench_read.py has the numbers behind the choices):
- `/organization`: tenant id and verified domains; `/subscribedSkus`: SKUs, service plans and seats;
- `/users` with every managed attribute, the licenses and `$expand=manager($select=id)`, 999 a page;
- `/groups/delta` with `members`: every group and its members in a few pages, instead of one
  `/groups/{id}/members` step per group (3 RU and a `$batch` step each);
- `/groups` with `$expand=owners($select=id)`: owners are few, so the expand (capped at 100) holds
  them all; a group that hits the cap has its owners read in full.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from reconciler.graph.client import GraphClient
from reconciler.graph.reads import PAGE_SIZE, Json, read_all, read_delta, read_many
from reconciler.live import LiveGroup, LiveLicense, LiveSku, LiveState, LiveUser, ServicePlan
from reconciler.progress import ProgressDisplay

# Every user and group attribute the desired-state model can manage (SPEC §3).
USER_ATTRS = (
    "userPrincipalName",
    "displayName",
    "givenName",
    "surname",
    "mailNickname",
    "jobTitle",
    "department",
    "companyName",
    "officeLocation",
    "employeeId",
    "employeeType",
    "streetAddress",
    "city",
    "state",
    "postalCode",
    "country",
    "mobilePhone",
    "businessPhones",
    "otherMails",
    "usageLocation",
    "preferredLanguage",
    "accountEnabled",
)
GROUP_ATTRS = (
    "mailNickname",
    "displayName",
    "description",
    "securityEnabled",
    "mailEnabled",
    "groupTypes",
    "visibility",
    "isAssignableToRole",
    "membershipRule",
    "membershipRuleProcessingState",
)
_USER_SELECT = ",".join(
    ("id", *USER_ATTRS, "assignedLicenses", "licenseAssignmentStates", "onPremisesSyncEnabled")
)
_GROUP_SELECT = ",".join(("id", *GROUP_ATTRS, "assignedLicenses", "onPremisesSyncEnabled"))
USERS_PATH = f"/users?$select={_USER_SELECT}&$expand=manager($select=id)&$top={PAGE_SIZE}"
GROUPS_DELTA_PATH = f"/groups/delta?$select={_GROUP_SELECT},members"
GROUPS_PATH = f"/groups?$select={_GROUP_SELECT}&$top={PAGE_SIZE}"
OWNERS_PATH = f"/groups?$select=id&$expand=owners($select=id)&$top={PAGE_SIZE}"
SKUS_PATH = "/subscribedSkus?$select=skuId,skuPartNumber,prepaidUnits,consumedUnits,servicePlans"
ORGANIZATION_PATH = "/organization?$select=id,verifiedDomains"
EXPAND_CAP = 100  # Graph returns at most 100 related objects through $expand (NOTES §2)
_USER_TYPE = "#microsoft.graph.user"
_GROUP_TYPE = "#microsoft.graph.group"

MembersRead = Literal["delta", "batch"]


async def read_live(
    client: GraphClient, progress: ProgressDisplay | None = None, members: MembersRead = "delta"
) -> LiveState:
    """Read users, groups (members, owners), SKUs and domains; `members="batch"` is kept for the bench."""
    display = progress or ProgressDisplay(enabled=False)
    users_task = display.task("users")
    groups_task = display.task("groups")

    async def groups_and_members() -> tuple[list[Json], dict[str, list[Json]]]:
        if members == "delta":
            groups = _merge_delta(
                await read_delta(client, GROUPS_DELTA_PATH, on_page=lambda p: groups_task.advance(len(p)))
            )
            groups_task.finish()
            return groups, {g["id"]: g.get("members@delta", []) for g in groups}
        groups = await read_all(client, GROUPS_PATH, on_page=lambda p: groups_task.advance(len(p)))
        groups_task.finish()
        members_task = display.task("members", total=len(groups))
        paths = {g["id"]: f"/groups/{g['id']}/members?$select=id&$top={PAGE_SIZE}" for g in groups}
        return groups, await read_many(client, paths, on_progress=members_task.advance)

    # One request first, so the concurrent reads below share its token instead of each fetching one.
    organization = await client.get(ORGANIZATION_PATH)
    skus, users, (groups, members_by_group), owners = await asyncio.gather(
        read_all(client, SKUS_PATH),
        read_all(client, USERS_PATH, on_page=lambda p: users_task.advance(len(p))),
        groups_and_members(),
        _read_owners(client),
    )
    users_task.finish()
    return build_live(organization.get("value", []), skus, users, groups, members_by_group, owners)


async def _read_owners(client: GraphClient) -> dict[str, list[Json]]:
    listed = await read_all(client, OWNERS_PATH)
    owners = {g["id"]: g.get("owners") or [] for g in listed}
    capped = {
        gid: f"/groups/{gid}/owners?$select=id&$top={PAGE_SIZE}"
        for gid, o in owners.items()
        if len(o) >= EXPAND_CAP
    }
    if capped:
        owners.update(await read_many(client, capped))
    return owners


def _merge_delta(items: list[Json]) -> list[Json]:
    """One object per group: slices of `members@delta` merged, removed groups and members dropped."""
    merged: dict[str, Json] = {}
    for item in items:
        if "@removed" in item:
            merged.pop(item["id"], None)
            continue
        group = merged.setdefault(item["id"], {"members@delta": []})
        slice_ = item.get("members@delta") or []
        group.update({k: v for k, v in item.items() if k != "members@delta"})
        group["members@delta"].extend(m for m in slice_ if "@removed" not in m)
    return list(merged.values())


def build_live(
    organizations: list[Json],
    skus: list[Json],
    users: list[Json],
    groups: list[Json],
    members_by_group: dict[str, list[Json]],
    owners_by_group: dict[str, list[Json]],
) -> LiveState:
    """A `LiveState` from the raw JSON of the reads (pure)."""
    org = organizations[0] if organizations else {}
    live = LiveState(tenant_id=str(org.get("id", "")))
    live.verified_domains = {
        str(d["name"]).lower() for d in org.get("verifiedDomains") or [] if d.get("name")
    }
    for sku in skus:
        live.skus[sku["skuId"]] = _sku(sku)
    for user in users:
        live.users[user["id"]] = _user(user)
    for group in groups:
        live.groups[group["id"]] = _group(
            group, members_by_group.get(group["id"], []), owners_by_group.get(group["id"], [])
        )
    return live


def _sku(sku: Json) -> LiveSku:
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


def _user(user: Json) -> LiveUser:
    manager = user.get("manager")
    direct, inherited = _user_licenses(user)
    return LiveUser(
        id=user["id"],
        upn=user["userPrincipalName"],
        attrs={attr: user.get(attr) for attr in USER_ATTRS},
        manager_id=manager.get("id") if isinstance(manager, dict) else None,
        on_premises_sync=bool(user.get("onPremisesSyncEnabled")),
        direct_licenses=direct,
        inherited_sku_ids=inherited,
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
    return {a["skuId"]: LiveLicense(a["skuId"], frozenset(a.get("disabledPlans") or [])) for a in assigned}


def _group(group: Json, members: list[Json], owners: list[Json]) -> LiveGroup:
    return LiveGroup(
        id=group["id"],
        mail_nickname=group.get("mailNickname") or "",
        attrs={attr: group.get(attr) for attr in GROUP_ATTRS},
        member_user_ids={m["id"] for m in members if _type(m) == _USER_TYPE},
        member_group_ids={m["id"] for m in members if _type(m) == _GROUP_TYPE},
        owner_ids={
            o["id"] for o in owners if _type(o) in ("", _USER_TYPE)
        },  # users only: YAML owners are UPNs
        licenses=_licenses(group.get("assignedLicenses") or []),
        on_premises_sync=bool(group.get("onPremisesSyncEnabled")),
    )


def _type(item: dict[str, Any]) -> str:
    return str(item.get("@odata.type", ""))
