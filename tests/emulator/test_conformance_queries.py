"""Conformance: paging and OData query options (DC concepts/paging, query-parameters,
aad-advanced-queries, user-list, group-list, resources/user and group filter tables)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conformance import (
    EVENTUAL,
    SPE_E5,
    Factory,
    Http,
    all_pages,
    error_of,
    group_id,
    ids_of,
    leave_seeded,  # noqa: F401 (fixture used by pytestmark)
    run,
    seeded,  # noqa: F401 (fixture used by pytestmark)
    user_id,
)

pytestmark = pytest.mark.usefixtures("leave_seeded", "seeded")


COUNT_UNSUPPORTED = (400, "Request_BadRequest", "$count is not currently supported.")
SEARCH_NEEDS_HEADER = (
    400,
    "Request_UnsupportedQuery",
    "Request with $search query parameter only works through MSGraph with a special request header: "
    "'ConsistencyLevel: eventual'",
)
ENDSWITH_NEEDS_ADVANCED = (
    400,
    "Request_UnsupportedQuery",
    "Operator 'endsWith' is not supported because the required parameters might be missing. Try adding "
    "$count=true query parameter and ConsistencyLevel:eventual header. Refer to "
    "https://aka.ms/graph-docs/advanced-queries for more information",
)


def users(http: httpx.Client, headers: dict[str, str] | None = None, **params: str) -> httpx.Response:
    return http.get("users", params={"$top": "999", **params}, headers=headers)


def names(reply: httpx.Response) -> list[str]:
    assert reply.status_code == 200, reply.text
    return [item["displayName"] for item in reply.json()["value"]]


@pytest.fixture
def everyone(graph_http: Http) -> list[dict[str, Any]]:
    """All demo users with the properties the filter tests compare against."""
    select = "id,displayName,userPrincipalName,mail,department,jobTitle,accountEnabled,companyName"
    return list(users(graph_http("reader"), **{"$select": select}).json()["value"])


def test_next_link_is_absolute_carries_the_options_and_pages_through(
    emulator_info: dict[str, Any], graph_http: Http, everyone: list[dict[str, Any]]
) -> None:
    http = graph_http("reader")
    pages = all_pages(http, "users?$top=5&$select=id,displayName")
    first = pages[0]["@odata.nextLink"]
    assert first.startswith(f"{emulator_info['graph_url']}/users?")
    assert "$top=5" in first and "$skiptoken=" in first and "$select=id,displayName" in first
    assert all(len(page["value"]) == 5 for page in pages[:-1]) and "@odata.nextLink" not in pages[-1]
    seen = [item["id"] for page in pages for item in page["value"]]
    assert len(seen) == len(set(seen)) == len(everyone)
    assert all(set(item) == {"id", "displayName"} for page in pages for item in page["value"])


def test_next_link_keeps_the_filter(graph_http: Http) -> None:
    http = graph_http("reader")
    pages = all_pages(http, "users?$top=2&$filter=department eq 'Finance'")
    assert len(pages) == 3 and "$filter=" in pages[0]["@odata.nextLink"]
    assert len([item for page in pages for item in page["value"]]) == 6


def test_members_are_paged_too(graph_http: Http) -> None:
    http = graph_http("reader")
    lic = group_id(http, "grp-lic-ems")
    pages = all_pages(http, f"groups/{lic}/members?$top=5")
    seen = [item["id"] for page in pages for item in page["value"]]
    assert len(pages) == 4 and len(seen) == len(set(seen)) == 19


@pytest.fixture
def big_tenant(reset_emulator: dict[str, Any], admin: httpx.Client) -> Iterator[None]:
    admin.post("seed", json={"seed": "synthetic:150:120:200"}).raise_for_status()
    yield
    admin.post("seed", json={"seed": "demo"}).raise_for_status()


def test_default_page_size_is_100(big_tenant: None, graph_http: Http) -> None:
    http = graph_http("reader")
    for collection in ("users", "groups"):
        first = http.get(collection).json()
        assert len(first["value"]) == 100 and "@odata.nextLink" in first
        rest = http.get(first["@odata.nextLink"]).json()
        assert len(rest["value"]) in {20, 50} and "@odata.nextLink" not in rest


@pytest.mark.parametrize("top", ["1000", "0"])
def test_top_outside_1_to_999_is_rejected(graph_http: Http, top: str) -> None:
    reply = graph_http("reader").get("users", params={"$top": top})
    assert error_of(reply) == (
        400,
        "Request_BadRequest",
        f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.",
    )


def test_top_999_is_accepted(graph_http: Http, everyone: list[dict[str, Any]]) -> None:
    assert len(graph_http("reader").get("users", params={"$top": "999"}).json()["value"]) == len(everyone)


def test_skip_is_not_supported_on_users(graph_http: Http) -> None:
    assert graph_http("reader").get("users", params={"$skip": "5"}).status_code == 400


def test_odata_count_needs_consistency_level_and_is_only_on_the_first_page(
    graph_http: Http, everyone: list[dict[str, Any]]
) -> None:
    http = graph_http("reader")
    silent = http.get("users", params={"$count": "true"})
    assert silent.status_code == 200 and "@odata.count" not in silent.json()
    pages = all_pages(http, "users?$count=true&$top=10", headers=EVENTUAL)
    assert pages[0]["@odata.count"] == len(everyone)
    assert len(pages) > 1 and all("@odata.count" not in page for page in pages[1:])


def test_odata_count_counts_the_filtered_set(graph_http: Http) -> None:
    reply = graph_http("reader").get(
        "users",
        params={"$count": "true", "$filter": "department eq 'Finance'", "$top": "2"},
        headers=EVENTUAL,
    )
    assert reply.json()["@odata.count"] == 6 and len(reply.json()["value"]) == 2


@pytest.mark.parametrize("collection", ["users", "groups"])
def test_count_segment_is_text_plain_and_needs_the_header(graph_http: Http, collection: str) -> None:
    http = graph_http("reader")
    total = len(http.get(collection, params={"$top": "999"}).json()["value"])
    reply = http.get(f"{collection}/$count", headers=EVENTUAL)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    assert reply.text == str(total)
    assert error_of(http.get(f"{collection}/$count")) == COUNT_UNSUPPORTED


def test_count_segment_with_a_filter(graph_http: Http) -> None:
    reply = graph_http("reader").get(
        "users/$count", params={"$filter": "department eq 'Finance'"}, headers=EVENTUAL
    )
    assert reply.text == "6"


def test_search_needs_the_header(graph_http: Http) -> None:
    reply = graph_http("reader").get("users", params={"$search": '"displayName:Lovelace"'})
    assert error_of(reply) == SEARCH_NEEDS_HEADER


def test_search_matches_word_prefixes_and_combines_with_or(graph_http: Http) -> None:
    http = graph_http("reader")
    assert names(users(http, EVENTUAL, **{"$search": '"displayName:Love"'})) == ["Ada Lovelace"]
    either = users(http, EVENTUAL, **{"$search": '"displayName:Ada" OR "displayName:Hopper"'})
    assert sorted(names(either)) == ["Ada Lovelace", "Grace Hopper"]
    groups = http.get("groups", params={"$search": '"displayName:Engineering"'}, headers=EVENTUAL)
    assert sorted(names(groups)) == ["Engineering", "Platform Engineering", "Product Engineering"]


def test_search_with_count_and_orderby(graph_http: Http) -> None:
    reply = users(
        graph_http("reader"),
        EVENTUAL,
        **{"$search": '"displayName:Gr"', "$count": "true", "$orderby": "displayName"},
    )
    assert names(reply) == ["Grace Hopper", "Grady Archie", "Miriam Graham"]
    assert reply.json()["@odata.count"] == 3


def test_ends_with_needs_advanced_parameters(graph_http: Http, everyone: list[dict[str, Any]]) -> None:
    http = graph_http("reader")
    query = {"$filter": "endswith(mail,'a@contoso.example')"}
    assert error_of(users(http, **query)) == ENDSWITH_NEEDS_ADVANCED
    assert error_of(users(http, EVENTUAL, **query)) == ENDSWITH_NEEDS_ADVANCED
    found = users(http, EVENTUAL, **query, **{"$count": "true"})
    expected = sorted(u["displayName"] for u in everyone if (u["mail"] or "").endswith("a@contoso.example"))
    assert expected and sorted(names(found)) == expected
    upn = users(
        http, EVENTUAL, **{"$filter": "endsWith(userPrincipalName,'@contoso.example')", "$count": "true"}
    )
    assert len(names(upn)) == len(everyone)


def test_ne_and_not_need_advanced_parameters(graph_http: Http, everyone: list[dict[str, Any]]) -> None:
    http = graph_http("reader")
    for clause in ("displayName ne 'Ada Lovelace'", "not(startswith(displayName,'A'))"):
        status, code, _ = error_of(users(http, **{"$filter": clause}))
        assert (status, code) == (400, "Request_UnsupportedQuery")
    ne = users(http, EVENTUAL, **{"$filter": "displayName ne 'Ada Lovelace'", "$count": "true"})
    assert len(names(ne)) == len(everyone) - 1
    negated = users(http, EVENTUAL, **{"$filter": "not(startswith(displayName,'A'))", "$count": "true"})
    assert sorted(names(negated)) == sorted(
        u["displayName"] for u in everyone if not u["displayName"].startswith("A")
    )


def test_filter_on_a_property_that_is_not_indexed(graph_http: Http) -> None:
    reply = graph_http("reader").get("groups", params={"$filter": "createdDateTime ge 2020-01-01T00:00:00Z"})
    assert error_of(reply) == (
        400,
        "Request_UnsupportedQuery",
        "Unsupported or invalid query filter clause specified for property 'createdDateTime' "
        "of resource 'Group'.",
    )


def test_advanced_only_properties_need_advanced_parameters(
    graph_http: Http, everyone: list[dict[str, Any]]
) -> None:
    http = graph_http("reader")
    status, code, _ = error_of(users(http, **{"$filter": "companyName eq 'Contoso Ltd'"}))
    assert (status, code) == (400, "Request_UnsupportedQuery")
    found = users(http, EVENTUAL, **{"$filter": "companyName eq 'Contoso Ltd'", "$count": "true"})
    assert len(names(found)) == sum(1 for u in everyone if u["companyName"] == "Contoso Ltd")


def test_default_filter_operators_on_users(graph_http: Http, everyone: list[dict[str, Any]]) -> None:
    http = graph_http("reader")
    assert names(users(http, **{"$filter": "userPrincipalName eq 'ada@contoso.example'"})) == ["Ada Lovelace"]
    both = users(http, **{"$filter": "userPrincipalName in ('ada@contoso.example','lee@contoso.example')"})
    assert sorted(names(both)) == ["Ada Lovelace", "Lee Gu"]
    assert names(users(http, **{"$filter": "userPrincipalName in ('ada@contoso.example')"})) == [
        "Ada Lovelace"
    ]
    starts = users(http, **{"$filter": "startswith(displayName,'Gr')"})
    assert sorted(names(starts)) == ["Grace Hopper", "Grady Archie"]
    ranged = users(http, **{"$filter": "displayName ge 'Y' and displayName le 'Z'"})
    assert sorted(names(ranged)) == sorted(
        u["displayName"] for u in everyone if "Y" <= u["displayName"] <= "Z"
    )
    assert len(names(users(http, **{"$filter": "accountEnabled eq true"}))) == len(everyone)
    assert len(names(users(http, **{"$filter": "userType eq 'Member'"}))) == len(everyone)
    finance = users(http, **{"$filter": "department eq 'Finance' and jobTitle eq 'Financial Analyst'"})
    assert sorted(names(finance)) == ["Raul Razo", "Tomas Ruiz"]
    either = users(http, **{"$filter": "jobTitle eq 'Recruiter' or jobTitle eq 'Brand Designer'"})
    assert sorted(names(either)) == ["Miriam Graham", "Sam Taylor"]


def test_filter_by_assigned_license_lambda(graph_http: Http) -> None:
    http = graph_http("reader")
    everyone = users(http, **{"$select": "id,assignedLicenses"}).json()["value"]
    holders = {u["id"] for u in everyone if any(lic["skuId"] == SPE_E5 for lic in u["assignedLicenses"])}
    reply = users(http, **{"$filter": f"assignedLicenses/any(x:x/skuId eq {SPE_E5})", "$select": "id"})
    assert holders and ids_of(reply.json()) == holders


def test_default_filter_operators_on_groups(graph_http: Http) -> None:
    http = graph_http("reader")

    def groups(clause: str) -> list[str]:
        return sorted(names(http.get("groups", params={"$filter": clause})))

    assert groups("groupTypes/any(c:c eq 'Unified')") == ["Sales"]
    assert groups("mailEnabled eq true") == ["Sales"]
    assert groups("securityEnabled eq false") == ["Sales"]
    assert groups("displayName eq 'Finance'") == ["Finance"]
    assert groups("startswith(displayName,'P')") == ["People", "Platform Engineering", "Product Engineering"]
    assert groups("mailNickname in ('grp-people','grp-sales')") == ["People", "Sales"]
    assert "Sales" not in groups("mail eq null") and "Finance" in groups("mail eq null")
    finance = group_id(http, "grp-finance")
    assert groups(f"id eq '{finance}'") == ["Finance"]


def test_invalid_filters_are_400(graph_http: Http) -> None:
    http = graph_http("reader")
    for clause in ("displayName eq", "nosuchproperty eq 'x'", "displayName eq 'unterminated"):
        assert users(http, **{"$filter": clause}).status_code == 400


def test_select_of_an_unknown_property_is_400(graph_http: Http) -> None:
    assert graph_http("reader").get("users", params={"$select": "noSuchProperty"}).status_code == 400


def test_orderby_display_name_and_upn_by_default(graph_http: Http, everyone: list[dict[str, Any]]) -> None:
    http = graph_http("reader")
    assert names(users(http, **{"$orderby": "displayName"})) == sorted(u["displayName"] for u in everyone)
    descending = names(users(http, **{"$orderby": "displayName desc"}))
    assert descending == sorted((u["displayName"] for u in everyone), reverse=True)
    by_upn = users(http, **{"$orderby": "userPrincipalName", "$select": "userPrincipalName"}).json()["value"]
    assert [u["userPrincipalName"] for u in by_upn] == sorted(u["userPrincipalName"] for u in everyone)
    groups = names(http.get("groups", params={"$orderby": "displayName"}))
    assert groups == sorted(groups)


def test_orderby_other_properties_and_filter_with_orderby_need_advanced(
    graph_http: Http, everyone: list[dict[str, Any]]
) -> None:
    http = graph_http("reader")
    assert users(http, **{"$orderby": "jobTitle"}).status_code == 400
    combined = {"$filter": "department eq 'Finance'", "$orderby": "displayName"}
    assert error_of(users(http, **combined))[:2] == (400, "Request_UnsupportedQuery")
    sorted_finance = users(http, EVENTUAL, **combined, **{"$count": "true"})
    assert names(sorted_finance) == sorted(u["displayName"] for u in everyone if u["department"] == "Finance")
    by_title = users(http, EVENTUAL, **{"$orderby": "jobTitle", "$count": "true", "$select": "jobTitle"})
    titles = [u["jobTitle"] for u in by_title.json()["value"]]
    assert titles == sorted(titles)


def test_page_iterator_of_the_sdk_follows_next_links(
    graph_client: Factory, everyone: list[dict[str, Any]]
) -> None:

    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder
    from msgraph_core.tasks.page_iterator import PageIterator

    async def go() -> tuple[list[str], int]:
        client = graph_client("reader")
        query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            top=5, select=["id", "displayName"], count=True
        )
        config = RequestConfiguration(query_parameters=query)
        config.headers.add("ConsistencyLevel", "eventual")
        first = await client.users.get(request_configuration=config)
        count = first.odata_count
        seen: list[str] = []
        iterator = PageIterator(first, client.request_adapter)
        iterator.headers.add("ConsistencyLevel", "eventual")  # set_headers() passes a dict to add_all(**)

        def keep(user: Any) -> bool:
            seen.append(user.id)
            return True

        await iterator.iterate(keep)
        return seen, count

    seen, count = run(go())
    assert len(seen) == len(set(seen)) == len(everyone) == count


def test_count_through_the_sdk(graph_client: Factory, everyone: list[dict[str, Any]]) -> None:
    from kiota_abstractions.base_request_configuration import RequestConfiguration

    async def go() -> int:
        config = RequestConfiguration()
        config.headers.add("ConsistencyLevel", "eventual")
        return int(await graph_client("reader").users.count.get(request_configuration=config))

    assert run(go()) == len(everyone)


def test_string_comparisons_are_case_insensitive(graph_http: Http) -> None:
    """DC user-list-memberof and group-list-members: `startswith(displayName, 'a')` finds "AAD Contoso
    Users"; user-list: `$search="displayName:wa"` finds "Oscar Ward"."""
    http = graph_http("reader")
    assert sorted(names(users(http, **{"$filter": "startswith(displayName,'gr')"}))) == [
        "Grace Hopper",
        "Grady Archie",
    ]
    assert names(users(http, EVENTUAL, **{"$search": '"displayName:love"'})) == ["Ada Lovelace"]


