"""Conformance: organization, directory/deletedItems, directoryObjects/getByIds
(DC organization-list/get, directory-deleteditems-list/get/restore/delete, directoryobject-getbyids)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from conformance import (
    EVENTUAL,
    MISSING_ID,
    NOT_FOUND_TEXT,
    Http,
    error_of,
    group_id,
    ids_of,
    leave_seeded,  # noqa: F401 (fixture used by pytestmark)
    no_retry,
    run,
    seeded,  # noqa: F401 (fixture used by pytestmark)
    user_id,
)

from reconciler.emulator.auth import AppRegistration
from reconciler.emulator.inprocess import LocalTenant

pytestmark = pytest.mark.usefixtures("leave_seeded", "seeded")


THIRTY_ONE_DAYS = 31 * 24 * 3600


def test_organization_lists_the_tenant_and_its_verified_domains(
    emulator_info: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("reader")
    body = http.get("organization").json()
    assert body["@odata.context"] == f"{emulator_info['graph_url']}/$metadata#organization"
    (org,) = body["value"]
    assert org["id"] == emulator_info["tenant_id"] and org["displayName"]
    domains = {domain["name"]: domain for domain in org["verifiedDomains"]}
    assert {"contoso.example", "fabrikam.example"} <= set(domains)
    assert all({"capabilities", "isDefault", "isInitial", "name", "type"} <= set(d) for d in domains.values())
    assert sum(1 for d in domains.values() if d["isDefault"]) == 1
    assert sum(1 for d in domains.values() if d["isInitial"]) == 1
    one = http.get(f"organization/{org['id']}")
    assert one.status_code == 200
    assert one.json()["@odata.context"] == f"{emulator_info['graph_url']}/$metadata#organization/$entity"
    assert one.json()["verifiedDomains"] == org["verifiedDomains"]


def test_unknown_organization_is_404(graph_http: Http) -> None:
    assert error_of(graph_http("reader").get(f"organization/{MISSING_ID}"))[:2] == (
        404,
        "Request_ResourceNotFound",
    )


def test_deleted_user_is_listed_got_and_restored(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    kat = user_id(http, "kat@contoso.example")
    assert http.delete(f"users/{kat}").status_code == 204
    listed = http.get("directory/deletedItems/microsoft.graph.user").json()
    assert listed["@odata.context"].endswith("/$metadata#users") and ids_of(listed) == {kat}
    assert listed["value"][0]["deletedDateTime"] and listed["value"][0]["userPrincipalName"]
    one = http.get(f"directory/deletedItems/{kat}")
    assert one.status_code == 200
    assert (
        one.json()["@odata.context"].endswith("/$metadata#directoryObjects/$entity")
        and one.json()["id"] == kat
    )
    restored = http.post(f"directory/deletedItems/{kat}/restore")
    assert restored.status_code == 200
    assert restored.json()["@odata.type"] == "#microsoft.graph.user" and restored.json()["id"] == kat
    assert http.get("users/kat@contoso.example").json()["id"] == kat
    assert http.get("directory/deletedItems/microsoft.graph.user").json()["value"] == []
    assert error_of(http.get(f"directory/deletedItems/{kat}")) == (
        404,
        "Request_ResourceNotFound",
        NOT_FOUND_TEXT.format(kat),
    )


def test_deleted_items_count_and_order_by_deleted_date_time(
    reset_emulator: dict[str, Any], graph_http: Http, admin: httpx.Client
) -> None:
    http = graph_http("writer")
    kat, sara = user_id(http, "kat@contoso.example"), user_id(http, "sara@contoso.example")
    assert http.delete(f"users/{sara}").status_code == 204
    admin.put("config", json={"clock_offset_s": 60}).raise_for_status()
    assert http.delete(f"users/{kat}").status_code == 204
    reply = http.get(
        "directory/deletedItems/microsoft.graph.user",
        params={
            "$count": "true",
            "$orderby": "deletedDateTime desc",
            "$select": "id,displayName,deletedDateTime",
        },
        headers=EVENTUAL,
    ).json()
    assert reply["@odata.count"] == 2 and [item["id"] for item in reply["value"]] == [kat, sara]


def test_permanent_delete_from_deleted_items(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    sales = group_id(http, "grp-sales")
    assert http.delete(f"groups/{sales}").status_code == 204
    reply = http.delete(f"directory/deletedItems/{sales}")
    assert reply.status_code == 204 and reply.content == b""
    assert error_of(http.post(f"directory/deletedItems/{sales}/restore"))[:2] == (
        404,
        "Request_ResourceNotFound",
    )
    assert sales not in ids_of(http.get("directory/deletedItems/microsoft.graph.group").json())


def test_deleted_items_are_kept_30_days(
    reset_emulator: dict[str, Any], graph_http: Http, admin: httpx.Client
) -> None:

    kat = user_id(graph_http("writer"), "kat@contoso.example")
    assert graph_http("writer").delete(f"users/{kat}").status_code == 204
    admin.put("config", json={"clock_offset_s": THIRTY_ONE_DAYS}).raise_for_status()
    http = graph_http("writer")  # a token from the emulator's new "now"
    assert http.get("directory/deletedItems/microsoft.graph.user").json()["value"] == []
    assert error_of(http.post(f"directory/deletedItems/{kat}/restore"))[:2] == (
        404,
        "Request_ResourceNotFound",
    )


def test_restore_of_a_live_object_is_404(graph_http: Http, reset_emulator: dict[str, Any]) -> None:
    http = graph_http("writer")
    ada = user_id(http, "ada@contoso.example")
    assert error_of(http.post(f"directory/deletedItems/{ada}/restore"))[:2] == (
        404,
        "Request_ResourceNotFound",
    )


def call(tenant: LocalTenant, app: str, method: str, url: str, body: Any = None) -> httpx.Response:
    async def send() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=tenant.transport, base_url=tenant.info["graph_url"] + "/"
        ) as client:
            headers = {"Authorization": f"Bearer {tenant.token(app)}"}
            return await client.request(method, url, json=body, headers=headers)

    return asyncio.run(send())


def test_get_by_ids_returns_typed_objects(local_tenant: Callable[[str], LocalTenant]) -> None:
    """Needs Directory.Read.All, which no built-in app holds: register one in an in-process tenant."""
    tenant = local_tenant("demo")
    tenant.emulator.auth.apps["directory"] = AppRegistration(
        "directory", "dir-client", "secret", ("Directory.Read.All",)
    )
    ada = call(tenant, "reader", "GET", "users/ada@contoso.example").json()["id"]
    sales = call(tenant, "reader", "GET", "groups?$filter=mailNickname eq 'grp-sales'").json()["value"][0][
        "id"
    ]
    reply = call(tenant, "directory", "POST", "directoryObjects/getByIds", {"ids": [ada, sales, MISSING_ID]})
    assert reply.status_code == 200
    body = reply.json()
    assert body["@odata.context"].endswith("/$metadata#directoryObjects")
    types = {item["id"]: item["@odata.type"] for item in body["value"]}
    assert types == {ada: "#microsoft.graph.user", sales: "#microsoft.graph.group"}
    users_only = call(
        tenant, "directory", "POST", "directoryObjects/getByIds", {"ids": [ada, sales], "types": ["User"]}
    )
    assert [item["id"] for item in users_only.json()["value"]] == [ada]
    full = next(item for item in body["value"] if item["id"] == ada)
    assert full["accountEnabled"] is True and full["displayName"] == "Ada Lovelace"


def test_directory_reads_through_the_sdk(
    emulator_info: dict[str, Any], graph_client: Callable[[str], Any], graph_http: Http, narrow: str
) -> None:
    from msgraph.generated.directory_objects.get_by_ids.get_by_ids_post_request_body import (
        GetByIdsPostRequestBody,
    )
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    ada = user_id(graph_http("reader"), "ada@contoso.example")

    async def go() -> tuple[Any, Any, ODataError]:
        client = graph_client(narrow)
        orgs = await client.organization.get()
        skus = await client.subscribed_skus.get()
        with pytest.raises(ODataError) as raised:  # directoryobject-getbyids: Directory.Read.All
            await client.directory_objects.get_by_ids.post(
                GetByIdsPostRequestBody(ids=[ada]), request_configuration=no_retry()
            )
        return orgs, skus, raised.value

    orgs, skus, denied = run(go())
    (org,) = orgs.value
    assert org.id == emulator_info["tenant_id"]
    assert {"contoso.example", "fabrikam.example"} <= {d.name for d in org.verified_domains}
    assert {sku.sku_part_number: sku.prepaid_units.enabled for sku in skus.value} == {
        "ENTERPRISEPACK": 25,
        "SPE_E5": 25,
        "EMSPREMIUM": 25,
    }
    assert denied.response_status_code == 403 and denied.error.code == "Authorization_RequestDenied"


def test_deleted_items_through_the_sdk(
    reset_emulator: dict[str, Any], graph_client: Callable[[str], Any]
) -> None:
    async def go() -> tuple[list[str], list[str], list[str]]:
        client = graph_client("writer")
        sales = (
            await client.groups.get(request_configuration=filter_config("mailNickname eq 'grp-sales'"))
        ).value[0]
        await client.groups.by_group_id(sales.id).delete()
        deleted = await client.directory.deleted_items.graph_group.get()
        await client.directory.deleted_items.by_directory_object_id(sales.id).delete()
        after = await client.directory.deleted_items.graph_group.get()
        return [sales.id], [g.id for g in deleted.value], [g.id for g in after.value]

    sales, deleted, after = run(go())
    assert sales == deleted and after == []


def filter_config(clause: str) -> Any:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.groups.groups_request_builder import GroupsRequestBuilder

    query = GroupsRequestBuilder.GroupsRequestBuilderGetQueryParameters(filter=clause)
    return RequestConfiguration(query_parameters=query)


def test_restore_brings_a_group_back_fully(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    """DC directory-deleteditems-restore.md: "If an item was accidentally deleted, you can fully restore
    the item." ED users-restore.md: the deleted account's organization information is preserved."""
    http = graph_http("writer")
    sales = group_id(http, "grp-sales")
    members, owners = (ids_of(http.get(f"groups/{sales}/{rel}").json()) for rel in ("members", "owners"))
    assert http.delete(f"groups/{sales}").status_code == 204
    assert http.post(f"directory/deletedItems/{sales}/restore").status_code == 200
    assert ids_of(http.get(f"groups/{sales}/members").json()) == members
    assert ids_of(http.get(f"groups/{sales}/owners").json()) == owners


