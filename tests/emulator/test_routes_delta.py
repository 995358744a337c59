"""users/delta and groups/delta: rounds, tokens, @removed, members@delta slices, expiry, restarts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graph_calls import Tenant, error_of

from reconciler.emulator.store import Store

GRAPH = "https://graph.microsoft.com/v1.0"


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    t = Tenant("demo")
    yield t
    t.close()


def full_round(tenant: Tenant, url: str) -> tuple[list[dict[str, Any]], str]:
    """Follow nextLinks to the deltaLink; returns every item and the deltaLink."""
    items: list[dict[str, Any]] = []
    while True:
        response = tenant.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["value"]
        if "@odata.deltaLink" in body:
            return items, body["@odata.deltaLink"]
        url = body["@odata.nextLink"]


def test_users_delta_initial_round_lists_everyone(tenant: Tenant) -> None:
    items, link = full_round(tenant, "users/delta?$select=displayName,department")
    assert {i["id"] for i in items} == set(tenant.store.users)
    assert set(items[0]) == {"displayName", "department", "id"}
    assert link.startswith(f"{GRAPH}/users/delta?$deltatoken=")


def test_delta_with_parentheses_is_answered(tenant: Tenant) -> None:
    assert tenant.get("users/delta()").status_code == 200
    assert tenant.get("groups/delta()?$select=displayName").status_code == 200


def test_no_changes_gives_empty_value_and_a_delta_link(tenant: Tenant) -> None:
    _, link = full_round(tenant, "users/delta")
    body = tenant.get(link).json()
    assert body["value"] == [] and "@odata.deltaLink" in body


def test_changes_and_removals_since_the_last_round(tenant: Tenant) -> None:
    _, link = full_round(tenant, "users/delta?$select=displayName,jobTitle")
    ada, lynne = tenant.user_id("ada@contoso.example"), tenant.user_id("lynne@contoso.example")
    tenant.call("PATCH", f"users/{ada}", json={"jobTitle": "Principal Engineer"})
    tenant.call("DELETE", f"users/{lynne}")
    new = tenant.call("POST", "users", json={
        "accountEnabled": True, "displayName": "Zrinka Makovac", "mailNickname": "zrinka",
        "userPrincipalName": "zrinka@contoso.example", "passwordProfile": {"password": "Pa55w.rd!x"},
    }).json()  # fmt: skip
    items, _ = full_round(tenant, link)
    by_id = {i["id"]: i for i in items}
    assert by_id[ada]["jobTitle"] == "Principal Engineer"
    assert by_id[lynne] == {"id": lynne, "@removed": {"reason": "changed"}}
    assert by_id[new["id"]]["displayName"] == "Zrinka Makovac"
    assert len(items) == 3
    tenant.call("DELETE", f"directory/deletedItems/{lynne}")
    _, link2 = full_round(tenant, "users/delta?$deltatoken=latest")
    assert tenant.get(link2).json()["value"] == []


def test_permanent_delete_reports_deleted(tenant: Tenant) -> None:
    _, link = full_round(tenant, "groups/delta?$select=displayName")
    people = tenant.group_id("grp-people")
    tenant.call("DELETE", f"groups/{people}")
    items, _ = full_round(tenant, link)
    assert items == [{"id": people, "@removed": {"reason": "deleted"}}]


def test_deltatoken_latest_returns_only_a_link(tenant: Tenant) -> None:
    body = tenant.get("users/delta?$deltatoken=latest").json()
    assert body["value"] == [] and "@odata.nextLink" not in body
    tenant.call("PATCH", "users/ada@contoso.example", json={"jobTitle": "x"})
    items, _ = full_round(tenant, body["@odata.deltaLink"])
    assert [i["id"] for i in items] == [tenant.user_id("ada@contoso.example")]


def test_groups_delta_members_initial_and_incremental(tenant: Tenant) -> None:
    items, link = full_round(tenant, "groups/delta?$select=displayName,members")
    platform = tenant.group_id("grp-platform")
    group = next(i for i in items if i["id"] == platform)
    assert len(group["members@delta"]) == 5
    assert group["members@delta"][0]["@odata.type"] == "#microsoft.graph.user"

    ada, alex = tenant.user_id("ada@contoso.example"), tenant.user_id("alex@contoso.example")
    tenant.call(
        "POST", f"groups/{platform}/members/$ref", json={"@odata.id": f"{GRAPH}/directoryObjects/{ada}"}
    )
    tenant.call("DELETE", f"groups/{platform}/members/{alex}/$ref")
    changed, _ = full_round(tenant, link)
    assert [c["id"] for c in changed] == [platform]
    assert sorted(changed[0]["members@delta"], key=lambda m: m["id"]) == sorted(
        [
            {"@odata.type": "#microsoft.graph.user", "id": ada},
            {"@odata.type": "#microsoft.graph.user", "id": alex, "@removed": {"reason": "deleted"}},
        ],
        key=lambda m: m["id"],
    )


def test_group_without_members_has_no_members_delta(tenant: Tenant) -> None:
    body = {
        "displayName": "Empty",
        "mailEnabled": False,
        "mailNickname": "grp-empty",
        "securityEnabled": True,
    }
    empty = tenant.call("POST", "groups", json=body).json()["id"]
    items, _ = full_round(tenant, f"groups/delta?$filter=id eq '{empty}'")
    assert items == [{**items[0], "id": empty}] and "members@delta" not in items[0]


def test_large_group_members_split_across_pages(tenant: Tenant) -> None:
    group_id = tenant.group_id("grp-finance")
    for user_id in list(tenant.store.users):
        tenant.store.add_edge("members", group_id, user_id)
    from reconciler.emulator.routes import delta

    original = delta.MEMBERS_PER_PAGE
    delta.MEMBERS_PER_PAGE = 10
    try:
        items, _ = full_round(tenant, f"groups/delta?$filter=id eq '{group_id}'")
    finally:
        delta.MEMBERS_PER_PAGE = original
    slices = [i["members@delta"] for i in items if i["id"] == group_id]
    assert len(slices) == 4 and sum(len(s) for s in slices) == len(tenant.store.users)


def test_a_write_between_two_pages_of_a_round_is_seen(tenant: Tenant) -> None:
    # A round's ids are kept between its pages (reading a large tenant's groups was quadratic without);
    # a write in between must still count: a deleted user not yet listed is left out, a changed one is
    # listed with its change (Graph's first round lists every object), a new one waits for the next round.
    first = tenant.get("users/delta?$select=displayName", headers={"Prefer": "odata.maxpagesize=2"}).json()
    listed = {item["id"] for item in first["value"]}
    later, changed = [oid for oid in tenant.store.users if oid not in listed][:2]
    tenant.call("DELETE", f"users/{later}")
    tenant.call("PATCH", f"users/{changed}", json={"displayName": "Renamed Mid Round"})
    new = tenant.call("POST", "users", json={
        "accountEnabled": True, "displayName": "Mid Round", "mailNickname": "mid",
        "userPrincipalName": "mid@contoso.example",
        "passwordProfile": {"password": "Kx!83hQ#pz", "forceChangePasswordNextSignIn": True},
    }).json()["id"]  # fmt: skip
    rest, link = full_round(tenant, first["@odata.nextLink"])
    seen = listed | {item["id"] for item in rest}
    assert later not in seen and new not in seen
    assert seen == set(tenant.store.users) - {new}
    assert {"id": changed, "displayName": "Renamed Mid Round"} in rest
    following, _ = full_round(tenant, link)
    assert new in {item["id"] for item in following}


def test_filter_by_ids_only(tenant: Tenant) -> None:
    ada = tenant.user_id("ada@contoso.example")
    items, _ = full_round(tenant, f"users/delta?$filter=id eq '{ada}'")
    assert [i["id"] for i in items] == [ada]
    assert error_of(tenant.get("users/delta?$filter=department eq 'x'"))[:2] == (
        400,
        "Request_UnsupportedQuery",
    )
    assert tenant.get("users/delta?$top=5").status_code == 400


def test_page_size_from_prefer_header(tenant: Tenant) -> None:
    body = tenant.get("users/delta", headers={"Prefer": "odata.maxpagesize=10"}).json()
    assert len(body["value"]) == 10 and "$skiptoken=" in body["@odata.nextLink"]


def test_expired_token_gives_410_with_location(tenant: Tenant) -> None:
    _, link = full_round(tenant, "users/delta?$select=displayName")
    tenant.config.clock_offset_s = 8 * 24 * 3600
    tenant.tokens.clear()  # the old bearer token has expired too
    response = tenant.get(link)
    assert response.status_code == 410
    assert response.headers["location"] == f"{GRAPH}/users/delta?$select=displayName"


def test_tokens_survive_a_restart(tmp_path: Path) -> None:
    from reconciler.emulator.seeds import apply_seed

    db = str(tmp_path / "tenant.db")
    store = Store.open(db)
    apply_seed(store, "demo")
    store.close()
    first = Tenant.__new__(Tenant)
    from reconciler.emulator.inprocess import open_local_tenant

    first.local, first.tokens = open_local_tenant(Path(db)), {}
    _, link = full_round(first, "users/delta")
    first.call("PATCH", "users/ada@contoso.example", json={"jobTitle": "after restart"})
    first.close()
    second = Tenant.__new__(Tenant)
    second.local, second.tokens = open_local_tenant(Path(db)), {}
    items, _ = full_round(second, link)
    assert [i["jobTitle"] for i in items] == ["after restart"]
    second.close()


def test_replication_lag_keeps_new_objects_out_of_delta(tenant: Tenant) -> None:
    _, link = full_round(tenant, "users/delta?$select=displayName")
    tenant.config.lag_ms = 2000
    created = tenant.call("POST", "users", json={
        "accountEnabled": True, "displayName": "Late Arrival", "mailNickname": "late",
        "userPrincipalName": "late@contoso.example", "passwordProfile": {"password": "Pa55w.rd!x"},
    }).json()  # fmt: skip
    items, link = full_round(tenant, link)
    assert items == []
    tenant.config.clock_offset_s = 3
    items, _ = full_round(tenant, link)
    assert [i["id"] for i in items] == [created["id"]]


def test_changes_outside_the_selection_do_not_surface_and_minimal_returns_changes(tenant: Tenant) -> None:
    _, link = full_round(tenant, "users/delta?$select=displayName,jobTitle")
    tenant.call("PATCH", "users/ada@contoso.example", json={"officeLocation": "Paris"})
    items, link = full_round(tenant, link)
    assert items == []
    tenant.call("PATCH", "users/ada@contoso.example", json={"jobTitle": "Fellow"})
    response = tenant.get(link, headers={"Prefer": "return=minimal"}).json()
    assert response["value"] == [{"jobTitle": "Fellow", "id": tenant.user_id("ada@contoso.example")}]


def test_license_changes_surface_in_user_delta(tenant: Tenant) -> None:
    _, link = full_round(tenant, "users/delta?$select=assignedLicenses")
    ems = tenant.group_id("grp-lic-ems")
    lynne = tenant.user_id("lynne@contoso.example")
    ref = {"@odata.id": f"{GRAPH}/directoryObjects/{lynne}"}
    assert tenant.call("POST", f"groups/{ems}/members/$ref", json=ref).status_code == 204
    items, _ = full_round(tenant, link)
    assert [(i["id"], len(i["assignedLicenses"])) for i in items] == [(lynne, 1)]


def user_ref(user_id: str) -> dict[str, str]:
    return {"@odata.id": f"{GRAPH}/users/{user_id}"}


def test_manager_changes_surface_as_manager_delta(tenant: Tenant) -> None:
    ada, grace = tenant.user_id("ada@contoso.example"), tenant.user_id("grace@contoso.example")
    lynne = tenant.user_id("lynne@contoso.example")
    items, link = full_round(tenant, "users/delta?$select=displayName,manager")
    first = {i["id"]: i for i in items}
    assert first[ada]["manager@delta"] == [{"@odata.type": "#microsoft.graph.user", "id": grace}]
    assert tenant.call("PUT", f"users/{ada}/manager/$ref", json=user_ref(lynne)).status_code == 204
    items, link = full_round(tenant, link)
    assert [(i["id"], i["manager@delta"]) for i in items] == [
        (
            ada,
            [
                {"@odata.type": "#microsoft.graph.user", "id": grace, "@removed": {"reason": "deleted"}},
                {"@odata.type": "#microsoft.graph.user", "id": lynne},
            ],
        )
    ]
    assert tenant.call("DELETE", f"users/{ada}/manager/$ref").status_code == 204
    items, link = full_round(tenant, link)
    removed = {"@odata.type": "#microsoft.graph.user", "id": lynne, "@removed": {"reason": "deleted"}}
    assert [(i["id"], i["manager@delta"]) for i in items] == [(ada, [removed])]
    tenant.call("PATCH", f"users/{ada}", json={"displayName": "Ada L."})
    items, _ = full_round(tenant, link)
    assert [set(i) for i in items] == [{"id", "displayName"}]  # no manager change, no manager@delta


def test_manager_changes_do_not_surface_unless_selected(tenant: Tenant) -> None:
    ada, lynne = tenant.user_id("ada@contoso.example"), tenant.user_id("lynne@contoso.example")
    _, link = full_round(tenant, "users/delta?$select=displayName")
    assert tenant.call("PUT", f"users/{ada}/manager/$ref", json=user_ref(lynne)).status_code == 204
    items, _ = full_round(tenant, link)
    assert items == []


def test_deleting_a_manager_removes_it_from_its_reports_in_delta(tenant: Tenant) -> None:
    ada, grace = tenant.user_id("ada@contoso.example"), tenant.user_id("grace@contoso.example")
    _, link = full_round(tenant, "users/delta?$select=manager")
    assert tenant.call("DELETE", f"users/{grace}").status_code == 204
    by_id = {i["id"]: i for i in full_round(tenant, link)[0]}
    removed = {"@odata.type": "#microsoft.graph.user", "id": grace, "@removed": {"reason": "deleted"}}
    assert removed in by_id[ada]["manager@delta"]
    assert by_id[grace] == {"id": grace, "@removed": {"reason": "changed"}}


def test_manager_changes_survive_a_restart(tmp_path: Path) -> None:
    from reconciler.emulator.inprocess import open_local_tenant

    db = tmp_path / "tenant.db"
    first = Tenant.__new__(Tenant)
    first.local, first.tokens = open_local_tenant(db), {}
    ada, lynne = first.user_id("ada@contoso.example"), first.user_id("lynne@contoso.example")
    _, link = full_round(first, "users/delta?$select=manager")
    assert first.call("DELETE", f"users/{ada}/manager/$ref").status_code == 204
    first.close()
    second = Tenant.__new__(Tenant)
    second.local, second.tokens = open_local_tenant(db), {}
    items, _ = full_round(second, link)
    assert [i["manager@delta"][0]["@removed"] for i in items] == [{"reason": "deleted"}]
    assert lynne not in {i["id"] for i in items}
    second.close()


def test_minimal_round_carries_only_the_manager_change(tenant: Tenant) -> None:
    ada, lynne = tenant.user_id("ada@contoso.example"), tenant.user_id("lynne@contoso.example")
    _, link = full_round(tenant, "users/delta?$select=displayName,manager")
    assert tenant.call("PUT", f"users/{ada}/manager/$ref", json=user_ref(lynne)).status_code == 204
    value = tenant.get(link, headers={"Prefer": "return=minimal"}).json()["value"]
    assert [set(item) for item in value] == [{"id", "manager@delta"}]
