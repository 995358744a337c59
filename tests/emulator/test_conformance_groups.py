"""Conformance: groups, members and owners (DC group-post-groups, group-update, group-delete,
group-post-members, group-delete-members, group-list-members, group-list-transitivemembers,
group-*-owners; user-list on replication delays), through raw HTTP and the real SDK."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from conformance import (
    EVENTUAL,
    MISSING_ID,
    NOT_FOUND_TEXT,
    Factory,
    Http,
    error_of,
    group_id,
    ids_of,
    leave_seeded,  # noqa: F401 (fixture used by pytestmark)
    new_group,
    new_user,
    no_retry,
    run,
    seeded,  # noqa: F401 (fixture used by pytestmark)
    user_id,
)
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

pytestmark = pytest.mark.usefixtures("leave_seeded", "seeded")


ALREADY_MEMBER = (
    "One or more added object references already exist for the following modified properties: 'members'."
)
NOT_A_MEMBER = (
    "One or more removed object references do not exist for the following modified properties: 'members'."
)
LAST_OWNER = "The group must have at least one owner, hence this owner cannot be removed."


def user_url(object_id: str) -> str:
    return f"https://graph.microsoft.com/v1.0/users/{object_id}"


def object_ref(object_id: str) -> dict[str, str]:
    return {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{object_id}"}


def test_create_security_group_returns_201_with_the_group(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    reply = graph_http("writer").post("groups", json=new_group("operations2019", description="Ops"))
    assert reply.status_code == 201
    body = reply.json()
    assert body["@odata.context"] == f"{reset_emulator['graph_url']}/$metadata#groups/$entity"
    assert body["displayName"] == "Operations2019" and body["description"] == "Ops"
    assert body["groupTypes"] == [] and body["securityEnabled"] is True and body["mailEnabled"] is False
    assert body["mail"] is None and body["createdDateTime"]
    assert graph_http("reader").get(f"groups/{body['id']}").json()["mailNickname"] == "operations2019"


def test_create_microsoft_365_group_gets_a_mail_address_on_a_verified_domain(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    body = graph_http("writer").post("groups", json=new_group("library", unified=True)).json()
    assert body["groupTypes"] == ["Unified"] and body["mailEnabled"] is True
    assert body["mail"].lower().startswith("library") and body["mail"].endswith(
        ("@contoso.example", "@fabrikam.example")
    )


@pytest.mark.parametrize("missing", ["displayName", "mailEnabled", "mailNickname", "securityEnabled"])
def test_create_group_without_a_required_property_is_400(
    reset_emulator: dict[str, Any], graph_http: Http, missing: str
) -> None:
    body = new_group("incomplete")
    del body[missing]
    assert error_of(graph_http("writer").post("groups", json=body))[:2] == (400, "Request_BadRequest")


@pytest.mark.parametrize("nickname", ["has space", "at@sign", "semi;colon", "x" * 65])
def test_create_group_with_an_invalid_mail_nickname_is_400(
    reset_emulator: dict[str, Any], graph_http: Http, nickname: str
) -> None:
    assert error_of(graph_http("writer").post("groups", json=new_group(nickname)))[:2] == (
        400,
        "Request_BadRequest",
    )


def test_create_group_with_owner_and_member_binds(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    ada, lee, kat = (user_id(http, f"{name}@contoso.example") for name in ("ada", "lee", "kat"))
    body = new_group(
        "operations2019",
        **{"owners@odata.bind": [user_url(ada)], "members@odata.bind": [user_url(lee), user_url(kat)]},
    )
    created = http.post("groups", json=body)
    assert created.status_code == 201
    group = created.json()["id"]
    assert ids_of(http.get(f"groups/{group}/owners").json()) == {ada}
    assert ids_of(http.get(f"groups/{group}/members").json()) == {lee, kat}


def test_create_group_with_more_than_20_binds_is_400_and_creates_nothing(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    people = [
        user["id"] for user in http.get("users", params={"$select": "id", "$top": "21"}).json()["value"]
    ]
    body = new_group(
        "toomany",
        **{
            "owners@odata.bind": [user_url(people[0])],
            "members@odata.bind": [user_url(p) for p in people[1:]],
        },
    )
    assert error_of(http.post("groups", json=body))[:2] == (400, "Request_BadRequest")
    assert http.get("groups", params={"$filter": "mailNickname eq 'toomany'"}).json()["value"] == []
    body["members@odata.bind"] = body["members@odata.bind"][:19]
    assert http.post("groups", json=body).status_code == 201


def test_update_group_is_204(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    finance = group_id(http, "grp-finance")
    reply = http.patch(f"groups/{finance}", json={"description": "Money", "displayName": "Finance Team"})
    assert reply.status_code == 204 and reply.content == b""
    body = http.get(f"groups/{finance}").json()
    assert (body["description"], body["displayName"]) == ("Money", "Finance Team")


def test_unknown_group_is_404_with_the_directory_message(graph_http: Http) -> None:
    assert error_of(graph_http("reader").get(f"groups/{MISSING_ID}")) == (
        404,
        "Request_ResourceNotFound",
        NOT_FOUND_TEXT.format(MISSING_ID),
    )


def test_list_members_returns_directory_objects_with_their_type(
    emulator_info: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("reader")
    body = http.get(f"groups/{group_id(http, 'grp-engineering')}/members").json()
    assert body["@odata.context"] == f"{emulator_info['graph_url']}/$metadata#directoryObjects"
    types = {item["displayName"]: item["@odata.type"] for item in body["value"]}
    assert types["Ada Lovelace"] == "#microsoft.graph.user"
    assert types["Platform Engineering"] == "#microsoft.graph.group"


def test_members_cast_to_users_and_count_segment(graph_http: Http) -> None:
    http = graph_http("reader")
    engineering = group_id(http, "grp-engineering")
    users = http.get(f"groups/{engineering}/members/microsoft.graph.user").json()
    assert users["@odata.context"].endswith("/$metadata#users")
    assert {item["displayName"] for item in users["value"]} == {"Grace Hopper", "Ada Lovelace"}
    count = http.get(f"groups/{engineering}/members/$count", headers=EVENTUAL)
    assert count.status_code == 200 and count.headers["content-type"].startswith("text/plain")
    assert count.text == "4"
    user_count = http.get(f"groups/{engineering}/members/microsoft.graph.user/$count", headers=EVENTUAL)
    assert user_count.text == "2"


def test_members_count_segment_without_consistency_level_is_400(graph_http: Http) -> None:
    http = graph_http("reader")
    reply = http.get(f"groups/{group_id(http, 'grp-engineering')}/members/$count")
    assert error_of(reply) == (400, "Request_BadRequest", "$count is not currently supported.")


def test_transitive_members_flatten_nested_groups(graph_http: Http) -> None:
    http = graph_http("reader")
    engineering, platform = group_id(http, "grp-engineering"), group_id(http, "grp-platform")
    direct = ids_of(http.get(f"groups/{engineering}/members").json())
    transitive = http.get(f"groups/{engineering}/transitiveMembers", params={"$top": "999"}).json()
    nested = ids_of(http.get(f"groups/{platform}/members").json())
    assert direct | nested <= ids_of(transitive)
    only_users = http.get(f"groups/{engineering}/transitiveMembers/microsoft.graph.user").json()
    assert all(item["@odata.type"] == "#microsoft.graph.user" for item in only_users["value"])
    assert platform not in ids_of(only_users) and nested <= ids_of(only_users)


def test_add_member_by_ref_then_duplicate_is_400(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    people, ada = group_id(http, "grp-people"), user_id(http, "ada@contoso.example")
    reply = http.post(f"groups/{people}/members/$ref", json=object_ref(ada))
    assert reply.status_code == 204 and reply.content == b""
    assert ada in ids_of(http.get(f"groups/{people}/members").json())
    assert error_of(http.post(f"groups/{people}/members/$ref", json=object_ref(ada))) == (
        400,
        "Request_BadRequest",
        ALREADY_MEMBER,
    )


def test_add_a_group_as_member_nests_it(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    leadership, finance = group_id(http, "grp-leadership"), group_id(http, "grp-finance")
    assert http.post(f"groups/{leadership}/members/$ref", json=object_ref(finance)).status_code == 204
    members = http.get(f"groups/{leadership}/members").json()["value"]
    assert {"#microsoft.graph.group"} == {m["@odata.type"] for m in members if m["id"] == finance}


def test_add_missing_member_is_404(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    reply = http.post(f"groups/{group_id(http, 'grp-people')}/members/$ref", json=object_ref(MISSING_ID))
    assert error_of(reply)[:2] == (404, "Request_ResourceNotFound")


def test_add_member_to_missing_group_is_404(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    reply = http.post(
        f"groups/{MISSING_ID}/members/$ref", json=object_ref(user_id(http, "ada@contoso.example"))
    )
    assert error_of(reply) == (404, "Request_ResourceNotFound", NOT_FOUND_TEXT.format(MISSING_ID))


def test_remove_member_then_not_a_member(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    people, jordan = group_id(http, "grp-people"), user_id(http, "jordan@contoso.example")
    reply = http.delete(f"groups/{people}/members/{jordan}/$ref")
    assert reply.status_code == 204 and reply.content == b""
    assert jordan not in ids_of(http.get(f"groups/{people}/members").json())
    again = error_of(http.delete(f"groups/{people}/members/{jordan}/$ref"))
    assert again in {
        (404, "Request_ResourceNotFound", NOT_FOUND_TEXT.format(jordan)),
        (400, "Request_BadRequest", NOT_A_MEMBER),
    }


def test_bulk_add_members_with_odata_bind(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    people = group_id(http, "grp-people")
    newcomers = [user_id(http, f"{name}@contoso.example") for name in ("ada", "kat", "lee")]
    reply = http.patch(f"groups/{people}", json={"members@odata.bind": [user_url(u) for u in newcomers]})
    assert reply.status_code == 204
    assert set(newcomers) <= ids_of(http.get(f"groups/{people}/members").json())


def test_bulk_add_is_all_or_nothing(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    people = group_id(http, "grp-people")
    before = ids_of(http.get(f"groups/{people}/members").json())
    ada, jordan = user_id(http, "ada@contoso.example"), user_id(http, "jordan@contoso.example")
    for bad in (MISSING_ID, jordan):  # an unknown object, then an existing member
        reply = http.patch(f"groups/{people}", json={"members@odata.bind": [user_url(ada), user_url(bad)]})
        assert reply.status_code in {400, 404}
        assert ids_of(http.get(f"groups/{people}/members").json()) == before


def test_bulk_add_of_more_than_20_is_400_and_adds_nothing(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    group = http.post("groups", json=new_group("bulk")).json()["id"]
    people = [
        user["id"] for user in http.get("users", params={"$select": "id", "$top": "21"}).json()["value"]
    ]
    reply = http.patch(f"groups/{group}", json={"members@odata.bind": [user_url(p) for p in people]})
    assert error_of(reply)[:2] == (400, "Request_BadRequest")
    assert http.get(f"groups/{group}/members").json()["value"] == []
    assert (
        http.patch(
            f"groups/{group}", json={"members@odata.bind": [user_url(p) for p in people[:20]]}
        ).status_code
        == 204
    )
    assert len(http.get(f"groups/{group}/members").json()["value"]) == 20


def test_owners_add_list_remove_and_last_owner(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    finance = group_id(http, "grp-finance")
    rob, cameron = user_id(http, "rob@contoso.example"), user_id(http, "cameron@contoso.example")
    owners = http.get(f"groups/{finance}/owners").json()
    assert ids_of(owners) == {rob} and owners["value"][0]["@odata.type"] == "#microsoft.graph.user"
    assert http.post(f"groups/{finance}/owners/$ref", json=object_ref(cameron)).status_code == 204
    assert ids_of(http.get(f"groups/{finance}/owners").json()) == {rob, cameron}
    assert http.delete(f"groups/{finance}/owners/{rob}/$ref").status_code == 204
    assert error_of(http.delete(f"groups/{finance}/owners/{cameron}/$ref")) == (
        400,
        "Request_BadRequest",
        LAST_OWNER,
    )
    assert ids_of(http.get(f"groups/{finance}/owners").json()) == {cameron}


def test_delete_security_group_is_permanent(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    finance = group_id(http, "grp-finance")
    reply = http.delete(f"groups/{finance}")
    assert reply.status_code == 204 and reply.content == b""
    assert error_of(http.get(f"groups/{finance}"))[:2] == (404, "Request_ResourceNotFound")
    assert finance not in ids_of(http.get("directory/deletedItems/microsoft.graph.group").json())
    assert error_of(http.post(f"directory/deletedItems/{finance}/restore"))[:2] == (
        404,
        "Request_ResourceNotFound",
    )


def test_delete_microsoft_365_group_goes_to_deleted_items_and_restores(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    sales = group_id(http, "grp-sales")
    assert http.delete(f"groups/{sales}").status_code == 204
    deleted = http.get("directory/deletedItems/microsoft.graph.group").json()
    assert deleted["@odata.context"].endswith("/$metadata#groups") and sales in ids_of(deleted)
    listed = next(item for item in deleted["value"] if item["id"] == sales)
    assert listed["deletedDateTime"] and listed["displayName"] == "Sales"
    restored = http.post(f"directory/deletedItems/{sales}/restore")
    assert restored.status_code == 200
    body = restored.json()
    assert body["@odata.type"] == "#microsoft.graph.group" and body["id"] == sales
    assert body["@odata.context"].endswith("/$metadata#directoryObjects/$entity")
    assert http.get(f"groups/{sales}").status_code == 200
    assert sales not in ids_of(http.get("directory/deletedItems/microsoft.graph.group").json())


def test_members_and_owners_through_the_sdk(
    reset_emulator: dict[str, Any], graph_client: Factory, graph_http: Http
) -> None:

    from msgraph.generated.models.reference_create import ReferenceCreate

    http = graph_http("reader")
    people, ada = group_id(http, "grp-people"), user_id(http, "ada@contoso.example")

    async def go() -> tuple[set[str], set[str], ODataError]:
        client = graph_client("writer")
        group = client.groups.by_group_id(people)
        await group.members.ref.post(ReferenceCreate(odata_id=object_ref(ada)["@odata.id"]))
        added = {member.id for member in (await group.members.get()).value}
        await group.members.by_directory_object_id(ada).ref.delete()
        removed = {member.id for member in (await group.members.get()).value}
        with pytest.raises(ODataError) as raised:
            await client.groups.by_group_id(MISSING_ID).get(request_configuration=no_retry())
        return added, removed, raised.value

    added, removed, error = run(go())
    assert ada in added and ada not in removed
    assert error.response_status_code == 404 and error.error.code == "Request_ResourceNotFound"


def test_new_user_can_be_added_to_a_new_group(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    user = http.post("users", json=new_user("newbie")).json()["id"]
    group = http.post("groups", json=new_group("newgroup")).json()["id"]
    assert http.post(f"groups/{group}/members/$ref", json=object_ref(user)).status_code == 204
    assert group in ids_of(http.get(f"users/{user}/memberOf").json())


def test_expand_members_embeds_the_members(graph_http: Http) -> None:
    http = graph_http("reader")
    platform = group_id(http, "grp-platform")
    expanded = http.get(f"groups/{platform}", params={"$expand": "members"}).json()
    assert {m["id"] for m in expanded["members"]} == ids_of(http.get(f"groups/{platform}/members").json())
    assert all(m["@odata.type"] == "#microsoft.graph.user" for m in expanded["members"])


def test_adding_an_existing_owner_is_400(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    finance, rob = group_id(http, "grp-finance"), user_id(http, "rob@contoso.example")
    assert error_of(http.post(f"groups/{finance}/owners/$ref", json=object_ref(rob))) == (
        400,
        "Request_BadRequest",
        "One or more added object references already exist for the following modified properties: 'owners'.",
    )


def test_create_group_binding_a_missing_user_creates_nothing(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    body = new_group("halfbound", **{"members@odata.bind": [user_url(MISSING_ID)]})
    assert http.post("groups", json=body).status_code in {400, 404}
    assert http.get("groups", params={"$filter": "mailNickname eq 'halfbound'"}).json()["value"] == []


def test_display_name_longer_than_256_is_400(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    body = new_group("longname", displayName="x" * 257)
    assert error_of(graph_http("writer").post("groups", json=body))[:2] == (400, "Request_BadRequest")


def test_deleting_a_user_removes_it_from_its_groups(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    people, jordan = group_id(http, "grp-people"), user_id(http, "jordan@contoso.example")
    assert http.delete(f"users/{jordan}").status_code == 204
    assert jordan not in ids_of(http.get(f"groups/{people}/members").json())


def test_members_filter_and_search_with_advanced_parameters(graph_http: Http) -> None:
    http = graph_http("reader")
    sales = group_id(http, "grp-sales")
    headers = {"ConsistencyLevel": "eventual"}
    starts = http.get(
        f"groups/{sales}/members",
        params={"$count": "true", "$filter": "startswith(displayName,'M')"},
        headers=headers,
    ).json()
    assert starts["@odata.count"] == len(starts["value"]) == 2
    searched = http.get(
        f"groups/{sales}/members/microsoft.graph.user",
        params={
            "$count": "true",
            "$orderby": "displayName",
            "$search": '"displayName:Li"',
            "$select": "displayName,id",
        },
        headers=headers,
    ).json()
    assert searched["@odata.context"].endswith("/$metadata#users(displayName,id)")
    assert [u["displayName"] for u in searched["value"]] == ["Lidia Holloway"]


def test_bulk_bind_and_owners_through_the_sdk(
    reset_emulator: dict[str, Any], graph_client: Factory, graph_http: Http
) -> None:
    from msgraph.generated.models.group import Group
    from msgraph.generated.models.reference_create import ReferenceCreate

    http = graph_http("reader")
    people = group_id(http, "grp-people")
    ada, lee, kat = (user_id(http, f"{name}@contoso.example") for name in ("ada", "lee", "kat"))

    async def go() -> tuple[set[str], set[str], ODataError]:
        client = graph_client("writer")
        group = client.groups.by_group_id(people)
        await group.patch(Group(additional_data={"members@odata.bind": [user_url(ada), user_url(lee)]}))
        members = {m.id for m in (await group.members.get()).value}
        await group.owners.ref.post(ReferenceCreate(odata_id=object_ref(kat)["@odata.id"]))
        owners = {o.id for o in (await group.owners.get()).value}
        with pytest.raises(ODataError) as raised:
            await group.members.ref.post(
                ReferenceCreate(odata_id=object_ref(ada)["@odata.id"]), request_configuration=no_retry()
            )
        return members, owners, raised.value

    members, owners, duplicate = run(go())
    assert {ada, lee} <= members and kat in owners
    assert duplicate.response_status_code == 400 and duplicate.error.message == ALREADY_MEMBER


def test_role_assignable_group_needs_role_management_permission(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    """DC group-post-groups example 3: setting isAssignableToRole needs RoleManagement.ReadWrite.Directory,
    which the writer app does not hold."""
    body = new_group("roleassignable", isAssignableToRole=True)
    assert error_of(graph_http("writer").post("groups", json=body)) == (
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )


@pytest.mark.parametrize("form", ["users", "directoryObjects", "emulator"])
def test_references_accept_the_documented_url_forms(
    reset_emulator: dict[str, Any], graph_http: Http, form: str
) -> None:
    http = graph_http("writer")
    people, ada = group_id(http, "grp-people"), user_id(http, "ada@contoso.example")
    base = reset_emulator["graph_url"] if form == "emulator" else "https://graph.microsoft.com/v1.0"
    segment = "users" if form == "users" else "directoryObjects"
    reply = http.post(f"groups/{people}/members/$ref", json={"@odata.id": f"{base}/{segment}/{ada}"})
    assert reply.status_code == 204
    assert ada in ids_of(http.get(f"groups/{people}/members").json())


@pytest.mark.parametrize("odata_id", ["not a url", "https://graph.microsoft.com/v1.0/users/", ""])
def test_malformed_references_are_400(
    reset_emulator: dict[str, Any], graph_http: Http, odata_id: str
) -> None:
    http = graph_http("writer")
    reply = http.post(f"groups/{group_id(http, 'grp-people')}/members/$ref", json={"@odata.id": odata_id})
    assert error_of(reply)[:2] == (400, "Request_BadRequest")


def test_relationship_collections_are_directory_objects(
    emulator_info: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("reader")
    context = f"{emulator_info['graph_url']}/$metadata#directoryObjects"
    finance = group_id(http, "grp-finance")
    for url in (
        f"groups/{finance}/owners",
        f"groups/{finance}/transitiveMembers",
        "users/lee@contoso.example/memberOf",
        "users/lee@contoso.example/transitiveMemberOf",
        "users/grace@contoso.example/directReports",
    ):
        body = http.get(url).json()
        assert body["@odata.context"] == context, url
        assert body["value"] and all("@odata.type" in item for item in body["value"]), url
    manager = http.get("users/ada@contoso.example/manager").json()
    assert manager["@odata.context"] == f"{context}/$entity"


def test_dynamic_group_members_follow_the_membership_rule(graph_http: Http) -> None:
    """ED groups-dynamic-membership.md: "If users or devices satisfy a rule on a group, they're added as
    members of that group." The demo's All Employees rule is
    (user.employeeType -eq "Employee") and (user.accountEnabled -eq true)."""
    http = graph_http("reader")
    dynamic = group_id(http, "grp-all-employees")
    rule = http.get(
        f"groups/{dynamic}", params={"$select": "membershipRule,membershipRuleProcessingState"}
    ).json()
    assert rule["membershipRuleProcessingState"] == "On"
    assert rule["membershipRule"] == '(user.employeeType -eq "Employee") and (user.accountEnabled -eq true)'
    everyone = http.get("users", params={"$top": "999", "$select": "id,employeeType,accountEnabled"}).json()
    matching = {
        u["id"] for u in everyone["value"] if u.get("employeeType") == "Employee" and u["accountEnabled"]
    }
    assert (
        matching and ids_of(http.get(f"groups/{dynamic}/members", params={"$top": "999"}).json()) == matching
    )


def test_dynamic_group_members_cannot_be_added_by_hand(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    """ED groups-dynamic-membership.md: "You can't manually add or remove a member of a dynamic
    membership group.\""""
    http = graph_http("writer")
    dynamic = group_id(http, "grp-all-employees")
    before = ids_of(http.get(f"groups/{dynamic}/members", params={"$top": "999"}).json())
    breakglass = user_id(http, "breakglass@contoso.example")
    reply = http.post(f"groups/{dynamic}/members/$ref", json=object_ref(breakglass))
    assert reply.status_code in {400, 403} and "error" in reply.json()
    assert ids_of(http.get(f"groups/{dynamic}/members", params={"$top": "999"}).json()) == before


def test_dynamic_group_membership_follows_changes(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    """ED groups-dynamic-membership.md: "If they no longer satisfy the rule, they're removed.\""""
    http = graph_http("writer")
    dynamic = group_id(http, "grp-all-employees")
    ada, lee = user_id(http, "ada@contoso.example"), user_id(http, "lee@contoso.example")
    assert http.patch(f"users/{ada}", json={"employeeType": "Contractor"}).status_code == 204
    assert http.patch(f"users/{lee}", json={"accountEnabled": False}).status_code == 204
    created = http.post("users", json=new_user("joiner", employeeType="Employee")).json()["id"]
    members = ids_of(http.get(f"groups/{dynamic}/members", params={"$top": "999"}).json())
    assert ada not in members and lee not in members and created in members


