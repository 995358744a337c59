"""OData query options on directory collections: $filter, $search, $orderby, $top, $skiptoken, $count."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from graph_calls import Tenant, error_of

from reconciler.emulator import skus

EVENTUAL = {"ConsistencyLevel": "eventual"}


@pytest.fixture(scope="module")
def tenant() -> Iterator[Tenant]:
    t = Tenant("demo")
    yield t
    t.close()


def upns(tenant: Tenant, url: str, headers: dict[str, str] | None = None) -> list[str]:
    response = tenant.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return [u["userPrincipalName"] for u in response.json()["value"]]


def test_top_pages_with_absolute_next_links_keeping_options(tenant: Tenant) -> None:
    first = tenant.get("users?$top=7&$select=id,userPrincipalName").json()
    link = first["@odata.nextLink"]
    assert (
        link.startswith("https://graph.microsoft.com/v1.0/users?") and "$top=7" in link and "$select=" in link
    )
    seen = [u["id"] for u in first["value"]]
    while link:
        page = tenant.get(link).json()
        assert len(page["value"]) <= 7 and set(page["value"][0]) == {"id", "userPrincipalName"}
        seen += [u["id"] for u in page["value"]]
        link = page.get("@odata.nextLink")
    assert seen == list(tenant.store.users)


@pytest.mark.parametrize("top", ["1000", "0", "abc"])
def test_top_out_of_range(tenant: Tenant, top: str) -> None:
    status, code, message = error_of(tenant.get(f"users?$top={top}"))
    assert (status, code) == (400, "Request_BadRequest")
    assert message == f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive."


def test_paging_is_stable_when_earlier_items_disappear() -> None:
    t = Tenant("demo")
    try:
        first = t.get("users?$top=5&$select=id").json()
        t.call("DELETE", f"users/{first['value'][0]['id']}")
        second = t.get(first["@odata.nextLink"]).json()
        assert second["value"][0]["id"] == list(t.store.users)[4]
    finally:
        t.close()


def test_filter_eq_startswith_in_and_boolean(tenant: Tenant) -> None:
    assert upns(tenant, "users?$filter=department eq 'Finance'") == [
        "rob@contoso.example", "cameron@contoso.example", "kat@contoso.example", "raul@contoso.example",
        "sara@contoso.example", "tomas@contoso.example",
    ]  # fmt: skip
    assert upns(tenant, "users?$filter=startsWith(displayName,'gra')") == [
        "grace@contoso.example",
        "grady@contoso.example",
    ]
    assert upns(tenant, "users?$filter=userPrincipalName in ('ada@contoso.example')") == [
        "ada@contoso.example"
    ]
    both = "users?$filter=userPrincipalName in ('ada@contoso.example','lee@contoso.example')"
    assert upns(tenant, both) == ["ada@contoso.example", "lee@contoso.example"]
    assert "lynne@contoso.example" in upns(tenant, "users?$filter=accountEnabled eq true")


def test_filter_assigned_licenses_lambda(tenant: Tenant) -> None:
    url = f"users?$filter=assignedLicenses/any(x:x/skuId eq {skus.SPE_E5})&$select=userPrincipalName"
    found = upns(tenant, url)
    assert "grace@contoso.example" in found and "ada@contoso.example" not in found


def test_filter_group_types_lambda(tenant: Tenant) -> None:
    groups = tenant.get("groups?$filter=groupTypes/any(c:c eq 'Unified')").json()["value"]
    assert [g["mailNickname"] for g in groups] == ["grp-sales"]


def test_filter_case_insensitive_string_compare(tenant: Tenant) -> None:
    assert upns(tenant, "users?$filter=userPrincipalName eq 'ADA@contoso.example'") == ["ada@contoso.example"]


def test_ends_with_needs_advanced_query(tenant: Tenant) -> None:
    url = "users?$filter=endsWith(mail,'@contoso.example')"
    status, code, message = error_of(tenant.get(url))
    assert (status, code) == (400, "Request_UnsupportedQuery")
    assert message.startswith(
        "Operator 'endsWith' is not supported because the required parameters might be missing."
    )
    response = tenant.get(url + "&$count=true", headers=EVENTUAL)
    assert response.status_code == 200 and response.json()["@odata.count"] == len(response.json()["value"])


def test_ne_and_not_need_advanced_query(tenant: Tenant) -> None:
    for clause in ("accountEnabled ne true", "not(accountEnabled eq true)"):
        assert error_of(tenant.get(f"users?$filter={clause}"))[:2] == (400, "Request_UnsupportedQuery")
        assert upns(tenant, f"users?$filter={clause}&$count=true", EVENTUAL) == []


def test_unsupported_property_filter(tenant: Tenant) -> None:
    status, code, message = error_of(tenant.get("groups?$filter=createdDateTime ge 2020-01-01T00:00:00Z"))
    assert (status, code, message) == (
        400,
        "Request_UnsupportedQuery",
        "Unsupported or invalid query filter clause specified for property 'createdDateTime' "
        "of resource 'Group'.",
    )


def test_advanced_only_property(tenant: Tenant) -> None:
    assert tenant.get("users?$filter=companyName eq 'Contoso Ltd'").status_code == 400
    found = upns(tenant, "users?$filter=companyName eq 'Contoso Ltd'&$count=true", EVENTUAL)
    assert "grace@contoso.example" in found


def test_count_true_without_header_is_ignored(tenant: Tenant) -> None:
    assert "@odata.count" not in tenant.get("users?$count=true").json()


def test_count_segment(tenant: Tenant) -> None:
    status, code, message = error_of(tenant.get("users/$count"))
    assert (status, code, message) == (400, "Request_BadRequest", "$count is not currently supported.")
    response = tenant.get("users/$count", headers=EVENTUAL)
    assert response.text == str(len(tenant.store.users))


def test_search_needs_eventual_header(tenant: Tenant) -> None:
    url = "users?$search=" + quote('"displayName:gra"')
    status, code, message = error_of(tenant.get(url))
    assert (status, code) == (400, "Request_UnsupportedQuery")
    assert message == (
        "Request with $search query parameter only works through MSGraph with a special request header: "
        "'ConsistencyLevel: eventual'"
    )
    # Words starting with the term: Miriam Graham matches too.
    found = ["grace@contoso.example", "grady@contoso.example", "miriam@contoso.example"]
    assert upns(tenant, url, EVENTUAL) == found
    assert upns(tenant, "users?$search=" + quote('"displayName:iam"'), EVENTUAL) == []


def test_orderby_display_name_and_advanced_rules(tenant: Tenant) -> None:
    names = [u["displayName"] for u in tenant.get("users?$orderby=displayName desc").json()["value"]]
    assert names == sorted(names, key=str.casefold, reverse=True)
    assert error_of(tenant.get("users?$orderby=department"))[2] == "Sorting not supported for current query."
    url = "users?$orderby=displayName&$filter=department eq 'Sales'"
    assert tenant.get(url).status_code == 400
    assert tenant.get(url + "&$count=true", headers=EVENTUAL).status_code == 200


def test_unknown_select_property(tenant: Tenant) -> None:
    assert error_of(tenant.get("users?$select=nonsense"))[:2] == (400, "BadRequest")


def test_assigned_licenses_count_segment_needs_advanced_query(tenant: Tenant) -> None:
    url = "users?$filter=assignedLicenses/$count eq 0&$select=userPrincipalName"
    assert error_of(tenant.get(url))[:2] == (400, "Request_UnsupportedQuery")
    unlicensed = upns(tenant, url + "&$count=true", EVENTUAL)
    assert set(unlicensed) == {"lynne@contoso.example", "sam@contoso.example", "breakglass@contoso.example"}
