"""Property: for random desired and live states, apply (re-applied until done) converges to an empty plan
in an emulator with replication lag, 10 % injected 503s and tight throttling, and never touches an object
that no plan change names (SPEC §4–5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.apply.run import ApplyOptions, checked_plan, execute
from reconciler.config import AuthConfig, Config
from reconciler.live import LiveState
from reconciler.plan.model import Change

USERS = [f"u{n}@contoso.example" for n in range(4)]
GROUPS = [f"grp-g{n}" for n in range(3)]
OUTSIDER = "outsider@fabrikam.example"  # outside every authoritative scope: never touched
OUTSIDE_GROUP = "team-outside"
WRITES = "^(POST|PATCH|PUT|DELETE) /(users|groups)"
MAX_ROUNDS = 6

titles = st.sampled_from(["Engineer", "Manager", None])


@st.composite
def tenants(draw: st.DrawFn) -> dict[str, Any]:
    """Live objects to seed: users (with a title and maybe a license) and groups with members."""
    users = [u for u in USERS if draw(st.booleans())]
    return {
        "users": {u: {"jobTitle": draw(titles), "licensed": draw(st.booleans())} for u in users},
        "groups": {
            g: draw(st.sets(st.sampled_from(users))) if users else set()
            for g in GROUPS
            if draw(st.booleans())
        },
    }


@st.composite
def desired_states(draw: st.DrawFn) -> dict[str, Any]:
    users = [u for u in USERS if draw(st.booleans())]
    people = []
    for n, upn in enumerate(users):
        person: dict[str, Any] = {"userPrincipalName": upn, "displayName": upn.split("@")[0].upper()}
        if draw(st.booleans()):
            person["jobTitle"] = draw(titles)
        if draw(st.integers(0, 4)) == 0:
            person["accountEnabled"] = False
        if n and draw(st.booleans()):
            person["manager"] = users[draw(st.integers(0, n - 1))]
        if draw(st.booleans()):
            person["usageLocation"] = "US"
            person["licenses"] = [{"sku": "ENTERPRISEPACK"}] if draw(st.booleans()) else []
        people.append(person)
    groups = []
    for nick in GROUPS:
        if draw(st.booleans()):
            group: dict[str, Any] = {"mailNickname": nick, "displayName": nick.upper()}
            group["members"] = sorted(draw(st.sets(st.sampled_from(users)))) if users else []
            if users and draw(st.booleans()):
                group["owners"] = [draw(st.sampled_from(users))]
            groups.append(group)
    return {"users": people, "groups": groups, "removal": draw(st.sampled_from(["disable", "delete"]))}


def seed_tenant(graph: httpx.Client, tenant: dict[str, Any], sku_id: str) -> None:
    ids: dict[str, str] = {}
    for upn in [*tenant["users"], OUTSIDER]:
        spec = tenant["users"].get(upn, {"jobTitle": "Outside", "licensed": False})
        body = {
            "userPrincipalName": upn,
            "displayName": upn.split("@")[0],
            "mailNickname": upn.split("@")[0],
            "accountEnabled": True,
            "usageLocation": "US",
            "passwordProfile": {"password": "Seed-Password-1234!", "forceChangePasswordNextSignIn": True},
        }
        if spec["jobTitle"]:
            body["jobTitle"] = spec["jobTitle"]
        reply = graph.post("users", json=body)
        reply.raise_for_status()
        ids[upn] = reply.json()["id"]
        if spec["licensed"]:
            license_body = {"addLicenses": [{"skuId": sku_id, "disabledPlans": []}], "removeLicenses": []}
            graph.post(f"users/{ids[upn]}/assignLicense", json=license_body).raise_for_status()
    groups = {**tenant["groups"], OUTSIDE_GROUP: {OUTSIDER}}
    for nick, members in groups.items():
        body = {"displayName": nick, "mailNickname": nick, "mailEnabled": False, "securityEnabled": True}
        if members:
            body["members@odata.bind"] = [
                f"{graph.base_url}directoryObjects/{ids[m]}" for m in sorted(members)
            ]
        graph.post("groups", json=body).raise_for_status()


def write_desired(folder: Path, desired: dict[str, Any]) -> None:
    state = folder / "state"
    state.mkdir(exist_ok=True)
    (state / "tenant.yaml").write_text(
        yaml.safe_dump({"users": desired["users"], "groups": desired["groups"]})
    )


def touched_keys(change: Change) -> set[str]:
    """The objects a change writes to (an edge's member or owner is not written to)."""
    return {change.subject.key}


def snapshot(live: LiveState) -> dict[str, Any]:
    users = {u.key: (u.attrs, u.manager_id, sorted(u.direct_licenses)) for u in live.users.values()}
    groups = {
        g.key: (g.attrs, sorted(g.member_user_ids), sorted(g.member_group_ids), sorted(g.owner_ids))
        for g in live.groups.values()
    }
    return {**users, **groups}


@settings(
    max_examples=4,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tenant=tenants(), desired=desired_states())
def test_apply_converges_and_touches_nothing_else(
    tenant: dict[str, Any],
    desired: dict[str, Any],
    emulator_info: dict[str, Any],
    admin: httpx.Client,
    graph_http: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("converge")
    admin.post("seed", json={"seed": "empty"}).raise_for_status()
    admin.put(
        "config",
        json={"lag_ms": 0, "faults": [], "throttle": {"enabled": False}, "clock_offset_s": 0, "rng_seed": 0},
    ).raise_for_status()
    writer = graph_http("writer")
    skus = writer.get("subscribedSkus").json()["value"]
    seed_tenant(writer, tenant, next(s["skuId"] for s in skus if s["skuPartNumber"] == "ENTERPRISEPACK"))
    write_desired(folder, desired)
    config = Config(
        tenant=emulator_info["tenant_id"],
        graph_url=emulator_info["graph_url"],
        authority=emulator_info["authority"],
        ca_bundle=emulator_info["ca_bundle"],
        auth=AuthConfig(
            method="client_secret",
            client_id=emulator_info["apps"]["writer"]["client_id"],
            client_secret=emulator_info["apps"]["writer"]["client_secret"],
        ),
        scope={
            "users": {"authoritative": True, "match": {"upn_suffix": "@contoso.example"}},
            "groups": {"authoritative": True, "match": {"mail_nickname_prefix": "grp-"}},
        },
        removal={"users": desired["removal"]},
        base_dir=str(folder),
    )
    first = checked_plan(config, None)
    before = snapshot(first.live)
    admin.put(
        "config",
        json={
            "lag_ms": 300,
            "rng_seed": 3,  # not 0, which made the seeded objects' ids
            "faults": [{"route": WRITES, "status": 503, "rate": 0.1, "retry_after": 0}],
            "throttle": {"enabled": True, "ru_per_10s": 150},
        },
    ).raise_for_status()

    touched: set[str] = set()
    options = ApplyOptions(journal=folder / "journal.jsonl")
    planned = first
    offset = 0.0
    for _ in range(MAX_ROUNDS):
        if not planned.plan.changes:
            break
        touched |= {key for change in planned.plan.changes for key in touched_keys(change)}
        execute(config, planned.plan, planned.live, options)
        # The next run comes after replication has settled (emulated time moves past the lag): a plan
        # read during the lag would not see the new objects and plan them again.
        offset += 1.0
        # A new rng_seed each time: the emulator draws object ids from the RNG that a config change
        # restarts, and the same seed again would hand out the ids of objects it already made.
        admin.put("config", json={"clock_offset_s": offset, "rng_seed": int(offset) + 10}).raise_for_status()
        planned = checked_plan(config, None)
    # Past the lag, with no faults: what the tenant really holds.
    settle = {"lag_ms": 0, "faults": [], "clock_offset_s": offset + 5, "rng_seed": 99}
    admin.put("config", json=settle).raise_for_status()
    final = checked_plan(config, None)
    assert final.plan.changes == [], [c.id + " " + c.action + " " + c.subject.key for c in final.plan.changes]
    after = snapshot(final.live)
    untouched = set(before) - touched
    assert OUTSIDER in untouched and OUTSIDE_GROUP in untouched
    assert {k: after.get(k) for k in untouched} == {k: before[k] for k in untouched}
