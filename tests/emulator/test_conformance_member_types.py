"""Conformance: which objects may be members of which groups, through every route that creates a
membership (Graph docs: group-post-members and its table of allowed member types, shared with
resources/groups-overview; group-post-groups; group-update; concepts/json-batching), through raw HTTP and
the real SDK.

The docs' table, with its rows as member types:

| Object type            | Member of security group | Member of Microsoft 365 group |
|------------------------|--------------------------|-------------------------------|
| User                   | Yes                      | Yes                           |
| Security group         | Yes                      | No                            |
| Microsoft 365 group    | No                       | No                            |
| Device                 | Yes                      | No                            |
| Service principal      | Yes                      | No                            |
| Organizational contact | Yes                      | No                            |

The emulator holds users and groups only, so the rows of devices, service principals and contacts are
checked against the rule itself (the one every route asks); over HTTP a reference to such an object is one
to an object that does not exist (404, group-post-members "Response").

Refusal texts: "Unified Groups cannot be added to Unified Groups…" is Graph's as observed
(microsoftgraph/microsoft-graph-docs-contrib#3884); "Nesting is currently not supported for groups that can
be assigned to a role." likewise (hashicorp/terraform-provider-azuread#651); "Cannot Update a mail-enabled
security groups and or distribution list." likewise (microsoftgraph/microsoft-graph-docs#14827). Where no
text is on record the test holds the status and code only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conformance import Factory, new_group, no_retry, run
from graph_calls import Tenant, error_of
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from reconciler.emulator import member_types, objects
from reconciler.emulator.auth import WRITER_ROLES, AppRegistration
from reconciler.emulator.tenant import CREATED, DOMAINS

GRAPH = "https://graph.microsoft.com/v1.0"
DOCS_TABLE = {  # member type: (member of a security group, member of a Microsoft 365 group)
    "user": (True, True),
    "securityGroup": (True, False),
    "microsoft365Group": (False, False),
    "device": (True, False),
    "servicePrincipal": (True, False),
    "orgContact": (True, False),
}
UNIFIED_IN_UNIFIED = "Unified Groups cannot be added to Unified Groups."
NESTED_IN_ROLE_ASSIGNABLE = "Nesting is currently not supported for groups that can be assigned to a role."
READ_ONLY = "Cannot Update a mail-enabled security groups and or distribution list."
MAIL_ENABLED_WRITE = "The service does not currently support writes of mail-enabled groups."


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    t = Tenant("demo")
    yield t
    t.close()


def directory_object(oid: str) -> str:
    return f"{GRAPH}/directoryObjects/{oid}"


def create(tenant: Tenant, body: dict[str, Any]) -> str:
    reply = tenant.call("POST", "groups", json=body)
    assert reply.status_code == 201, reply.text
    return str(reply.json()["id"])


def exchange_group(tenant: Tenant, nickname: str, security: bool) -> str:
    """A mail-enabled security group (security) or a distribution group, as Exchange Online creates them:
    Graph cannot (group-post-groups), so the test puts it in the tenant directly."""
    oid = f"00000000-0000-4000-8000-0000000000{len(tenant.store.groups):02d}"
    props = {"displayName": nickname, "mailEnabled": True, "securityEnabled": security}
    group = objects.new_group(oid, CREATED, "x.example", props)
    tenant.store.save("group", group)
    return str(group["id"])


class Objects:
    """One object of each type the emulator holds, in a fresh demo tenant."""

    def __init__(self, tenant: Tenant) -> None:
        self.user = tenant.user_id("ada@contoso.example")
        self.security = create(tenant, new_group("sec-parent"))
        self.security_child = create(tenant, new_group("sec-child"))
        self.unified = create(tenant, new_group("m365-parent", unified=True))
        self.unified_child = create(tenant, new_group("m365-child", unified=True))
        self.role_assignable = tenant.group_id("grp-entra-admins")

    def member(self, row: str) -> str:
        return {
            "user": self.user,
            "securityGroup": self.security_child,
            "microsoft365Group": self.unified_child,
        }[row]

    def parent(self, kind: str) -> str:
        return {"security": self.security, "unified": self.unified}[kind]


Answer = tuple[int, dict[str, Any] | None]  # the status, and Graph's error object when there is one


def answer(reply: httpx.Response) -> Answer:
    return reply.status_code, reply.json()["error"] if reply.content else None


def add_by_ref(tenant: Tenant, group: str, member: str, app: str = "writer") -> Answer:
    body = {"@odata.id": directory_object(member)}
    return answer(tenant.call("POST", f"groups/{group}/members/$ref", json=body, app=app))


def add_by_patch(tenant: Tenant, group: str, member: str, app: str = "writer") -> Answer:
    body = {"members@odata.bind": [directory_object(member)]}
    return answer(tenant.call("PATCH", f"groups/{group}", json=body, app=app))


def add_in_batch(tenant: Tenant, group: str, member: str, app: str = "writer") -> Answer:
    step = {
        "id": "1",
        "method": "POST",
        "url": f"/groups/{group}/members/$ref",
        "headers": {"Content-Type": "application/json"},
        "body": {"@odata.id": directory_object(member)},
    }
    reply = tenant.call("POST", "$batch", json={"requests": [step]}, app=app)
    assert reply.status_code == 200
    step_answer = reply.json()["responses"][0]
    return step_answer["status"], (step_answer.get("body") or {}).get("error")


def members(tenant: Tenant, group: str) -> set[str]:
    return set(tenant.store.members[group])


ROUTES = {"members/$ref": add_by_ref, "PATCH members@odata.bind": add_by_patch, "$batch": add_in_batch}
CELLS = [
    (row, parent)
    for row in ("user", "securityGroup", "microsoft365Group")
    for parent in ("security", "unified")
]


def expected(row: str, parent: str) -> bool:
    in_security, in_unified = DOCS_TABLE[row]
    return in_security if parent == "security" else in_unified


def stored_group(oid: str, name: str, unified: bool) -> dict[str, Any]:
    return objects.new_group(
        oid, CREATED, DOMAINS[0], {"displayName": name, "groupTypes": ["Unified"] if unified else []}
    )


@pytest.mark.parametrize(("row", "parent"), [(r, p) for r in DOCS_TABLE for p in ("security", "unified")])
def test_the_rule_answers_every_cell_of_the_docs_table(row: str, parent: str) -> None:
    group = stored_group("10000000-0000-4000-8000-000000000001", "Parent", unified=parent == "unified")
    kind = "group" if row.endswith("Group") else row
    member = stored_group("10000000-0000-4000-8000-000000000002", "Child", unified=row == "microsoft365Group")
    refusal = member_types.membership_refusal(group, kind, member if kind == "group" else None)
    if expected(row, parent):
        assert refusal is None
    else:
        assert refusal is not None and (refusal.status, refusal.code) == (400, "Request_BadRequest")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(("row", "parent"), CELLS)
def test_each_route_adds_exactly_the_members_the_docs_table_allows(
    tenant: Tenant, route: str, row: str, parent: str
) -> None:
    objects = Objects(tenant)
    group, member = objects.parent(parent), objects.member(row)
    status, error = ROUTES[route](tenant, group, member)
    if expected(row, parent):
        assert (status, error) == (204, None)
        assert member in members(tenant, group)
    else:
        assert error is not None and (status, error["code"]) == (400, "Request_BadRequest")
        if row == "microsoft365Group" and parent == "unified":
            assert error["message"].startswith(UNIFIED_IN_UNIFIED)
        assert member not in members(tenant, group)


@pytest.mark.parametrize(("row", "parent"), CELLS)
def test_create_group_with_members_binds_follows_the_table(tenant: Tenant, row: str, parent: str) -> None:
    """group-post-groups example 2: members@odata.bind at creation; a refused member creates nothing."""
    objects = Objects(tenant)
    before = len(tenant.store.groups)
    body = new_group("bound", unified=parent == "unified")
    body["members@odata.bind"] = [f"{GRAPH}/directoryObjects/{objects.member(row)}"]
    reply = tenant.call("POST", "groups", json=body)
    if expected(row, parent):
        assert reply.status_code == 201
        assert members(tenant, reply.json()["id"]) == {objects.member(row)}
    else:
        assert error_of(reply)[:2] == (400, "Request_BadRequest")
        assert len(tenant.store.groups) == before


def test_patch_binds_are_all_or_nothing(tenant: Tenant) -> None:
    """group-post-members example 2: "If an error condition exists in the request body, no members are
    added"."""
    objects = Objects(tenant)
    good = [tenant.user_id("grace@contoso.example"), objects.security_child]
    body = {"members@odata.bind": [directory_object(oid) for oid in (*good, objects.unified_child)]}
    reply = tenant.call("PATCH", f"groups/{objects.security}", json=body)
    assert error_of(reply)[:2] == (400, "Request_BadRequest")
    assert members(tenant, objects.security) == set()


