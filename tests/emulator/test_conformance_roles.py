"""Conformance: directory roles, through raw HTTP and the real SDK.

Sources (DC = microsoftgraph/microsoft-graph-docs-contrib): DC rbacapplication-list-roledefinitions.md,
resources/unifiedroledefinition.md, rbacapplication-list-roleassignments.md,
resources/unifiedroleassignment.md, rbacapplication-post-roleassignments.md, unifiedroleassignment-delete.md;
Entra docs "Microsoft Entra built-in roles" (permissions-reference.md) for the templateIds and names; the
observed errors each test names.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any
from urllib.parse import quote

import pytest
from conformance import (
    MISSING_ID,
    NOT_FOUND_TEXT,
    Factory,
    Http,
    all_pages,
    error_of,
    group_id,
    leave_seeded,  # noqa: F401 (fixture used by pytestmark)
    new_group,
    no_retry,
    run,
    seeded,  # noqa: F401 (fixture used by pytestmark)
    user_id,
)

from reconciler.live_read import ROLE_ASSIGNMENTS_PATH

pytestmark = pytest.mark.usefixtures("leave_seeded", "seeded")

# Entra docs, permissions-reference ("All roles": role, template ID).
BUILT_IN = {
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "User Administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
    "Groups Administrator": "fdd7a751-b60b-444a-984c-02652fe8fa1c",
    "Helpdesk Administrator": "729827e3-9c14-49f7-bb1b-9608f156bbb8",
    "License Administrator": "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
    "Security Administrator": "194ae4cb-b126-40b2-bd5b-6091b380977d",
    "Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
    "Exchange Administrator": "29232cdf-9323-42fd-ade2-1d097af3e4de",
    "SharePoint Administrator": "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
    "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    "Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
    "Authentication Administrator": "c4e39bd9-1100-46d3-8c65-fb160da0071f",
    "Privileged Authentication Administrator": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
    "Billing Administrator": "b0f54661-2d74-4c50-afa3-1ec803f12efe",
    "Directory Readers": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
}
GLOBAL_ADMIN = BUILT_IN["Global Administrator"]
USER_ADMIN = BUILT_IN["User Administrator"]
DEFINITIONS = "roleManagement/directory/roleDefinitions"
ASSIGNMENTS = "roleManagement/directory/roleAssignments"
DENIED = (403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


def assignment_body(role: str, principal: str, scope: str = "/") -> dict[str, Any]:
    """rbacapplication-post-roleassignments, example 1."""
    return {
        "@odata.type": "#microsoft.graph.unifiedRoleAssignment",
        "roleDefinitionId": role,
        "principalId": principal,
        "directoryScopeId": scope,
    }


# ---- role definitions ------------------------------------------------------------------------------


def test_the_built_in_roles_with_their_template_ids(emulator_info: dict[str, Any], graph_http: Http) -> None:
    """rbacapplication-list-roledefinitions example 1: a built-in definition's id is its templateId, with
    isBuiltIn, isEnabled, version and rolePermissions; names and ids from permissions-reference."""
    body = graph_http("reader").get(DEFINITIONS).json()
    assert body["@odata.context"] == f"{emulator_info['graph_url']}/$metadata#{DEFINITIONS}"
    found = {d["displayName"]: d for d in body["value"]}
    assert {name: found[name]["id"] for name in BUILT_IN} == BUILT_IN
    for definition in body["value"]:
        assert definition["templateId"] == definition["id"]
        assert definition["isBuiltIn"] is True and definition["isEnabled"] is True
        assert definition["version"] == "1" and definition["description"]
        (permission,) = definition["rolePermissions"]
        assert permission["condition"] is None and permission["allowedResourceActions"]
    helpdesk = found["Helpdesk Administrator"]
    assert (
        helpdesk["description"] == "Can reset passwords for non-administrators and Helpdesk Administrators."
    )
    actions = helpdesk["rolePermissions"][0]["allowedResourceActions"]
    assert {
        "microsoft.directory/users/invalidateAllRefreshTokens",
        "microsoft.directory/users/password/update",
    } <= set(actions)


def test_role_definitions_filter_on_display_name_and_is_built_in(graph_http: Http) -> None:
    """rbacapplication-list-roledefinitions: "$filter (eq and in) on id, displayName, and isBuiltIn"."""
    http = graph_http("reader")
    named = http.get(DEFINITIONS, params={"$filter": "displayName eq 'User Administrator'"}).json()["value"]
    assert [d["id"] for d in named] == [USER_ADMIN]
    either = http.get(
        DEFINITIONS, params={"$filter": "displayName in ('User Administrator', 'Global Reader')"}
    ).json()["value"]
    assert {d["displayName"] for d in either} == {"User Administrator", "Global Reader"}
    built_in = http.get(DEFINITIONS, params={"$filter": "isBuiltIn eq true"}).json()["value"]
    assert len(built_in) == len(http.get(DEFINITIONS).json()["value"])
    assert http.get(DEFINITIONS, params={"$filter": "isBuiltIn eq false"}).json()["value"] == []
    selected = http.get(DEFINITIONS, params={"$select": "id,displayName,templateId"}).json()["value"]
    assert all(set(d) == {"id", "displayName", "templateId"} for d in selected)
    assert error_of(http.get(DEFINITIONS, params={"$filter": "description eq 'x'"}))[:2] == (
        400,
        "Request_UnsupportedQuery",
    )


def test_get_one_role_definition_and_an_unknown_one(emulator_info: dict[str, Any], graph_http: Http) -> None:
    """unifiedroledefinition-get; an unknown id is the directory's 404 (concepts/errors)."""
    http = graph_http("reader")
    one = http.get(f"{DEFINITIONS}/{GLOBAL_ADMIN}").json()
    assert one["@odata.context"] == f"{emulator_info['graph_url']}/$metadata#{DEFINITIONS}/$entity"
    assert one["displayName"] == "Global Administrator"
    assert error_of(http.get(f"{DEFINITIONS}/{MISSING_ID}")) == (
        404,
        "Request_ResourceNotFound",
        NOT_FOUND_TEXT.format(MISSING_ID),
    )


