"""The `demo` tenant's data equals Contoso's desired state in `state/`, but for exactly the differences
demo_tenant.py documents.

Both sides are read here with plain `yaml.safe_load` (the emulator depends on nothing else of the project,
and this checks the data independently of the loader); then the loader's seed is checked against the data.
"""

from __future__ import annotations

import copy
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from reconciler.emulator import roledefs, skus
from reconciler.emulator.seeds import build_seed
from reconciler.emulator.store import Store

STATE = Path(__file__).resolve().parents[2] / "state"
Entry = dict[str, Any]

# The documented differences (demo_tenant.py, 1 to 7).
NOT_YET_CREATED = {"margaret@contoso.example", "zrinka@contoso.example"}
BREAK_GLASS: Entry = {
    "userPrincipalName": "breakglass@contoso.example",
    "displayName": "Break Glass Administrator",
    "givenName": "Break Glass",
    "surname": "Administrator",
    "mail": "breakglass@contoso.example",
    "jobTitle": "Emergency access account",
    "usageLocation": "US",
}
# What state/ leaves unmanaged: a mailbox and the company name, for every user copied from it.
UNMANAGED = {"companyName": "Contoso Ltd"}


def data() -> dict[str, list[Entry]]:  # users, groups, roleAssignments
    text = resources.files("reconciler.emulator").joinpath("demo_tenant.yaml").read_text(encoding="utf-8")
    document: dict[str, list[Entry]] = yaml.safe_load(text)
    return document


def state() -> tuple[list[Entry], list[Entry]]:
    users: list[Entry] = []
    for path in sorted((STATE / "people").glob("*.yaml")):
        users += yaml.safe_load(path.read_text(encoding="utf-8"))["users"]
    groups: list[Entry] = yaml.safe_load((STATE / "groups.yaml").read_text(encoding="utf-8"))["groups"]
    return users, groups


def state_roles() -> list[Entry]:
    roles: list[Entry] = yaml.safe_load((STATE / "roles.yaml").read_text(encoding="utf-8"))["roles"]
    return roles


def assigned(licenses: list[Entry]) -> list[Entry]:
    """state/'s `licenses` ({sku, disabledPlans} by name) as Graph's `assignedLicenses` (by id)."""
    return [
        {
            "disabledPlans": [skus.PLANS[plan] for plan in lic.get("disabledPlans", [])],
            "skuId": skus.CATALOGUE[lic["sku"]][0],
        }
        for lic in licenses
    ]


def user_from_state(user: Entry) -> Entry:
    entry = {k: v for k, v in user.items() if k not in ("manager", "licenses", "renamedFrom")}
    entry = {**UNMANAGED, **entry, "mail": user["userPrincipalName"]}
    if user.get("manager"):
        entry["manager"] = user["manager"]
    if user.get("licenses"):
        entry["assignedLicenses"] = assigned(user["licenses"])
    return entry


def group_from_state(group: Entry) -> Entry:
    skipped = ("members", "owners", "licenses", "membersMode")  # membersMode: how entraform plans
    entry = {k: v for k, v in group.items() if k not in skipped}
    if group.get("licenses"):
        entry["assignedLicenses"] = assigned(group["licenses"])
        entry["licenseProcessingState"] = {"state": "ProcessingComplete"}
    entry["owners"] = list(group["owners"])
    if group.get("members"):
        entry["members"] = [m["group"] if isinstance(m, dict) else m for m in group["members"]]
    return entry


def expected() -> tuple[dict[str, Entry], dict[str, Entry]]:
    """state/ with the documented differences applied, keyed by userPrincipalName and mailNickname."""
    state_users, state_groups = state()
    users = {u["userPrincipalName"]: user_from_state(u) for u in state_users}
    groups = {g["mailNickname"]: group_from_state(g) for g in state_groups}
    for upn in NOT_YET_CREATED:  # 1.
        del users[upn]
    for group in groups.values():
        if "members" in group:
            group["members"] = [m for m in group["members"] if m not in NOT_YET_CREATED]
    assert users["lynne@contoso.example"]["accountEnabled"] is False
    users["lynne@contoso.example"]["accountEnabled"] = True  # 2.
    assert users["ben@contoso.example"]["department"] == "Marketing"
    users["ben@contoso.example"]["department"] = "Sales"  # 3.
    debra_e3 = users["debra@contoso.example"]["assignedLicenses"][0]
    assert debra_e3["skuId"] == skus.ENTERPRISEPACK
    assert debra_e3["disabledPlans"] == [skus.PLANS["YAMMER_ENTERPRISE"], skus.PLANS["SWAY"]]
    debra_e3["disabledPlans"] = [skus.PLANS["YAMMER_ENTERPRISE"]]  # 4.
    groups["grp-finance"]["members"].append("joni@contoso.example")  # 5.
    users[BREAK_GLASS["userPrincipalName"]] = dict(BREAK_GLASS)  # 6.
    return users, groups


def test_the_users_are_state_but_for_the_documented_differences() -> None:
    users, _ = expected()
    # state/ says nothing of sign-ins: test_sign_ins checks them.
    skipped = ("id", "signInActivity")
    found = {
        u["userPrincipalName"]: {k: v for k, v in u.items() if k not in skipped} for u in data()["users"]
    }
    assert found.keys() == users.keys()
    for upn, entry in users.items():
        assert found[upn] == entry, upn