@pytest.mark.parametrize("route", ROUTES)
def test_a_role_assignable_group_takes_users_but_no_nested_group(tenant: Tenant, route: str) -> None:
    """Entra docs, groups-concept ("Group nesting is not supported"); group-post-groups example 3. Adding
    members to a role-assignable group needs RoleManagement.ReadWrite.Directory besides (group-post-members),
    which the admin app holds and the writer does not."""
    objects = Objects(tenant)
    status, error = ROUTES[route](tenant, objects.role_assignable, objects.security_child, "admin")
    assert error is not None
    assert (status, error["code"], error["message"]) == (400, "Request_BadRequest", NESTED_IN_ROLE_ASSIGNABLE)
    denied = ROUTES[route](tenant, objects.role_assignable, objects.user, "writer")
    assert denied[0] == 403 and denied[1] is not None and denied[1]["code"] == "Authorization_RequestDenied"
    assert ROUTES[route](tenant, objects.role_assignable, objects.user, "admin")[0] == 204


def test_a_role_assignable_group_is_created_with_no_nested_group(tenant: Tenant) -> None:
    """group-post-groups example 3: creating one needs RoleManagement.ReadWrite.Directory besides."""
    objects = Objects(tenant)
    roles = (*WRITER_ROLES, "RoleManagement.ReadWrite.Directory")
    tenant.local.emulator.auth.apps["privileged"] = AppRegistration(
        "privileged", str(uuid.uuid4()), "-", roles
    )
    body = new_group("roles", isAssignableToRole=True)
    body["members@odata.bind"] = [directory_object(objects.security_child)]
    assert error_of(tenant.call("POST", "groups", json=body, app="privileged")) == (
        400,
        "Request_BadRequest",
        NESTED_IN_ROLE_ASSIGNABLE,
    )


