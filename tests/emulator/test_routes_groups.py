"""/groups routes: create with binds, bulk member binds, delete semantics, members and owners."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from graph_calls import Tenant, error_of

GRAPH = "https://graph.microsoft.com/v1.0"
ALREADY_MEMBER = (
    "One or more added object references already exist for the following modified properties: 'members'."
)


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    t = Tenant("demo")
    yield t
    t.close()


def ref(oid: str) -> dict[str, str]:
    return {"@odata.id": f"{GRAPH}/directoryObjects/{oid}"}


def new_group(**extra: object) -> dict[str, object]:
    return {
        "displayName": "Support",
        "mailEnabled": False,
        "mailNickname": "grp-support",
        "securityEnabled": True,
        **extra,
    }


def test_list_and_get_groups(tenant: Tenant) -> None:
    groups = tenant.get("groups?$select=id,displayName,mailNickname").json()["value"]
    assert len(groups) == len(tenant.store.groups)
    group = tenant.get(f"groups/{groups[0]['id']}").json()
    assert group["@odata.context"].endswith("$metadata#groups/$entity")
    assert {"groupTypes", "securityEnabled", "mailEnabled", "displayName"} <= set(group)


def test_create_group_with_member_and_owner_binds(tenant: Tenant) -> None:
    ada, grace = tenant.user_id("ada@contoso.example"), tenant.user_id("grace@contoso.example")
    body = new_group(
        **{"members@odata.bind": [f"{GRAPH}/users/{ada}"], "owners@odata.bind": [f"{GRAPH}/users/{grace}"]}
    )
    response = tenant.call("POST", "groups", json=body)
    assert response.status_code == 201
    group_id = response.json()["id"]
    members = tenant.get(f"groups/{group_id}/members").json()["value"]
    assert [(m["@odata.type"], m["id"]) for m in members] == [("#microsoft.graph.user", ada)]
    assert [o["id"] for o in tenant.get(f"groups/{group_id}/owners").json()["value"]] == [grace]


def test_create_group_more_than_20_binds_fails(tenant: Tenant) -> None:
    ids = list(tenant.store.users)[:21]
    body = new_group(**{"members@odata.bind": [f"{GRAPH}/users/{i}" for i in ids]})
    assert error_of(tenant.call("POST", "groups", json=body))[:2] == (400, "Request_BadRequest")
    assert not any(g["mailNickname"] == "grp-support" for g in tenant.store.groups.values())


@pytest.mark.parametrize("missing", ["displayName", "mailEnabled", "mailNickname", "securityEnabled"])
def test_create_group_requires_properties(tenant: Tenant, missing: str) -> None:
    body = {k: v for k, v in new_group().items() if k != missing}
    status, code, message = error_of(tenant.call("POST", "groups", json=body))
    assert (status, code, message) == (
        400,
        "Request_BadRequest",
        f"Invalid value specified for property '{missing}' of resource 'Group'.",
    )


def test_create_group_rejects_bad_mail_nickname(tenant: Tenant) -> None:
    assert tenant.call("POST", "groups", json=new_group(mailNickname="has space")).status_code == 400


def test_bulk_member_bind_is_all_or_nothing(tenant: Tenant) -> None:
    finance = tenant.group_id("grp-finance")
    ada, rob = tenant.user_id("ada@contoso.example"), tenant.user_id("rob@contoso.example")
    body = {"members@odata.bind": [f"{GRAPH}/directoryObjects/{ada}", f"{GRAPH}/directoryObjects/{rob}"]}
    status, _, message = error_of(tenant.call("PATCH", f"groups/{finance}", json=body))
    assert (status, message) == (400, ALREADY_MEMBER)
    assert ada not in tenant.store.members[finance]
    body = {"members@odata.bind": [f"{GRAPH}/directoryObjects/{ada}"]}
    assert tenant.call("PATCH", f"groups/{finance}", json=body).status_code == 204
    assert ada in tenant.store.members[finance]


def test_bulk_member_bind_limit_is_20(tenant: Tenant) -> None:
    ids = list(tenant.store.users)[:21]
    body = {"members@odata.bind": [f"{GRAPH}/directoryObjects/{i}" for i in ids]}
    assert tenant.call("PATCH", f"groups/{tenant.group_id('grp-marketing')}", json=body).status_code == 400


def test_update_group_properties(tenant: Tenant) -> None:
    group_id = tenant.group_id("grp-people")
    assert tenant.call("PATCH", f"groups/{group_id}", json={"description": "HR"}).status_code == 204
    assert tenant.get(f"groups/{group_id}?$select=description").json()["description"] == "HR"


def test_add_member_ref_and_duplicate(tenant: Tenant) -> None:
    group_id = tenant.group_id("grp-people")
    ada = tenant.user_id("ada@contoso.example")
    assert tenant.call("POST", f"groups/{group_id}/members/$ref", json=ref(ada)).status_code == 204
    status, code, message = error_of(tenant.call("POST", f"groups/{group_id}/members/$ref", json=ref(ada)))
    assert (status, code, message) == (400, "Request_BadRequest", ALREADY_MEMBER)


def test_add_missing_member_is_404(tenant: Tenant) -> None:
    group_id = tenant.group_id("grp-people")
    response = tenant.call(
        "POST", f"groups/{group_id}/members/$ref", json=ref("11111111-2222-3333-4444-555555555555")
    )
    assert error_of(response)[:2] == (404, "Request_ResourceNotFound")


def test_remove_member_and_not_a_member(tenant: Tenant) -> None:
    group_id = tenant.group_id("grp-finance")
    joni = tenant.user_id("joni@contoso.example")
    assert tenant.call("DELETE", f"groups/{group_id}/members/{joni}/$ref").status_code == 204
    status, code, message = error_of(tenant.call("DELETE", f"groups/{group_id}/members/{joni}/$ref"))
    assert (status, code) == (404, "Request_ResourceNotFound")
    assert message.startswith(f"Resource '{joni}' does not exist")


def test_owners_add_and_last_owner_cannot_be_removed(tenant: Tenant) -> None:
    group_id = tenant.group_id("grp-finance")
    rob, cameron = tenant.user_id("rob@contoso.example"), tenant.user_id("cameron@contoso.example")
    status, _, message = error_of(tenant.call("DELETE", f"groups/{group_id}/owners/{rob}/$ref"))
    assert (status, message) == (
        400,
        "The group must have at least one owner, hence this owner cannot be removed.",
    )
    assert tenant.call("POST", f"groups/{group_id}/owners/$ref", json=ref(cameron)).status_code == 204
    assert tenant.call("DELETE", f"groups/{group_id}/owners/{rob}/$ref").status_code == 204


def test_transitive_members_flatten_nested_groups(tenant: Tenant) -> None:
    group_id = tenant.group_id("grp-engineering")
    direct = tenant.get(f"groups/{group_id}/members").json()["value"]
    assert {m["@odata.type"] for m in direct} == {"#microsoft.graph.user", "#microsoft.graph.group"}
    users = tenant.get(f"groups/{group_id}/transitiveMembers/microsoft.graph.user").json()["value"]
    assert "alex@contoso.example" in {u["userPrincipalName"] for u in users}
    count = tenant.get(f"groups/{group_id}/members/$count", headers={"ConsistencyLevel": "eventual"})
    assert count.text == str(len(direct)) and count.headers["content-type"].startswith("text/plain")


def test_delete_security_group_is_permanent(tenant: Tenant) -> None:
    group_id = tenant.group_id("grp-people")
    assert tenant.call("DELETE", f"groups/{group_id}").status_code == 204
    assert tenant.get(f"groups/{group_id}").status_code == 404
    assert tenant.get(f"directory/deletedItems/{group_id}").status_code == 404


def test_delete_m365_group_goes_to_deleted_items_and_restores(tenant: Tenant) -> None:
    group_id = tenant.group_id("grp-sales")
    members_before = set(tenant.store.members[group_id])
    assert tenant.call("DELETE", f"groups/{group_id}").status_code == 204
    listed = tenant.get("directory/deletedItems/microsoft.graph.group").json()["value"]
    assert [g["id"] for g in listed] == [group_id]
    restored = tenant.call("POST", f"directory/deletedItems/{group_id}/restore")
    assert restored.status_code == 200 and restored.json()["@odata.type"] == "#microsoft.graph.group"
    assert tenant.get(f"groups/{group_id}").status_code == 200
    assert tenant.store.members[group_id].keys() == members_before


def test_replication_lag_on_new_group_member_add(tenant: Tenant) -> None:
    tenant.config.lag_ms = 3000
    group_id = tenant.call("POST", "groups", json=new_group()).json()["id"]
    ada = tenant.user_id("ada@contoso.example")
    status, _, message = error_of(tenant.call("POST", f"groups/{group_id}/members/$ref", json=ref(ada)))
    assert (status, message) == (
        400,
        "The source resource object or one of the objects being referenced don't exist.",
    )
    assert tenant.get(f"groups/{group_id}").status_code == 404
    tenant.config.clock_offset_s = 4
    assert tenant.call("POST", f"groups/{group_id}/members/$ref", json=ref(ada)).status_code == 204


def test_expand_members_on_group(tenant: Tenant) -> None:
    group = tenant.get(f"groups/{tenant.group_id('grp-platform')}?$expand=members($select=id)").json()
    assert len(group["members"]) == 5 and set(group["members"][0]) == {"@odata.type", "id"}


def test_relation_casts_counts_and_single_members(tenant: Tenant) -> None:
    engineering = tenant.group_id("grp-engineering")
    platform = tenant.group_id("grp-platform")
    eventual = {"ConsistencyLevel": "eventual"}
    for cast in ("microsoft.graph.group", "graph.group"):
        groups = tenant.get(f"groups/{engineering}/members/{cast}").json()["value"]
        assert {g["id"] for g in groups} == {platform, tenant.group_id("grp-product")}
        assert tenant.get(f"groups/{engineering}/members/{cast}/$count", headers=eventual).text == "2"
    member = tenant.get(f"groups/{engineering}/members/{platform}")
    assert member.status_code == 200 and member.json()["@odata.type"] == "#microsoft.graph.group"
    assert tenant.get(f"groups/{engineering}/members/{platform}/graph.user").status_code == 404
    ada = tenant.user_id("ada@contoso.example")
    assert tenant.get(f"groups/{platform}/members/{ada}").status_code == 404
    owners = tenant.get(f"groups/{platform}/owners/graph.user").json()["value"]
    assert [o["userPrincipalName"] for o in owners] == ["lee@contoso.example"]
    parents = tenant.get(f"groups/{platform}/memberOf").json()["value"]
    assert [p["id"] for p in parents] == [engineering]
    assert (
        tenant.get(f"groups/{platform}/transitiveMemberOf/graph.group").json()["value"][0]["id"]
        == engineering
    )


def test_members_filter_and_search_with_advanced_query(tenant: Tenant) -> None:
    platform = tenant.group_id("grp-platform")
    url = f"groups/{platform}/members?$count=true&$filter=startswith(displayName, 'a')"
    body = tenant.get(url, headers={"ConsistencyLevel": "eventual"}).json()
    assert [m["displayName"] for m in body["value"]] == ["Alex Wilber"] and body["@odata.count"] == 1


def test_list_member_refs(tenant: Tenant) -> None:
    platform = tenant.group_id("grp-platform")
    body = tenant.get(f"groups/{platform}/members/$ref?$top=2").json()
    assert body["value"][0] == f"{GRAPH}/directoryObjects/{next(iter(tenant.store.members[platform]))}"
    assert len(body["value"]) == 2 and "@odata.nextLink" in body


def test_dynamic_group_members_follow_the_rule_and_refuse_manual_changes(tenant: Tenant) -> None:
    dynamic = tenant.group_id("grp-all-employees")
    members = set(tenant.store.members[dynamic])
    employees = {
        u["id"]
        for u in tenant.store.users.values()
        if u["employeeType"] == "Employee" and u["accountEnabled"]
    }
    assert members == employees
    ada = tenant.user_id("ada@contoso.example")
    assert tenant.call("PATCH", f"users/{ada}", json={"accountEnabled": False}).status_code == 204
    assert ada not in tenant.store.members[dynamic]
    status, code, _ = error_of(tenant.call("POST", f"groups/{dynamic}/members/$ref", json=ref(ada)))
    assert (status, code) == (400, "Request_BadRequest")
    lee = tenant.user_id("lee@contoso.example")
    assert tenant.call("DELETE", f"groups/{dynamic}/members/{lee}/$ref").status_code == 400


def test_owned_objects_and_member_groups(tenant: Tenant) -> None:
    owned = tenant.get("users/grace@contoso.example/ownedObjects").json()["value"]
    assert {g["mailNickname"] for g in owned} == {"grp-engineering", "grp-entra-admins"}
    groups = tenant.call(
        "POST", "users/alex@contoso.example/getMemberGroups", json={"securityEnabledOnly": True}
    )
    names = {tenant.store.groups[g]["mailNickname"] for g in groups.json()["value"]}
    assert names == {"grp-platform", "grp-engineering", "grp-all-employees"}
    sales = tenant.group_id("grp-sales")
    probe = {"groupIds": [sales, tenant.group_id("grp-platform")]}
    checked = tenant.call("POST", "users/alex@contoso.example/checkMemberGroups", json=probe).json()["value"]
    assert checked == [tenant.group_id("grp-platform")]