def test_member_of_cast_with_advanced_filter_and_order(graph_http: Http) -> None:
    http = graph_http("reader")
    reply = http.get(
        "users/lee@contoso.example/memberOf/microsoft.graph.group",
        params={"$count": "true", "$orderby": "displayName", "$filter": "startswith(displayName, 'e')"},
        headers=EVENTUAL,
    ).json()
    assert reply["@odata.context"].endswith("/$metadata#groups")
    assert [g["displayName"] for g in reply["value"]] == ["Entra ID Administrators"]
    assert reply["@odata.count"] == 1
    count = http.get("users/lee@contoso.example/memberOf/microsoft.graph.group/$count", headers=EVENTUAL)
    direct = http.get("users/lee@contoso.example/memberOf").json()["value"]
    assert count.text == str(len(direct))


def test_top_bounds_hold_for_members_too(graph_http: Http) -> None:
    http = graph_http("reader")
    reply = http.get(f"groups/{group_id(http, 'grp-sales')}/members", params={"$top": "1000"})
    assert error_of(reply) == (
        400,
        "Request_BadRequest",
        "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.",
    )


def test_a_tampered_skiptoken_is_400(graph_http: Http) -> None:
    http = graph_http("reader")
    link = http.get("users", params={"$top": "5"}).json()["@odata.nextLink"]
    assert http.get(link.replace("$skiptoken=", "$skiptoken=garbage")).status_code == 400