def test_role_reads_need_role_management_read_directory_or_directory_read_all(
    graph_http: Http, narrow: str
) -> None:
    """rbacapplication-list-roledefinitions and -list-roleassignments: RoleManagement.Read.Directory,
    Directory.Read.All (and higher); an app with user, group and organization reads only is refused."""
    http = graph_http(narrow)
    assert error_of(http.get(DEFINITIONS)) == DENIED
    assert error_of(http.get(ASSIGNMENTS)) == DENIED
    assert graph_http("reader").get(ASSIGNMENTS).status_code == 200


# ---- role assignments: reads ------------------------------------------------------------------------


def test_assignments_filter_by_role_definition_with_the_principal_expanded(
    emulator_info: dict[str, Any], graph_http: Http
) -> None:
    """rbacapplication-list-roleassignments example 1: `$filter=roleDefinitionId eq '…'&$expand=principal`;
    the id as the examples build it (the definition's and the principal's GUIDs, base64url, then "-1")."""
    http = graph_http("reader")
    breakglass = user_id(http, "breakglass@contoso.example")
    reply = http.get(
        ASSIGNMENTS, params={"$filter": f"roleDefinitionId eq '{GLOBAL_ADMIN}'", "$expand": "principal"}
    )
    body = reply.json()
    assert body["@odata.context"] == f"{emulator_info['graph_url']}/$metadata#{ASSIGNMENTS}(principal())"
    (assignment,) = body["value"]
    raw = uuid.UUID(GLOBAL_ADMIN).bytes_le + uuid.UUID(breakglass).bytes_le
    assert assignment["id"] == base64.urlsafe_b64encode(raw).decode().rstrip("=") + "-1"
    assert (assignment["principalId"], assignment["directoryScopeId"], assignment["roleDefinitionId"]) == (
        breakglass,
        "/",
        GLOBAL_ADMIN,
    )
    assert assignment["principal"]["@odata.type"] == "#microsoft.graph.user"
    assert assignment["principal"]["id"] == breakglass