def test_a_malformed_object_id_is_an_invalid_object_identifier(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    """Observed Graph answer for ids that are not GUIDs (Microsoft's entra-powershell mirrors it):
    400 Request_BadRequest "Invalid object identifier '{id}'." Users are the exception: a non-GUID key
    is a userPrincipalName."""
    http = graph_http("writer")
    invalid = (400, "Request_BadRequest", "Invalid object identifier 'not-a-guid'.")
    assert error_of(http.get("groups/not-a-guid")) == invalid
    assert error_of(http.get("groups/not-a-guid/members")) == invalid
    people = group_id(http, "grp-people")
    assert error_of(http.post(f"groups/{people}/members/$ref", json=object_ref("not-a-guid"))) == invalid
    assert error_of(http.get("users/not-a-guid"))[:2] == (404, "Request_ResourceNotFound")


def test_expand_members_returns_at_most_100(
    reset_emulator: dict[str, Any], graph_http: Http, admin: httpx.Client
) -> None:
    """Graph docs: concepts/paging (Graph known issue 13635): `$expand` on directory objects returns at
    most 100 related objects; the members collection itself pages through all of them."""
    try:
        admin.post("seed", json={"seed": "synthetic:300:1:250"}).raise_for_status()
        http = graph_http("reader")
        (group,) = http.get("groups").json()["value"]
        expanded = http.get(f"groups/{group['id']}", params={"$expand": "members"}).json()
        assert len(expanded["members"]) == 100
        listed = http.get(f"groups/{group['id']}/members", params={"$top": "999"}).json()["value"]
        assert len(listed) > 100
    finally:
        admin.post("seed", json={"seed": "demo"}).raise_for_status()