def test_operators_a_property_does_not_support_are_rejected(graph_http: Http) -> None:
    http = graph_http("reader")
    advanced = {"$count": "true"}
    for clause in ("endswith(displayName,'Gu')", "accountEnabled ge true", "endswith(jobTitle,'Engineer')"):
        status, code, _ = error_of(users(http, EVENTUAL, **{"$filter": clause}, **advanced))
        assert (status, code) == (400, "Request_UnsupportedQuery"), clause


def test_not_on_group_types_with_advanced_parameters(graph_http: Http) -> None:
    http = graph_http("reader")
    everything = names(http.get("groups", params={"$top": "999"}))
    reply = http.get(
        "groups",
        params={"$filter": "not(groupTypes/any(c:c eq 'Unified'))", "$count": "true"},
        headers=EVENTUAL,
    )
    assert sorted(names(reply)) == sorted(name for name in everything if name != "Sales")


def test_consistency_level_is_not_carried_into_next_links(graph_http: Http) -> None:
    http = graph_http("reader")
    first = http.get("users", params={"$search": '"displayName:a"', "$top": "2"}, headers=EVENTUAL).json()
    link = first["@odata.nextLink"]
    assert "$search=" in link
    assert error_of(http.get(link)) == SEARCH_NEEDS_HEADER
    assert http.get(link, headers=EVENTUAL).status_code == 200


