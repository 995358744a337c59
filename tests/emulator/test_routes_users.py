"""/users routes: status codes, bodies and Graph's error codes/messages (Graph docs: user-post-users,
user-update, concepts/errors)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from graph_calls import Tenant, error_of

NEW_USER = {
    "accountEnabled": True,
    "displayName": "Margaret Hamilton",
    "mailNickname": "margaret",
    "userPrincipalName": "margaret@contoso.example",
    "passwordProfile": {"forceChangePasswordNextSignIn": True, "password": "xWwvJ]6NMw+bWH-d"},
}


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    t = Tenant("demo")
    yield t
    t.close()


def test_list_users_default_properties_and_context(tenant: Tenant) -> None:
    body = tenant.get("users").json()
    assert body["@odata.context"] == "https://graph.microsoft.com/v1.0/$metadata#users"
    first = body["value"][0]
    assert set(first) == {
        "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
        "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
    }  # fmt: skip
    assert len(body["value"]) == len(tenant.store.users) and "@odata.nextLink" not in body


def test_get_user_by_id_and_by_upn(tenant: Tenant) -> None:
    by_upn = tenant.get("users/grace@contoso.example?$select=id,department,accountEnabled")
    assert by_upn.status_code == 200
    assert by_upn.json()["department"] == "Engineering"
    by_id = tenant.get(f"users/{by_upn.json()['id']}")
    assert by_id.json()["userPrincipalName"] == "grace@contoso.example"
    assert by_id.json()["@odata.context"].endswith("$metadata#users/$entity")


def test_unknown_user_is_404_request_resource_not_found(tenant: Tenant) -> None:
    status, code, message = error_of(tenant.get("users/nobody@contoso.example"))
    assert (status, code) == (404, "Request_ResourceNotFound")
    assert message == (
        "Resource 'nobody@contoso.example' does not exist or one of its queried reference-property "
        "objects are not present."
    )


def test_error_body_carries_inner_error(tenant: Tenant) -> None:
    inner = tenant.get("users/nobody@contoso.example").json()["error"]["innerError"]
    assert {"date", "request-id", "client-request-id"} <= set(inner)


def test_select_not_listable_property_is_501(tenant: Tenant) -> None:
    response = tenant.get("users?$select=aboutMe")
    assert error_of(response)[:2] == (501, "NotImplemented")


def test_create_user_returns_201_with_default_properties(tenant: Tenant) -> None:
    response = tenant.call("POST", "users", json=NEW_USER)
    assert response.status_code == 201
    body = response.json()
    assert body["userPrincipalName"] == "margaret@contoso.example"
    assert "passwordProfile" not in body and body["id"]
    assert tenant.get(f"users/{body['id']}?$select=accountEnabled").json()["accountEnabled"] is True


@pytest.mark.parametrize("missing", ["accountEnabled", "displayName", "mailNickname", "passwordProfile"])
def test_create_user_requires_properties(tenant: Tenant, missing: str) -> None:
    body = {k: v for k, v in NEW_USER.items() if k != missing}
    status, code, message = error_of(tenant.call("POST", "users", json=body))
    assert (status, code) == (400, "Request_BadRequest")
    assert message == f"Invalid value specified for property '{missing}' of resource 'User'."


def test_create_user_duplicate_upn_is_object_conflict(tenant: Tenant) -> None:
    body = NEW_USER | {"userPrincipalName": "grace@contoso.example"}
    response = tenant.call("POST", "users", json=body)
    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == "Request_BadRequest"
    assert (
        error["message"]
        == "Another object with the same value for property userPrincipalName already exists."
    )
    assert error["details"] == [{"target": "userPrincipalName", "code": "ObjectConflict"}]


def test_create_user_needs_a_verified_domain(tenant: Tenant) -> None:
    body = NEW_USER | {"userPrincipalName": "margaret@elsewhere.example"}
    status, _, message = error_of(tenant.call("POST", "users", json=body))
    assert status == 400 and message.startswith(
        "The domain portion of the userPrincipalName property is invalid."
    )
    assert (
        tenant.call("POST", "users", json=NEW_USER | {"userPrincipalName": "m@fabrikam.example"}).status_code
        == 201
    )


def test_create_user_rejects_upn_characters(tenant: Tenant) -> None:
    body = NEW_USER | {"userPrincipalName": "margarét@contoso.example"}
    assert error_of(tenant.call("POST", "users", json=body))[:2] == (400, "Request_BadRequest")


def test_update_user_returns_204_and_changes_delta_version(tenant: Tenant) -> None:
    user_id = tenant.user_id("ben@contoso.example")
    before = tenant.store.version_of[user_id]
    response = tenant.call("PATCH", f"users/{user_id}", json={"department": "Marketing"})
    assert response.status_code == 204 and response.content == b""
    assert tenant.get(f"users/{user_id}?$select=department").json()["department"] == "Marketing"
    assert tenant.store.version_of[user_id] > before


def test_update_user_cannot_clear_display_name(tenant: Tenant) -> None:
    response = tenant.call("PATCH", "users/ben@contoso.example", json={"displayName": ""})
    assert error_of(response)[:2] == (400, "Request_BadRequest")


def test_update_user_upn_to_taken_one_conflicts(tenant: Tenant) -> None:
    response = tenant.call(
        "PATCH", "users/ben@contoso.example", json={"userPrincipalName": "ada@contoso.example"}
    )
    assert response.json()["error"]["details"][0]["code"] == "ObjectConflict"


def test_synced_user_refuses_mastered_attributes(tenant: Tenant) -> None:
    user_id = tenant.user_id("ben@contoso.example")
    tenant.store.set_on_premises_sync(user_id, True)
    status, code, message = error_of(tenant.call("PATCH", f"users/{user_id}", json={"department": "Sales"}))
    assert (status, code) == (400, "Request_BadRequest")
    assert message == (
        "Unable to update the specified properties for on-premises mastered Directory Sync objects or "
        "objects currently undergoing migration."
    )
    assert tenant.call("PATCH", f"users/{user_id}", json={"usageLocation": "GB"}).status_code == 204


def test_delete_user_soft_deletes_into_deleted_items(tenant: Tenant) -> None:
    user_id = tenant.user_id("lynne@contoso.example")
    assert tenant.call("DELETE", f"users/{user_id}").status_code == 204
    assert tenant.get(f"users/{user_id}").status_code == 404
    deleted = tenant.get("directory/deletedItems/microsoft.graph.user").json()["value"]
    assert [d["id"] for d in deleted] == [user_id]
    assert deleted[0]["@odata.type"] == "#microsoft.graph.user" and deleted[0]["deletedDateTime"]


def test_member_of_and_transitive_member_of(tenant: Tenant) -> None:
    direct = tenant.get("users/alex@contoso.example/memberOf").json()["value"]
    # All Employees is dynamic: its rule (employeeType Employee, enabled) takes alex in.
    assert sorted(g["displayName"] for g in direct) == ["All Employees", "Platform Engineering"]
    assert direct[0]["@odata.type"] == "#microsoft.graph.group"
    transitive = tenant.get("users/alex@contoso.example/transitiveMemberOf").json()["value"]
    assert {g["displayName"] for g in transitive} == {"Platform Engineering", "Engineering", "All Employees"}


def test_manager_get_put_delete(tenant: Tenant) -> None:
    manager = tenant.get("users/ada@contoso.example/manager").json()
    assert manager["userPrincipalName"] == "grace@contoso.example"
    assert manager["@odata.type"] == "#microsoft.graph.user"
    lee = tenant.user_id("lee@contoso.example")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{lee}"}
    assert tenant.call("PUT", "users/ada@contoso.example/manager/$ref", json=ref).status_code == 204
    assert tenant.get("users/ada@contoso.example/manager").json()["id"] == lee
    reports = tenant.get(f"users/{lee}/directReports").json()["value"]
    assert "ada@contoso.example" in {r["userPrincipalName"] for r in reports}
    assert tenant.call("DELETE", "users/ada@contoso.example/manager/$ref").status_code == 204
    assert error_of(tenant.get("users/ada@contoso.example/manager"))[:2] == (404, "Request_ResourceNotFound")
    assert tenant.call("DELETE", "users/ada@contoso.example/manager/$ref").status_code == 404


def test_manager_ref_to_missing_user_is_404(tenant: Tenant) -> None:
    ref = {"@odata.id": "https://graph.microsoft.com/v1.0/users/00000000-0000-0000-0000-000000000001"}
    assert tenant.call("PUT", "users/ada@contoso.example/manager/$ref", json=ref).status_code == 404


def test_expand_manager_on_users_list(tenant: Tenant) -> None:
    users = tenant.get("users?$select=id,userPrincipalName&$expand=manager($select=id)").json()["value"]
    by_upn = {u["userPrincipalName"]: u for u in users}
    assert by_upn["ada@contoso.example"]["manager"] == {
        "@odata.type": "#microsoft.graph.user",
        "id": tenant.user_id("grace@contoso.example"),
    }
    assert "manager" not in by_upn["patti@contoso.example"]


def test_revoke_sign_in_sessions(tenant: Tenant) -> None:
    response = tenant.call("POST", "users/ada@contoso.example/revokeSignInSessions")
    assert response.status_code == 200 and response.json()["value"] is True


def test_reader_app_cannot_write(tenant: Tenant) -> None:
    response = tenant.call("PATCH", "users/ada@contoso.example", json={"jobTitle": "x"}, app="reader")
    assert error_of(response)[:2] == (403, "Authorization_RequestDenied")


def test_replication_lag_hides_new_user(tenant: Tenant) -> None:
    tenant.config.lag_ms = 5000
    created = tenant.call("POST", "users", json=NEW_USER).json()
    assert tenant.get(f"users/{created['id']}").status_code == 404
    assert tenant.call("PATCH", f"users/{created['id']}", json={"jobTitle": "x"}).status_code == 404
    listed = {u["id"] for u in tenant.get("users").json()["value"]}
    assert created["id"] not in listed
    tenant.config.clock_offset_s = 6
    assert tenant.get(f"users/{created['id']}").status_code == 200


def test_double_slash_paths_are_collapsed(tenant: Tenant) -> None:
    assert tenant.get("https://graph.microsoft.com/v1.0//users/ada@contoso.example").status_code == 200


def test_member_of_casts_counts_and_direct_reports(tenant: Tenant) -> None:
    eventual = {"ConsistencyLevel": "eventual"}
    assert tenant.get("users/alex@contoso.example/memberOf/$count", headers=eventual).text == "2"
    groups = tenant.get("users/alex@contoso.example/transitiveMemberOf/graph.group").json()["value"]
    assert len(groups) == 3
    reports = tenant.get("users/grace@contoso.example/directReports/graph.user").json()["value"]
    assert "ada@contoso.example" in {r["userPrincipalName"] for r in reports}
    ada = tenant.user_id("ada@contoso.example")
    assert tenant.get(f"users/grace@contoso.example/directReports/{ada}").json()["id"] == ada


def test_me_needs_a_signed_in_user(tenant: Tenant) -> None:
    assert error_of(tenant.get("me/memberOf")) == (
        400,
        "BadRequest",
        "/me request is only valid with delegated authentication flow.",
    )


def test_skip_is_not_supported(tenant: Tenant) -> None:
    status, code, message = error_of(tenant.get("users?$skip=5"))
    assert (status, code, message) == (400, "Request_BadRequest", "'$skip' is not supported by the service.")
