"""The bulk read: raw Graph JSON (paged, delta slices, $batch) → `LiveState`."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from graph_fakes import BASE, client_for, reply

from reconciler.live_read import read_live, user_from_json

USER = "#microsoft.graph.user"
GROUP = "#microsoft.graph.group"
SKU_E3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"
SKU_E5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"
ORG = {"id": "tenant-1", "verifiedDomains": [{"name": "Contoso.example"}, {"name": "fabrikam.example"}]}
SKUS = [
    {
        "skuId": SKU_E3,
        "skuPartNumber": "ENTERPRISEPACK",
        "consumedUnits": 3,
        "prepaidUnits": {"enabled": 25},
        "servicePlans": [{"servicePlanId": "p-yammer", "servicePlanName": "YAMMER_ENTERPRISE"}],
    }
]
USERS = [
    {
        "id": "u1",
        "userPrincipalName": "Ada@contoso.example",
        "displayName": "Ada",
        "jobTitle": None,
        "onPremisesSyncEnabled": None,
        "assignedLicenses": [
            {"skuId": SKU_E3, "disabledPlans": ["p-yammer"]},
            {"skuId": SKU_E5, "disabledPlans": []},
        ],
        "licenseAssignmentStates": [
            {"skuId": SKU_E3, "assignedByGroup": None, "disabledPlans": ["p-yammer"], "state": "Active"},
            {"skuId": SKU_E5, "assignedByGroup": "g1", "disabledPlans": [], "state": "Active"},
        ],
        "manager": {"@odata.type": USER, "id": "u2"},
    },
    {
        "id": "u2",
        "userPrincipalName": "grace@contoso.example",
        "onPremisesSyncEnabled": True,
        "assignedLicenses": [],
    },
    {
        "id": "u3",
        "userPrincipalName": "linus@contoso.example",
        "assignedLicenses": [],
        "licenseAssignmentStates": [],
    },
]
GROUPS = [
    {
        "id": "g1",
        "mailNickname": "grp-eng",
        "displayName": "Eng",
        "assignedLicenses": [{"skuId": SKU_E5, "disabledPlans": []}],
    },
    {"id": "g2", "mailNickname": "grp-platform", "displayName": "Platform"},
    {"id": "g3", "mailNickname": "grp-empty", "displayName": "Empty"},
]
MEMBERS = {
    "g1": [
        {"@odata.type": USER, "id": "u1"},
        {"@odata.type": USER, "id": "u3"},
        {"@odata.type": GROUP, "id": "g2"},
    ],
    "g2": [{"@odata.type": USER, "id": "u2"}, {"@odata.type": "#microsoft.graph.device", "id": "d1"}],
    "g3": [],
}
OWNERS = {
    "g1": [
        {"@odata.type": USER, "id": "u2"},
        {"@odata.type": "#microsoft.graph.servicePrincipal", "id": "sp"},
    ]
}
FORMER_OWNER = {"@odata.type": USER, "id": "u3"}


def _page(request: httpx.Request, items: list[Any], size: int, delta: bool = False) -> httpx.Response:
    query = parse_qs(urlsplit(str(request.url)).query)
    start = int(query.get("$skiptoken", ["0"])[0])
    body: dict[str, Any] = {"value": items[start : start + size]}
    if start + size < len(items):
        base = str(request.url).split("?")[0]
        body["@odata.nextLink"] = f"{base}?$skiptoken={start + size}"
    elif delta:
        body["@odata.deltaLink"] = f"{BASE}/groups/delta?$deltatoken=t"
    return reply(200, body)


def _delta_items() -> list[dict[str, Any]]:
    """Groups as groups/delta sends them: g1's members and owners in two slices, a removed group,
    member and owner."""
    g1, g2, g3 = (dict(g) for g in GROUPS)
    first = {**g1, "members@delta": MEMBERS["g1"][:2], "owners@delta": OWNERS["g1"] + [FORMER_OWNER]}
    second = {
        "id": "g1",
        "members@delta": [
            MEMBERS["g1"][2],
            {"@odata.type": USER, "id": "gone", "@removed": {"reason": "deleted"}},
        ],
        "owners@delta": [{**FORMER_OWNER, "@removed": {"reason": "deleted"}}],
    }
    return [
        first,
        {**g2, "members@delta": MEMBERS["g2"]},
        {"id": "g9", "@removed": {"reason": "changed"}},
        g3,
        second,
    ]


class FakeTenant:
    def __init__(self, user_count: int = 3) -> None:
        self.paths: list[str] = []
        self.user_count = user_count

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1.0")
        self.paths.append(f"{request.method} {path}")
        query = parse_qs(urlsplit(str(request.url)).query)
        if path == "/organization":
            return reply(200, {"value": [ORG]})
        if path == "/subscribedSkus":
            return reply(200, {"value": SKUS})
        if path in ("/users/$count", "/groups/$count"):
            assert request.headers["ConsistencyLevel"] == "eventual"
            count = self.user_count if path == "/users/$count" else len(GROUPS)
            return httpx.Response(200, text=str(count), headers={"content-type": "text/plain"})
        if path == "/users":
            assert "$skiptoken" in query or query["$expand"] == ["manager($select=id)"]
            return _page(request, self._users(query), 2)
        if path == "/groups/delta":
            return _page(request, _delta_items(), 2, delta=True)
        if path == "/groups":
            return _page(request, GROUPS, 2)
        raise AssertionError(f"unexpected {request.method} {request.url}")

    def _users(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        """USERS, or those in the range of a `userPrincipalName ge 'x' and … le 'y'` filter."""
        condition = (query.get("$filter") or [""])[0]
        if not condition:
            return USERS
        low = re.search(r"ge '(\w)'", condition)
        high = re.search(r"le '(\w)'", condition)
        return [
            u
            for u in USERS
            if (not low or u["userPrincipalName"] >= low.group(1))
            and (not high or u["userPrincipalName"] <= high.group(1))
        ]


def test_read_live_builds_the_state() -> None:
    tenant = FakeTenant()
    live = asyncio.run(read_live(client_for(tenant)))
    assert live.tenant_id == "tenant-1"
    assert live.verified_domains == {"contoso.example", "fabrikam.example"}
    assert set(live.users) == {"u1", "u2", "u3"}
    ada = live.users["u1"]
    assert ada.key == "ada@contoso.example" and ada.manager_id == "u2"
    assert set(ada.direct_licenses) == {SKU_E3}
    assert ada.direct_licenses[SKU_E3].disabled_plans == frozenset({"p-yammer"})
    assert ada.inherited_sku_ids == frozenset({SKU_E5})
    assert ada.attrs["displayName"] == "Ada" and "jobTitle" not in ada.attrs  # null: not kept
    assert live.users["u2"].on_premises_sync and live.users["u2"].manager_id is None
    assert set(live.groups) == {"g1", "g2", "g3"}
    g1 = live.groups["g1"]
    assert g1.member_user_ids == {"u1", "u3"} and g1.member_group_ids == {"g2"}
    assert g1.owner_ids == {"u2"}
    assert set(g1.licenses) == {SKU_E5}
    assert live.groups["g2"].member_user_ids == {"u2"}
    assert live.groups["g3"].member_user_ids == set()
    assert live.skus[SKU_E3].part_number == "ENTERPRISEPACK" and live.skus[SKU_E3].enabled == 25
    assert live.skus[SKU_E3].service_plans[0].name == "YAMMER_ENTERPRISE"


def test_without_license_states_every_license_counts_as_direct() -> None:
    user = user_from_json(
        {"id": "u", "userPrincipalName": "u@x", "assignedLicenses": [{"skuId": SKU_E3, "disabledPlans": []}]}
    )
    assert set(user.direct_licenses) == {SKU_E3} and user.inherited_sku_ids == frozenset()


def test_owners_come_with_the_groups_delta_round() -> None:
    """One read for owners too: owners@delta slices merged, a removed owner dropped, an app owner not
    kept (YAML owners are users), and no per-group owners request."""
    tenant = FakeTenant()
    live = asyncio.run(read_live(client_for(tenant)))
    assert live.groups["g1"].owner_ids == {"u2"}
    assert not [p for p in tenant.paths if "owners" in p or p == "POST /$batch"]


def test_many_users_are_read_in_disjoint_ranges_side_by_side() -> None:
    tenant = FakeTenant(user_count=5000)
    live = asyncio.run(read_live(client_for(tenant)))
    assert set(live.users) == {"u1", "u2", "u3"}  # each once, whatever range it fell in
    ranges = [p for p in tenant.paths if p == "GET /users"]
    assert len(ranges) >= len("bcdefghijklmnopqrstuvwxyz") + 1


def test_every_user_name_falls_in_exactly_one_range() -> None:
    """users_ranges' claim, checked over names of every shape a UPN's local part may take."""
    from reconciler.live_read import users_ranges

    conditions = [c for c in users_ranges(10_000) if c]
    bounds = [re.findall(r"(ge|le) '(\w)'", c) for c in conditions]
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.-_!#^~"
    names = [f"{a}{b}x@contoso.example" for a in alphabet for b in "a~Z0"] + ["z@x.y", "zz@x.y", "b@x.y"]
    for order in (str, str.lower):  # a case-sensitive and a case-insensitive collation
        for name in names:
            inside = [
                all((order(name) >= order(v)) if op == "ge" else (order(name) <= order(v)) for op, v in cond)
                for cond in bounds
            ]
            assert inside.count(True) == 1, (name, order)