def test_sdk_query_parameters_reach_the_service(graph_client: Factory) -> None:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.users.delta.delta_request_builder import DeltaRequestBuilder
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

    async def go() -> tuple[Any, Any, Any]:
        client = graph_client("reader")
        config = RequestConfiguration(
            query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
                filter="startswith(displayName,'G')",
                count=True,
                orderby=["displayName desc"],
                select=["id", "displayName"],
                top=1,
            )
        )
        config.headers.add("ConsistencyLevel", "eventual")
        filtered = await client.users.get(request_configuration=config)
        search = RequestConfiguration(
            query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
                search='"displayName:Love"'
            )
        )
        search.headers.add("ConsistencyLevel", "eventual")
        searched = await client.users.get(request_configuration=search)
        delta_config = RequestConfiguration(
            query_parameters=DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(select=["displayName"])
        )
        delta = await client.users.delta.get(request_configuration=delta_config)
        return filtered, searched, delta

    filtered, searched, delta = run(go())
    assert filtered.odata_count == 2 and [u.display_name for u in filtered.value] == ["Grady Archie"]
    assert filtered.odata_next_link
    assert [u.display_name for u in searched.value] == ["Ada Lovelace"]
    assert delta.value and all(u.display_name and not u.user_principal_name for u in delta.value)


