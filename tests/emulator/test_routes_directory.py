"""directory/deletedItems, directoryObjects/getByIds and organization."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from graph_calls import Tenant, error_of

from reconciler.emulator.auth import AppRegistration


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    t = Tenant("demo")
    yield t
    t.close()


def test_deleted_items_get_restore_and_purge(tenant: Tenant) -> None:
    lynne = tenant.user_id("ada@contoso.example")
    groups_before = set(tenant.store.member_of[lynne])
    assert groups_before
    tenant.call("DELETE", f"users/{lynne}")
    got = tenant.get(f"directory/deletedItems/{lynne}")
    assert got.status_code == 200 and got.json()["@odata.context"].endswith("directoryObjects/$entity")
    restored = tenant.call("POST", f"directory/deletedItems/{lynne}/restore")
    assert restored.status_code == 200 and restored.json()["@odata.type"] == "#microsoft.graph.user"
    assert tenant.get(f"users/{lynne}").status_code == 200
    assert tenant.store.member_of[lynne] == groups_before
    assert tenant.get("directory/deletedItems/microsoft.graph.user").json()["value"] == []
    tenant.call("DELETE", f"users/{lynne}")
    assert tenant.call("DELETE", f"directory/deletedItems/{lynne}").status_code == 204
    assert error_of(tenant.get(f"directory/deletedItems/{lynne}"))[:2] == (404, "Request_ResourceNotFound")
    assert tenant.call("POST", f"directory/deletedItems/{lynne}/restore").status_code == 404


def test_restore_conflicting_upn(tenant: Tenant) -> None:
    lynne = tenant.user_id("lynne@contoso.example")
    tenant.call("DELETE", f"users/{lynne}")
    tenant.call("POST", "users", json={
        "accountEnabled": True, "displayName": "Lynne", "mailNickname": "lynne",
        "userPrincipalName": "lynne@contoso.example", "passwordProfile": {"password": "Pa55w.rd!x"},
    })  # fmt: skip
    response = tenant.call("POST", f"directory/deletedItems/{lynne}/restore")
    assert response.json()["error"]["details"][0]["code"] == "ObjectConflict"


def test_deleted_items_list_select_is_case_insensitive(tenant: Tenant) -> None:
    sales = tenant.group_id("grp-sales")
    tenant.call("DELETE", f"groups/{sales}")
    url = "directory/deletedItems/microsoft.graph.group?$count=true&$orderBy=deletedDateTime asc"
    headers = {"ConsistencyLevel": "eventual"}  # ordering by deletedDateTime is an advanced query
    value = tenant.get(url + "&$select=id,DisplayName,deletedDateTime", headers=headers).json()["value"]
    assert set(value[0]) == {"@odata.type", "id", "displayName", "deletedDateTime"}


def test_get_by_ids_needs_directory_read_all(tenant: Tenant) -> None:
    ada, sales = tenant.user_id("ada@contoso.example"), tenant.group_id("grp-sales")
    body = {"ids": [ada, sales, "00000000-0000-0000-0000-000000000000"], "types": ["user"]}
    auth = tenant.local.emulator.auth
    users_only = ("User.Read.All", "GroupMember.Read.All")
    auth.apps["narrow"] = AppRegistration("narrow", "narrow-client", "secret", users_only)
    assert error_of(tenant.call("POST", "directoryObjects/getByIds", json=body, app="narrow"))[:2] == (
        403,
        "Authorization_RequestDenied",
    )
    auth.apps["directory"] = AppRegistration("directory", "dir-client", "secret", ("Directory.Read.All",))
    value = tenant.call("POST", "directoryObjects/getByIds", json=body, app="directory").json()["value"]
    assert [(v["@odata.type"], v["id"]) for v in value] == [("#microsoft.graph.user", ada)]
    both = tenant.call("POST", "directoryObjects/getByIds", json={"ids": [ada, sales]}, app="directory")
    assert [v["@odata.type"] for v in both.json()["value"]] == [
        "#microsoft.graph.user",
        "#microsoft.graph.group",
    ]


def test_organization_verified_domains(tenant: Tenant) -> None:
    orgs = tenant.get("organization").json()["value"]
    assert {"contoso.example", "fabrikam.example"} <= {d["name"] for d in orgs[0]["verifiedDomains"]}
    assert tenant.get(f"organization/{orgs[0]['id']}").json()["id"] == tenant.store.tenant_id


def test_deleted_items_of_every_type_casts_and_counts(tenant: Tenant) -> None:
    lynne, sales = tenant.user_id("lynne@contoso.example"), tenant.group_id("grp-sales")
    tenant.call("DELETE", f"users/{lynne}")
    tenant.call("DELETE", f"groups/{sales}")
    assert error_of(tenant.get("directory/deletedItems"))[:2] == (400, "Request_BadRequest")  # cast needed
    assert [d["id"] for d in tenant.get("directory/deletedItems/graph.user").json()["value"]] == [lynne]
    count = tenant.get("directory/deletedItems/graph.group/$count", headers={"ConsistencyLevel": "eventual"})
    assert count.text == "1"
    assert tenant.get(f"directory/deletedItems/{lynne}/graph.user").status_code == 200
    assert tenant.get(f"directory/deletedItems/{lynne}/graph.group").status_code == 404


def test_deleted_items_expire_after_30_days(tenant: Tenant) -> None:
    lynne = tenant.user_id("lynne@contoso.example")
    tenant.call("DELETE", f"users/{lynne}")
    tenant.config.clock_offset_s = 29 * 24 * 3600
    tenant.tokens.clear()
    assert tenant.get(f"directory/deletedItems/{lynne}").status_code == 200
    tenant.config.clock_offset_s = 31 * 24 * 3600
    tenant.tokens.clear()
    assert tenant.get("directory/deletedItems/microsoft.graph.user").json()["value"] == []
    assert tenant.call("POST", f"directory/deletedItems/{lynne}/restore").status_code == 404
    assert tenant.store.tombstones[lynne][2] == "deleted"