def test_assignments_filter_by_principal_and_scope_combined(graph_http: Http) -> None:
    """rbacapplication-list-roleassignments example 2 ($filter on principalId);
    resources/unifiedroleassignment: principalId, roleDefinitionId and directoryScopeId each support
    $filter (eq, in)."""
    http = graph_http("reader")
    admins = group_id(http, "grp-entra-admins")
    text = f"principalId eq '{admins}' and directoryScopeId eq '/'"
    (assignment,) = http.get(ASSIGNMENTS, params={"$filter": text}).json()["value"]
    assert assignment["roleDefinitionId"] == USER_ADMIN
    both = f"roleDefinitionId eq '{USER_ADMIN}' and principalId eq '{admins}'"
    assert http.get(ASSIGNMENTS, params={"$filter": both}).json()["value"] == [assignment]
    assert http.get(ASSIGNMENTS, params={"$filter": f"principalId eq '{MISSING_ID}'"}).json()["value"] == []
    selected = http.get(
        ASSIGNMENTS, params={"$select": "id,roleDefinitionId,principalId,directoryScopeId", "$filter": text}
    ).json()["value"]
    assert set(selected[0]) == {"id", "roleDefinitionId", "principalId", "directoryScopeId"}


def test_assignments_page_with_absolute_next_links(emulator_info: dict[str, Any], graph_http: Http) -> None:
    """concepts/paging: `$top`, and `@odata.nextLink` URLs to follow verbatim."""
    http = graph_http("reader")
    everything = http.get(ASSIGNMENTS).json()["value"]
    pages = all_pages(http, f"{ASSIGNMENTS}?$top=1")
    assert all(page["@odata.nextLink"].startswith(emulator_info["graph_url"] + "/") for page in pages[:-1])
    assert [a for page in pages for a in page["value"]] == everything and len(pages) == len(everything)


def test_the_clients_role_read_works_inside_batch(graph_http: Http) -> None:
    """concepts/json-batching, resources/unifiedroleassignment (roleDefinitionId "Supports $filter (eq,
    in)"): the read entraform sends for up to 15 declared roles at once, as a `$batch` step."""
    condition = quote(f"roleDefinitionId in ('{USER_ADMIN}', '{GLOBAL_ADMIN}')")
    url = f"{ROLE_ASSIGNMENTS_PATH}&$filter={condition}"
    reply = graph_http("reader").post("$batch", json={"requests": [{"id": "1", "method": "GET", "url": url}]})
    (answer,) = reply.json()["responses"]
    assert answer["status"] == 200
    assert sorted(a["roleDefinitionId"] for a in answer["body"]["value"]) == sorted(
        [USER_ADMIN, USER_ADMIN, GLOBAL_ADMIN]  # grp-entra-admins and lynne@; breakglass@
    )


# ---- role assignments: writes -----------------------------------------------------------------------


def test_create_get_and_delete_an_assignment(
    reset_emulator: dict[str, Any], emulator_info: dict[str, Any], graph_http: Http
) -> None:
    """rbacapplication-post-roleassignments (201 with the assignment), unifiedroleassignment-get,
    unifiedroleassignment-delete (204); a second delete is the directory's 404."""
    http = graph_http("admin")
    ada = user_id(http, "ada@contoso.example")
    created = http.post(ASSIGNMENTS, json=assignment_body(USER_ADMIN, ada))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["@odata.context"] == f"{emulator_info['graph_url']}/$metadata#{ASSIGNMENTS}/$entity"
    assert (body["roleDefinitionId"], body["principalId"], body["directoryScopeId"]) == (USER_ADMIN, ada, "/")
    assert http.get(f"{ASSIGNMENTS}/{body['id']}").json()["principalId"] == ada
    assert http.delete(f"{ASSIGNMENTS}/{body['id']}").status_code == 204
    assert error_of(http.delete(f"{ASSIGNMENTS}/{body['id']}")) == (
        404,
        "Request_ResourceNotFound",
        NOT_FOUND_TEXT.format(body["id"]),
    )