def test_order_holds_across_pages(graph_http: Http, everyone: list[dict[str, Any]]) -> None:
    pages = all_pages(graph_http("reader"), "users?$orderby=displayName&$top=7&$select=displayName")
    seen = [user["displayName"] for page in pages for user in page["value"]]
    assert seen == sorted(u["displayName"] for u in everyone)


def test_count_of_a_collection_in_a_filter_needs_advanced_parameters(graph_http: Http) -> None:
    """DC aad-advanced-queries.md: `~/users?$filter=assignedLicenses/$count eq 0&$count=true` (advanced)."""
    http = graph_http("reader")
    licensed = users(http, **{"$select": "id,assignedLicenses"}).json()["value"]
    without = {u["id"] for u in licensed if not u["assignedLicenses"]}
    clause = {"$filter": "assignedLicenses/$count eq 0", "$select": "id"}
    assert error_of(users(http, **clause))[:2] == (400, "Request_UnsupportedQuery")
    assert ids_of(users(http, EVENTUAL, **clause, **{"$count": "true"}).json()) == without
    some = users(
        http, EVENTUAL, **{"$filter": "assignedLicenses/$count ne 0", "$select": "id", "$count": "true"}
    )
    assert ids_of(some.json()) == {u["id"] for u in licensed} - without


def test_accountenabled_ne_true_is_the_documented_advanced_query(graph_http: Http) -> None:
    http = graph_http("reader")
    reply = users(http, EVENTUAL, **{"$filter": "accountEnabled ne true", "$count": "true"})
    assert reply.status_code == 200 and reply.json()["@odata.count"] == len(reply.json()["value"])
    assert error_of(users(http, **{"$filter": "accountEnabled ne true"}))[:2] == (
        400,
        "Request_UnsupportedQuery",
    )


def test_filter_on_premises_sync_enabled(
    reset_emulator: dict[str, Any], graph_http: Http, admin: httpx.Client
) -> None:
    """DC resources/user.md: onPremisesSyncEnabled supports $filter eq (and eq on null values)."""
    http = graph_http("reader")
    ada = user_id(http, "ada@contoso.example")
    admin.patch(f"users/{ada}", json={"onPremisesSyncEnabled": True}).raise_for_status()
    synced = users(http, **{"$filter": "onPremisesSyncEnabled eq true", "$select": "id"})
    assert ids_of(synced.json()) == {ada}