def test_restore_brings_a_user_back_with_its_memberships(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    kat = user_id(http, "kat@contoso.example")
    groups = ids_of(http.get(f"users/{kat}/memberOf").json())
    manager = http.get(f"users/{kat}/manager").json()["id"]
    assert http.delete(f"users/{kat}").status_code == 204
    assert http.post(f"directory/deletedItems/{kat}/restore").status_code == 200
    assert ids_of(http.get(f"users/{kat}/memberOf").json()) == groups
    assert http.get(f"users/{kat}/manager").json()["id"] == manager


def test_deleted_items_need_the_type_cast(graph_http: Http) -> None:
    """DC directory-deleteditems-list.md: "The OData cast type is a required part of the URI and calling
    `GET /directory/deleteditems` without a type is **not** supported.\""""
    assert graph_http("writer").get("directory/deletedItems").status_code == 400


def test_deleted_groups_need_group_read_all(graph_http: Http, narrow: str) -> None:
    """DC directory-deleteditems-list.md permissions: group → Group.Read.All, user → User.Read.All (or
    Directory.Read.All). The narrow app holds User.Read.All and GroupMember.Read.All only."""
    reader = graph_http(narrow)
    assert reader.get("directory/deletedItems/microsoft.graph.user").status_code == 200
    assert error_of(reader.get("directory/deletedItems/microsoft.graph.group")) == (
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
    assert graph_http("writer").get("directory/deletedItems/microsoft.graph.group").status_code == 200


def test_ordering_deleted_items_by_deleted_date_time_needs_advanced_parameters(graph_http: Http) -> None:
    """DC directory-deleteditems-list.md: $orderBy on deletedDateTime requires the advanced query
    parameters; userPrincipalName and displayName work by default."""
    http = graph_http("writer")
    url = "directory/deletedItems/microsoft.graph.user"
    assert http.get(url, params={"$orderby": "userPrincipalName"}).status_code == 200
    assert error_of(http.get(url, params={"$orderby": "deletedDateTime"}))[:2] == (
        400,
        "Request_UnsupportedQuery",
    )
    advanced = http.get(url, params={"$orderby": "deletedDateTime", "$count": "true"}, headers=EVENTUAL)
    assert advanced.status_code == 200