def test_role_writes_need_role_management_read_write_directory(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    """rbacapplication-post-roleassignments and unifiedroleassignment-delete: only
    RoleManagement.ReadWrite.Directory; the writer app (every other write permission) is refused."""
    writer = graph_http("writer")
    ada = user_id(writer, "ada@contoso.example")
    assert error_of(writer.post(ASSIGNMENTS, json=assignment_body(USER_ADMIN, ada))) == DENIED
    existing = writer.get(ASSIGNMENTS).json()["value"][0]["id"]
    assert error_of(writer.delete(f"{ASSIGNMENTS}/{existing}")) == DENIED


def test_an_existing_assignment_is_a_conflict(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    """Observed (dod-ccpo/atat#1554): assigning a role a principal holds already is 400 Request_BadRequest
    "A conflicting object with one or more of the specified property values is present in the directory."."""
    http = graph_http("admin")
    breakglass = user_id(http, "breakglass@contoso.example")
    assert error_of(http.post(ASSIGNMENTS, json=assignment_body(GLOBAL_ADMIN, breakglass))) == (
        400,
        "Request_BadRequest",
        "A conflicting object with one or more of the specified property values is present in the directory.",
    )


def test_only_role_assignable_groups_may_hold_roles(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    """resources/unifiedroleassignment: principals are users, role-assignable groups and service principals.
    Observed for another group (Microsoft365DSC/Microsoft365DSC#879)."""
    http = graph_http("admin")
    finance = group_id(http, "grp-finance")
    assert error_of(http.post(ASSIGNMENTS, json=assignment_body(USER_ADMIN, finance))) == (
        400,
        "Request_BadRequest",
        "Groups without IsAssignableToRole property set cannot be assigned to roles.",
    )
    helpdesk = group_id(http, "grp-helpdesk-admins")
    assert http.post(ASSIGNMENTS, json=assignment_body(USER_ADMIN, helpdesk)).status_code == 201


def test_unknown_role_or_principal_is_not_found(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    """Observed: an unknown role definition or principal is Request_ResourceNotFound
    (microsoftgraph/microsoft-graph-docs#18218, AlexFilipin/ConditionalAccess#46)."""
    http = graph_http("admin")
    ada = user_id(http, "ada@contoso.example")
    assert error_of(http.post(ASSIGNMENTS, json=assignment_body(MISSING_ID, ada))) == (
        404,
        "Request_ResourceNotFound",
        NOT_FOUND_TEXT.format(MISSING_ID),
    )
    assert error_of(http.post(ASSIGNMENTS, json=assignment_body(USER_ADMIN, MISSING_ID)))[:2] == (
        404,
        "Request_ResourceNotFound",
    )


def test_administrative_unit_scope(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    """rbacapplication-post-roleassignments example 2: directoryScopeId "/administrativeUnits/{id}"; the same
    role and principal at the tenant scope is another assignment. Another scope is refused."""
    http = graph_http("admin")
    ada = user_id(http, "ada@contoso.example")
    unit = "/administrativeUnits/5d107bba-d8e2-4e13-b6ae-884be90e5d1a"
    scoped = http.post(ASSIGNMENTS, json=assignment_body(USER_ADMIN, ada, unit))
    assert scoped.status_code == 201 and scoped.json()["directoryScopeId"] == unit
    tenant_wide = http.post(ASSIGNMENTS, json=assignment_body(USER_ADMIN, ada))
    assert tenant_wide.status_code == 201 and tenant_wide.json()["id"] != scoped.json()["id"]
    listed = http.get(ASSIGNMENTS, params={"$filter": f"directoryScopeId eq '{unit}'"}).json()["value"]
    assert [a["id"] for a in listed] == [scoped.json()["id"]]
    assert error_of(http.post(ASSIGNMENTS, json=assignment_body(USER_ADMIN, ada, "/sites/x")))[:2] == (
        400,
        "Request_BadRequest",
    )


def test_a_deleted_user_holds_no_role_until_restored(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    """Entra docs, recover-from-deletions ("Properties maintained with soft delete": a user's roles): a
    soft-deleted user is no holder; restored (directory-deleteditems-restore), it holds its roles again."""
    http = graph_http("admin")
    lynne = user_id(http, "lynne@contoso.example")
    mine = {"$filter": f"principalId eq '{lynne}'"}
    before = http.get(ASSIGNMENTS, params=mine).json()["value"]
    assert [a["roleDefinitionId"] for a in before] == [USER_ADMIN]
    assert http.delete(f"users/{lynne}").status_code == 204
    assert http.get(ASSIGNMENTS, params=mine).json()["value"] == []
    assert http.post(f"directory/deletedItems/{lynne}/restore").status_code == 200
    assert http.get(ASSIGNMENTS, params=mine).json()["value"] == before


def test_a_deleted_security_group_loses_its_roles(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    """group-delete: a security group is deleted permanently, and no assignment names it afterwards."""
    http = graph_http("admin")
    created = http.post("groups", json=new_group("grp-temp-admins", isAssignableToRole=True))
    assert created.status_code == 201, created.text
    gid = created.json()["id"]
    assert http.post(ASSIGNMENTS, json=assignment_body(USER_ADMIN, gid)).status_code == 201
    assert http.delete(f"groups/{gid}").status_code == 204
    assert http.get(ASSIGNMENTS, params={"$filter": f"principalId eq '{gid}'"}).json()["value"] == []


def test_role_assignments_through_the_sdk(reset_emulator: dict[str, Any], graph_client: Factory) -> None:
    """The real msgraph-sdk: create (rbacapplication-post-roleassignments), list with a filter, delete; and
    the writer's ODataError 403."""
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph.generated.models.unified_role_assignment import UnifiedRoleAssignment
    from msgraph.generated.role_management.directory.role_assignments import role_assignments_request_builder

    builder = role_assignments_request_builder.RoleAssignmentsRequestBuilder

    async def go() -> tuple[str, list[str], int]:
        client = graph_client("admin")
        ada = await client.users.by_user_id("ada@contoso.example").get()
        body = UnifiedRoleAssignment(
            role_definition_id=USER_ADMIN, principal_id=ada.id, directory_scope_id="/"
        )
        created = await client.role_management.directory.role_assignments.post(body)
        query = builder.RoleAssignmentsRequestBuilderGetQueryParameters(filter=f"principalId eq '{ada.id}'")
        listed = await client.role_management.directory.role_assignments.get(
            request_configuration=RequestConfiguration(query_parameters=query)
        )
        await client.role_management.directory.role_assignments.by_unified_role_assignment_id(
            created.id
        ).delete()
        writer = graph_client("writer")
        with pytest.raises(ODataError) as denied:
            await writer.role_management.directory.role_assignments.post(
                body, request_configuration=no_retry()
            )
        return (
            created.principal_id,
            [a.role_definition_id for a in listed.value],
            denied.value.response_status_code,
        )

    principal, roles, status = run(go())
    assert roles == [USER_ADMIN] and principal and status == 403


def test_members_of_a_role_assignable_group_need_role_management(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    """group-post-members and group-delete-members: "To add [remove] members to [from] a role-assignable
    group, the calling user must also be assigned the RoleManagement.ReadWrite.Directory permission."."""
    writer, admin = graph_http("writer"), graph_http("admin")
    group, ada = group_id(writer, "grp-helpdesk-admins"), user_id(writer, "ada@contoso.example")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{ada}"}
    assert error_of(writer.post(f"groups/{group}/members/$ref", json=ref)) == DENIED
    assert admin.post(f"groups/{group}/members/$ref", json=ref).status_code == 204
    assert error_of(writer.delete(f"groups/{group}/members/{ada}/$ref")) == DENIED
    assert admin.delete(f"groups/{group}/members/{ada}/$ref").status_code == 204