def test_the_groups_are_state_but_for_the_documented_differences() -> None:
    _, groups = expected()
    found = {g["mailNickname"]: {k: v for k, v in g.items() if k != "id"} for g in data()["groups"]}
    assert found.keys() == groups.keys()
    for nickname, entry in groups.items():
        assert found[nickname] == entry, nickname


def test_the_role_holders_are_state_but_for_the_documented_difference() -> None:
    """state/roles.yaml names roles by displayName and principals by UPN or `group:`; the data holds
    Graph's roleAssignments (the role's templateId). 7.: lynne@ holds User Administrator as well."""
    ids = {d["displayName"]: d["id"] for d in roledefs.definitions()}
    wanted = {
        (ids[role["role"]], p["group"] if isinstance(p, dict) else p, role.get("directoryScopeId", "/"))
        for role in state_roles()
        for p in role["principals"]
    }
    wanted.add((ids["User Administrator"], "lynne@contoso.example", "/"))  # 7.
    found = [
        (a["roleDefinitionId"], a["principal"], a["directoryScopeId"]) for a in data()["roleAssignments"]
    ]
    assert len(found) == len(set(found)) and set(found) == wanted


def test_the_seed_is_the_data() -> None:
    """Every object with its id, its properties over the defaults, its relationships and licenses."""
    document = data()
    seed = build_seed("demo")
    key = {u["id"]: u["userPrincipalName"] for u in seed.users} | {
        g["id"]: g["mailNickname"] for g in seed.groups
    }
    assert len(key) == len(document["users"]) + len(document["groups"])  # ids are unique
    assert [(u["id"], u["userPrincipalName"]) for u in seed.users] == [
        (u["id"], u["userPrincipalName"]) for u in document["users"]
    ]
    assert [(g["id"], g["mailNickname"]) for g in seed.groups] == [
        (g["id"], g["mailNickname"]) for g in document["groups"]
    ]
    for user, entry in zip(seed.users, copy.deepcopy(document["users"]), strict=True):
        manager = entry.pop("manager", None)
        entry.pop("signInActivity", None)
        licenses = entry.pop("assignedLicenses", [])
        assert user.items() >= entry.items()
        assert [key[m] for u, m in seed.managers if u == user["id"]] == ([manager] if manager else [])
        held = [{"disabledPlans": p, "skuId": s} for u, s, p in seed.licenses if u == user["id"]]
        assert held == licenses
    for group, entry in zip(seed.groups, copy.deepcopy(document["groups"]), strict=True):
        assert [key[m] for g, m in seed.members if g == group["id"]] == entry.pop("members", [])
        assert [key[o] for g, o in seed.owners if g == group["id"]] == entry.pop("owners")
        assert group.items() >= entry.items()
        assert group["mail"] == (f"{group['mailNickname']}@contoso.example" if group["mailEnabled"] else None)
    assert [(role, key[principal], scope) for role, principal, scope in seed.role_assignments] == [
        (a["roleDefinitionId"], a["principal"], a["directoryScopeId"]) for a in document["roleAssignments"]
    ]


def test_the_dynamic_group_takes_in_every_enabled_employee() -> None:
    store = Store.open(":memory:")
    store.load_seed(build_seed("demo"))
    group_id = next(g["id"] for g in store.groups.values() if g["mailNickname"] == "grp-all-employees")
    employees = [
        u["id"] for u in store.users.values() if u["employeeType"] == "Employee" and u["accountEnabled"]
    ]
    assert list(store.members[group_id]) == employees and len(employees) > 30
    store.close()


def test_each_seed_gives_fresh_objects() -> None:
    """The store keeps what it is given: two seeds share no object, list or dict."""
    first, second = build_seed("demo"), build_seed("demo")
    assert first.users == second.users
    first.users[0]["businessPhones"].append("+1 555 0000")
    assert first.users[0] != second.users[0]


def test_sign_ins_most_recent_four_dormant_three_never() -> None:
    """Days before seeding, as the data says: the seed is loaded at a fixed instant to read them back."""
    seeded_at = 1_790_000_000.0
    store = Store.open(":memory:")
    store.load_seed(build_seed("demo"), now=seeded_at)
    ages: dict[str, float | None] = {}
    for user in store.users.values():
        activity = user["signInActivity"]
        newest = None if activity is None else activity["lastSuccessfulSignInDateTime"]
        when = None if newest is None else datetime.fromisoformat(newest.replace("Z", "+00:00")).timestamp()
        ages[user["userPrincipalName"].split("@")[0]] = None if when is None else (seeded_at - when) / 86_400
    store.close()
    assert {name for name, days in ages.items() if days is None} == {"miguel", "sam", "breakglass"}
    dormant = {name for name, days in ages.items() if days is not None and days >= 90}
    assert dormant == {"tomas", "henrietta", "olivia", "lynne"}
    recent = [days for days in ages.values() if days is not None and days < 90]
    assert len(recent) == len(ages) - 7 and max(recent) < 35