@pytest.mark.parametrize("security", [True, False], ids=["mail-enabled security", "distribution"])
def test_graph_cannot_create_mail_enabled_security_or_distribution_groups(
    tenant: Tenant, security: bool
) -> None:
    """group-post-groups: "You can create the following types of groups: Microsoft 365 group, Security
    group"; resources/groups-overview: the other two are read-only through Graph."""
    body = new_group("mailsec", mailEnabled=True, securityEnabled=security)
    status, code, message = error_of(tenant.call("POST", "groups", json=body))
    assert (status, code) == (400, "Request_BadRequest") and message.startswith(MAIL_ENABLED_WRITE)
    assert not any(g["mailNickname"] == "mailsec" for g in tenant.store.groups.values())


def test_a_security_group_cannot_be_made_mail_enabled(tenant: Tenant) -> None:
    group = Objects(tenant).security
    status, code, message = error_of(tenant.call("PATCH", f"groups/{group}", json={"mailEnabled": True}))
    assert (status, code) == (400, "Request_BadRequest") and message.startswith(MAIL_ENABLED_WRITE)
    assert tenant.store.groups[group]["mailEnabled"] is False


@pytest.mark.parametrize("security", [True, False], ids=["mail-enabled security", "distribution"])
def test_members_of_mail_enabled_security_and_distribution_groups_are_read_only(
    tenant: Tenant, security: bool
) -> None:
    group = exchange_group(tenant, "exchange-list", security)
    user = tenant.user_id("ada@contoso.example")
    for route in ROUTES.values():
        status, error = route(tenant, group, user)
        assert error is not None
        assert (status, error["code"], error["message"]) == (400, "Request_BadRequest", READ_ONLY)
    tenant.store.add_edge("members", group, user)  # as Exchange would
    reply = tenant.call("DELETE", f"groups/{group}/members/{user}/$ref")
    assert error_of(reply) == (400, "Request_BadRequest", READ_ONLY)
    reply = tenant.call("PATCH", f"groups/{group}", json={"description": "changed"})
    assert error_of(reply) == (400, "Request_BadRequest", READ_ONLY)
    assert members(tenant, group) == {user}


def test_a_group_is_no_owner(tenant: Tenant) -> None:
    """group-post-owners: owners are users or service principals."""
    objects = Objects(tenant)
    reply = tenant.call(
        "POST",
        f"groups/{objects.security}/owners/$ref",
        json={"@odata.id": directory_object(objects.security_child)},
    )
    assert error_of(reply)[:2] == (400, "Request_BadRequest")


def test_the_sdk_gets_graphs_error_for_a_microsoft_365_group_in_a_microsoft_365_group(
    reset_emulator: dict[str, Any], graph_client: Factory
) -> None:
    from msgraph.generated.models.group import Group
    from msgraph.generated.models.reference_create import ReferenceCreate

    async def scenario() -> ODataError:
        client = graph_client("writer")
        parent = await client.groups.post(
            Group(
                display_name="Parent",
                mail_enabled=True,
                mail_nickname="sdk-parent",
                security_enabled=False,
                group_types=["Unified"],
            )
        )
        child = await client.groups.post(
            Group(
                display_name="Child",
                mail_enabled=True,
                mail_nickname="sdk-child",
                security_enabled=False,
                group_types=["Unified"],
            )
        )
        assert parent is not None and child is not None and parent.id and child.id
        try:
            await client.groups.by_group_id(parent.id).members.ref.post(
                ReferenceCreate(odata_id=directory_object(child.id)), request_configuration=no_retry()
            )
        except ODataError as error:
            return error
        raise AssertionError("the member was added")

    error = run(scenario())
    assert error.response_status_code == 400
    assert error.error is not None and error.error.code == "Request_BadRequest"
    assert (error.error.message or "").startswith(UNIFIED_IN_UNIFIED)
