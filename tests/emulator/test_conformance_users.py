"""Conformance: users (DC user-get, user-list, user-post-users, user-update, user-delete, manager,
directReports, memberOf, revokeSignInSessions; concepts/errors), through raw HTTP and the real SDK."""

from __future__ import annotations

from typing import Any

import pytest
from conformance import (
    MISSING_ID,
    NOT_FOUND_TEXT,
    USER_DEFAULT_PROPERTIES,
    Factory,
    Http,
    error_of,
    group_id,
    ids_of,
    leave_seeded,  # noqa: F401 (fixture used by pytestmark)
    new_user,
    no_retry,
    run,
    seeded,  # noqa: F401 (fixture used by pytestmark)
    user_id,
)
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

pytestmark = pytest.mark.usefixtures("leave_seeded", "seeded")


def test_get_user_by_id_and_by_upn_returns_the_default_property_set(
    emulator_info: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("reader")
    ada = user_id(http, "ada@contoso.example")
    by_upn = http.get("users/ada@contoso.example")
    by_id = http.get(f"users/{ada}")
    assert by_upn.status_code == by_id.status_code == 200
    assert by_upn.headers["content-type"].startswith("application/json")
    body = by_id.json()
    assert body["@odata.context"] == f"{emulator_info['graph_url']}/$metadata#users/$entity"
    assert set(body) - {"@odata.context"} == USER_DEFAULT_PROPERTIES
    assert body == by_upn.json()
    assert body["id"] == ada and body["userPrincipalName"] == "ada@contoso.example"


def test_list_users_returns_the_default_property_set(emulator_info: dict[str, Any], graph_http: Http) -> None:
    body = graph_http("reader").get("users").json()
    assert body["@odata.context"] == f"{emulator_info['graph_url']}/$metadata#users"
    assert body["value"] and all(set(user) == USER_DEFAULT_PROPERTIES for user in body["value"])


def test_select_returns_the_selected_properties_and_names_them_in_the_context(
    emulator_info: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("reader")
    one = http.get("users/ada@contoso.example", params={"$select": "displayName,usageLocation"}).json()
    assert one["@odata.context"] == (
        f"{emulator_info['graph_url']}/$metadata#users(displayName,usageLocation)/$entity"
    )
    assert one["displayName"] == "Ada Lovelace" and "usageLocation" in one and "jobTitle" not in one
    listed = http.get("users", params={"$select": "id,accountEnabled"}).json()
    assert listed["@odata.context"] == f"{emulator_info['graph_url']}/$metadata#users(id,accountEnabled)"
    assert all(set(user) == {"id", "accountEnabled"} for user in listed["value"])


def test_select_of_a_property_that_cannot_be_listed_is_501(graph_http: Http) -> None:
    http = graph_http("reader")
    assert http.get("users", params={"$select": "aboutMe"}).status_code == 501
    assert error_of(http.get("users", params={"$select": "skills"})) == (
        501,
        "NotImplemented",
        "This operation target is not yet supported.",
    )


def test_unknown_user_is_404_with_the_directory_message(graph_http: Http) -> None:
    http = graph_http("reader")
    assert error_of(http.get(f"users/{MISSING_ID}")) == (
        404,
        "Request_ResourceNotFound",
        NOT_FOUND_TEXT.format(MISSING_ID),
    )
    error = http.get(f"users/{MISSING_ID}").json()["error"]
    assert {"date", "request-id", "client-request-id"} <= set(error["innerError"])


def test_create_user_returns_201_with_the_default_property_set(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    created = http.post("users", json=new_user("adelev"))
    assert created.status_code == 201
    body = created.json()
    assert body["@odata.context"] == f"{reset_emulator['graph_url']}/$metadata#users/$entity"
    assert set(body) - {"@odata.context"} == USER_DEFAULT_PROPERTIES
    assert body["userPrincipalName"] == "adelev@contoso.example"
    fetched = http.get(f"users/{body['id']}", params={"$select": "accountEnabled,mailNickname"}).json()
    assert fetched["accountEnabled"] is True and fetched["mailNickname"] == "adelev"
    assert "passwordProfile" not in http.get(f"users/{body['id']}").json()


def test_create_user_through_the_sdk(reset_emulator: dict[str, Any], graph_client: Factory) -> None:
    from msgraph.generated.models.password_profile import PasswordProfile
    from msgraph.generated.models.user import User

    async def go() -> tuple[Any, Any]:
        client = graph_client("writer")
        user = User(
            account_enabled=True,
            display_name="Adele Vance",
            mail_nickname="adelev",
            user_principal_name="adelev@contoso.example",
            usage_location="US",
            password_profile=PasswordProfile(
                force_change_password_next_sign_in=True, password="xWwvJ]6NMw+b"
            ),
        )
        created = await client.users.post(user)
        fetched = await client.users.by_user_id("adelev@contoso.example").get()
        return created, fetched

    created, fetched = run(go())
    assert created.id == fetched.id and fetched.display_name == "Adele Vance"


@pytest.mark.parametrize("missing", ["accountEnabled", "displayName", "mailNickname", "passwordProfile"])
def test_create_user_without_a_required_property_is_400(
    reset_emulator: dict[str, Any], graph_http: Http, missing: str
) -> None:
    body = new_user("incomplete")
    del body[missing]
    status, code, _ = error_of(graph_http("writer").post("users", json=body))
    assert (status, code) == (400, "Request_BadRequest")


def test_create_user_on_an_unverified_domain_is_400(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    body = new_user("stranger", userPrincipalName="stranger@not-ours.example")
    status, code, _ = error_of(graph_http("writer").post("users", json=body))
    assert (status, code) == (400, "Request_BadRequest")


def test_create_user_with_a_duplicate_upn_is_400_object_conflict(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    reply = graph_http("writer").post("users", json=new_user("ada"))
    assert error_of(reply) == (
        400,
        "Request_BadRequest",
        "Another object with the same value for property userPrincipalName already exists.",
    )
    assert {"target": "userPrincipalName", "code": "ObjectConflict"} in reply.json()["error"]["details"]


def test_duplicate_upn_through_the_sdk_is_an_odata_error(
    reset_emulator: dict[str, Any], graph_client: Factory
) -> None:
    from msgraph.generated.models.password_profile import PasswordProfile
    from msgraph.generated.models.user import User

    async def go() -> ODataError:
        user = User(
            account_enabled=True,
            display_name="Ada again",
            mail_nickname="ada2",
            user_principal_name="ADA@contoso.example",
            password_profile=PasswordProfile(
                force_change_password_next_sign_in=True, password="xWwvJ]6NMw+b"
            ),
        )
        with pytest.raises(ODataError) as raised:
            await graph_client("writer").users.post(user, request_configuration=no_retry())
        return raised.value

    error = run(go())
    assert error.response_status_code == 400 and error.error.code == "Request_BadRequest"
    assert (
        error.error.message
        == "Another object with the same value for property userPrincipalName already exists."
    )


def test_update_user_is_204_and_visible_on_read(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    reply = http.patch(
        "users/ada@contoso.example", json={"jobTitle": "Principal Engineer", "usageLocation": "FR"}
    )
    assert reply.status_code == 204 and reply.content == b""
    fetched = http.get("users/ada@contoso.example", params={"$select": "jobTitle,usageLocation"}).json()
    assert (fetched["jobTitle"], fetched["usageLocation"]) == ("Principal Engineer", "FR")


def test_display_name_cannot_be_cleared(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    status, code, _ = error_of(
        graph_http("writer").patch("users/ada@contoso.example", json={"displayName": None})
    )
    assert (status, code) == (400, "Request_BadRequest")


def test_update_unknown_user_is_404(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    assert error_of(graph_http("writer").patch(f"users/{MISSING_ID}", json={"jobTitle": "x"})) == (
        404,
        "Request_ResourceNotFound",
        NOT_FOUND_TEXT.format(MISSING_ID),
    )


def test_delete_user_is_204_then_404_and_listed_in_deleted_items(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:

    http = graph_http("writer")
    kat = user_id(http, "kat@contoso.example")
    reply = http.delete(f"users/{kat}")
    assert reply.status_code == 204 and reply.content == b""
    assert http.get(f"users/{kat}").status_code == 404
    assert kat not in ids_of(http.get("users", params={"$top": "999"}).json())
    deleted = http.get("directory/deletedItems/microsoft.graph.user").json()
    assert kat in ids_of(deleted)
    assert error_of(http.delete(f"users/{kat}"))[:2] == (404, "Request_ResourceNotFound")


def test_manager_put_get_delete(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    lee, breakglass = user_id(http, "lee@contoso.example"), user_id(http, "breakglass@contoso.example")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{lee}"}
    reply = http.put(f"users/{breakglass}/manager/$ref", json=ref)
    assert reply.status_code == 204 and reply.content == b""
    manager = http.get(f"users/{breakglass}/manager").json()
    assert manager["id"] == lee and manager["@odata.type"] == "#microsoft.graph.user"
    assert breakglass in ids_of(http.get(f"users/{lee}/directReports").json())
    assert http.delete(f"users/{breakglass}/manager/$ref").status_code == 204
    status, code, _ = error_of(http.get(f"users/{breakglass}/manager"))
    assert (status, code) == (404, "Request_ResourceNotFound")
    assert breakglass not in ids_of(http.get(f"users/{lee}/directReports").json())


def test_manager_to_an_unknown_user_is_404(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{MISSING_ID}"}
    reply = graph_http("writer").put("users/breakglass@contoso.example/manager/$ref", json=ref)
    assert error_of(reply)[:2] == (404, "Request_ResourceNotFound")


def test_manager_through_the_sdk(
    reset_emulator: dict[str, Any], graph_client: Factory, graph_http: Http
) -> None:
    from msgraph.generated.models.reference_update import ReferenceUpdate

    lee = user_id(graph_http("reader"), "lee@contoso.example")

    async def go() -> tuple[str, list[str]]:
        client = graph_client("writer")
        user = client.users.by_user_id("breakglass@contoso.example")
        await user.manager.ref.put(ReferenceUpdate(odata_id=f"https://graph.microsoft.com/v1.0/users/{lee}"))
        manager = await user.manager.get()
        reports = await client.users.by_user_id(lee).direct_reports.get()
        return manager.id, [report.id for report in reports.value]

    manager, reports = run(go())
    assert manager == lee and user_id(graph_http("reader"), "breakglass@contoso.example") in reports


def test_member_of_lists_direct_groups_and_transitive_member_of_the_nesting(graph_http: Http) -> None:
    http = graph_http("reader")
    platform, engineering = group_id(http, "grp-platform"), group_id(http, "grp-engineering")
    direct = http.get("users/lee@contoso.example/memberOf").json()
    assert platform in ids_of(direct) and engineering not in ids_of(direct)
    assert all(item["@odata.type"] == "#microsoft.graph.group" for item in direct["value"])
    transitive = http.get("users/lee@contoso.example/transitiveMemberOf").json()
    assert {platform, engineering} <= ids_of(transitive)


def test_member_of_count_segment_is_text_plain(graph_http: Http) -> None:
    http = graph_http("reader")
    direct = len(http.get("users/lee@contoso.example/memberOf").json()["value"])
    reply = http.get("users/lee@contoso.example/memberOf/$count", headers={"ConsistencyLevel": "eventual"})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    assert reply.text == str(direct)


def test_revoke_sign_in_sessions_returns_true(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    reply = graph_http("writer").post("users/ada@contoso.example/revokeSignInSessions")
    assert reply.status_code == 200
    body = reply.json()
    assert body["value"] is True
    assert body["@odata.context"].endswith("/$metadata#Edm.Boolean")


def test_revoke_sign_in_sessions_through_the_sdk(
    reset_emulator: dict[str, Any], graph_client: Factory
) -> None:
    async def go() -> Any:
        client = graph_client("writer")
        return await client.users.by_user_id("ada@contoso.example").revoke_sign_in_sessions.post()

    assert run(go()).value is True


def test_unknown_user_through_the_sdk_is_an_odata_error(graph_client: Factory) -> None:
    async def go() -> ODataError:
        with pytest.raises(ODataError) as raised:
            await graph_client("reader").users.by_user_id(MISSING_ID).get(request_configuration=no_retry())
        return raised.value

    error = run(go())
    assert error.response_status_code == 404 and error.error.code == "Request_ResourceNotFound"
    assert error.error.message == NOT_FOUND_TEXT.format(MISSING_ID)


def test_user_principal_name_lookup_is_case_insensitive(graph_http: Http) -> None:
    http = graph_http("reader")
    assert user_id(http, "ADA@Contoso.Example") == user_id(http, "ada@contoso.example")


def test_no_manager_is_404_naming_the_manager_reference(graph_http: Http) -> None:
    assert error_of(graph_http("reader").get("users/breakglass@contoso.example/manager")) == (
        404,
        "Request_ResourceNotFound",
        NOT_FOUND_TEXT.format("manager"),
    )


def test_expand_manager_embeds_the_manager(graph_http: Http) -> None:
    http = graph_http("reader")
    manager = http.get("users/ada@contoso.example/manager").json()
    expanded = http.get("users/ada@contoso.example", params={"$expand": "manager"}).json()
    assert expanded["manager"]["id"] == manager["id"]
    assert expanded["manager"]["@odata.type"] == "#microsoft.graph.user"
    assert expanded["userPrincipalName"] == "ada@contoso.example"


def test_invalid_usage_location_is_400(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    reply = graph_http("writer").patch("users/ada@contoso.example", json={"usageLocation": "USA"})
    assert error_of(reply)[:2] == (400, "Request_BadRequest")


def test_renaming_to_a_taken_upn_is_an_object_conflict(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    reply = graph_http("writer").patch(
        "users/ada@contoso.example", json={"userPrincipalName": "LEE@contoso.example"}
    )
    assert error_of(reply) == (
        400,
        "Request_BadRequest",
        "Another object with the same value for property userPrincipalName already exists.",
    )
    assert {"target": "userPrincipalName", "code": "ObjectConflict"} in reply.json()["error"]["details"]


@pytest.mark.parametrize("upn", ["adèle@contoso.example", "two words@contoso.example", "no-domain"])
def test_create_user_with_an_invalid_upn_is_400(
    reset_emulator: dict[str, Any], graph_http: Http, upn: str
) -> None:
    body = new_user("badupn", userPrincipalName=upn)
    assert error_of(graph_http("writer").post("users", json=body))[:2] == (400, "Request_BadRequest")


def test_unparseable_body_is_400(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    reply = graph_http("writer").post("users", content=b"{nope", headers={"Content-Type": "application/json"})
    assert reply.status_code == 400 and "error" in reply.json()


def test_me_needs_a_delegated_token(graph_http: Http) -> None:
    assert error_of(graph_http("reader").get("me")) == (
        400,
        "BadRequest",
        "/me request is only valid with delegated authentication flow.",
    )


def test_memberships_through_the_sdk(graph_client: Factory, graph_http: Http) -> None:
    http = graph_http("reader")
    platform, engineering = group_id(http, "grp-platform"), group_id(http, "grp-engineering")

    async def go() -> tuple[set[str], set[str]]:
        user = graph_client("reader").users.by_user_id("lee@contoso.example")
        direct = await user.member_of.get()
        transitive = await user.transitive_member_of.get()
        return {g.id for g in direct.value}, {g.id for g in transitive.value}

    direct, transitive = run(go())
    assert platform in direct and engineering not in direct and {platform, engineering} <= transitive


def test_get_member_groups_and_check_member_groups(graph_http: Http) -> None:
    """DC directoryobject-getmembergroups / checkmembergroups (costs in concepts/throttling-limits):
    transitive group ids, as `Collection(Edm.String)`."""
    http = graph_http("reader")
    transitive = ids_of(http.get("users/lee@contoso.example/transitiveMemberOf").json())
    reply = http.post("users/lee@contoso.example/getMemberGroups", json={"securityEnabledOnly": True})
    assert reply.status_code == 200
    assert reply.json()["@odata.context"].endswith("/$metadata#Collection(Edm.String)")
    assert set(reply.json()["value"]) == transitive
    sales = group_id(http, "grp-sales")
    probe = [*sorted(transitive), sales]
    checked = http.post("users/lee@contoso.example/checkMemberGroups", json={"groupIds": probe})
    assert checked.status_code == 200 and set(checked.json()["value"]) == transitive


def test_owned_objects_lists_the_groups_a_user_owns(graph_http: Http) -> None:
    http = graph_http("reader")
    owned = http.get("users/grace@contoso.example/ownedObjects")
    assert owned.status_code == 200
    expected = {group_id(http, "grp-engineering"), group_id(http, "grp-entra-admins")}
    assert ids_of(owned.json()) == expected
    assert {item["@odata.type"] for item in owned.json()["value"]} == {"#microsoft.graph.group"}


@pytest.mark.parametrize("password", ["abc", "alllowercase", "Short1!", "NoDigitsOrSymbols"])
def test_weak_passwords_are_rejected(reset_emulator: dict[str, Any], graph_http: Http, password: str) -> None:
    """ED concept-sspr-policy: 8 to 256 characters and three of lowercase, uppercase, digits, symbols;
    observed Graph answer: 400 Request_BadRequest with the text below."""
    body = new_user("weakling", passwordProfile={"forceChangePasswordNextSignIn": True, "password": password})
    assert error_of(graph_http("writer").post("users", json=body)) == (
        400,
        "Request_BadRequest",
        "The specified password does not comply with password complexity requirements. "
        "Please provide a different password.",
    )


def test_a_password_with_three_character_classes_is_accepted(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    body = new_user(
        "strong", passwordProfile={"forceChangePasswordNextSignIn": True, "password": "correct7Horse"}
    )
    assert graph_http("writer").post("users", json=body).status_code == 201


def test_revoke_sign_in_sessions_resets_sessions_valid_from(
    reset_emulator: dict[str, Any], graph_http: Http, admin: Any
) -> None:
    """DC user-revokesigninsessions.md: it resets the signInSessionsValidFromDateTime user property to the
    current date-time."""
    from datetime import UTC, datetime, timedelta

    admin.put("config", json={"clock_offset_s": 400 * 24 * 3600}).raise_for_status()
    http = graph_http("writer")  # a token from the emulator's new "now"
    assert http.post("users/ada@contoso.example/revokeSignInSessions").status_code == 200
    select = {"$select": "signInSessionsValidFromDateTime"}
    stamp = http.get("users/ada@contoso.example", params=select).json()["signInSessionsValidFromDateTime"]
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    expected = datetime.now(UTC) + timedelta(days=400)
    assert abs((moment - expected).total_seconds()) < 120


def chain_of(body: dict[str, Any]) -> list[str]:
    chain = []
    while "manager" in body:
        body = body["manager"]
        chain.append(body["userPrincipalName"])
    return chain


def test_expand_manager_levels_max_is_the_whole_chain(graph_http: Http) -> None:
    """user-list-manager example 2: `$expand=manager($levels=max;$select=…)`, with `$count=true` and
    ConsistencyLevel: eventual to select the managers' properties; each manager nests its own."""
    http = graph_http("reader")
    params = {
        "$select": "id,userPrincipalName",
        "$expand": "manager($levels=max;$select=id,userPrincipalName)",
        "$count": "true",
    }
    body = http.get(
        "users/kat@contoso.example", params=params, headers={"ConsistencyLevel": "eventual"}
    ).json()
    # The demo: kat@ reports to cameron@, who reports to rob@, who reports to patti@ (the top).
    assert chain_of(body) == ["cameron@contoso.example", "rob@contoso.example", "patti@contoso.example"]
    assert set(body["manager"]) == {"@odata.type", "id", "userPrincipalName", "manager"}
    params["$expand"] = "manager($levels=2;$select=userPrincipalName)"
    two = http.get(
        "users/kat@contoso.example", params=params, headers={"ConsistencyLevel": "eventual"}
    ).json()
    assert chain_of(two) == ["cameron@contoso.example", "rob@contoso.example"]
    top = http.get("users/patti@contoso.example", params=params, headers={"ConsistencyLevel": "eventual"})
    assert "manager" not in top.json()


def test_expand_with_an_unknown_option_is_400(graph_http: Http) -> None:
    reply = graph_http("reader").get("users/kat@contoso.example", params={"$expand": "memberOf($levels=max)"})
    assert reply.status_code == 400


def test_expand_manager_levels_through_the_sdk(graph_client: Factory) -> None:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder

    async def go() -> list[str]:
        query = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(
            select=["id", "userPrincipalName"],
            expand=["manager($levels=max;$select=id,userPrincipalName)"],
        )
        config = RequestConfiguration(query_parameters=query)
        config.headers.add("ConsistencyLevel", "eventual")
        user = await graph_client("reader").users.by_user_id("kat@contoso.example").get(config)
        chain, manager = [], user.manager
        while manager is not None:
            chain.append(manager.user_principal_name)
            manager = manager.manager
        return chain

    assert run(go()) == ["cameron@contoso.example", "rob@contoso.example", "patti@contoso.example"]
