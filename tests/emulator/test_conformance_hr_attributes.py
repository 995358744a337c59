"""Conformance: a user's HR attributes as Graph stores, returns, filters and checks them.

Sources: the user resource page, https://learn.microsoft.com/en-us/graph/api/resources/user?view=graph-rest-1.0
("Properties": employeeId at most 16 characters, DateTimeOffset instants in UTC, employeeOrgData,
faxNumber, otherMails, passwordPolicies, the `$filter` operators of each; employeeLeaveDateTime read with
User-LifeCycleInfo.Read.All and written with User-LifeCycleInfo.ReadWrite.All);
https://learn.microsoft.com/en-us/graph/api/resources/onpremisesextensionattributes?view=graph-rest-1.0
(15 attributes, up to 1024 characters each, writable for cloud-only users);
https://learn.microsoft.com/en-us/graph/tutorial-lifecycle-workflows-set-employeeleavedatetime (the PATCH
that sets employeeLeaveDateTime and the one that resets it to null, each 204); concepts/aad-advanced-queries
(onPremisesExtensionAttributes filters need the advanced parameters).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from conformance import (
    Factory,
    Http,
    error_of,
    leave_seeded,  # noqa: F401 (fixture used by pytestmark)
    run,
    seeded,  # noqa: F401 (fixture used by pytestmark)
)
from graph_calls import Tenant

from reconciler.emulator.auth import READER_ROLES, AppRegistration

pytestmark = pytest.mark.usefixtures("leave_seeded", "seeded")
ADA = "ada@contoso.example"
HR = (
    "employeeHireDate,employeeLeaveDateTime,employeeOrgData,onPremisesExtensionAttributes,faxNumber,"
    "otherMails,passwordPolicies,mail"
)


def test_hr_attributes_written_and_read_through_the_sdk(
    reset_emulator: dict[str, Any], graph_client: Factory
) -> None:
    from msgraph.generated.models.employee_org_data import EmployeeOrgData
    from msgraph.generated.models.on_premises_extension_attributes import OnPremisesExtensionAttributes
    from msgraph.generated.models.user import User
    from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder

    async def go() -> Any:
        client = graph_client("writer")
        patch = User(
            employee_hire_date=datetime(2026, 1, 5, tzinfo=UTC),
            employee_leave_date_time=datetime(2027, 6, 30, 17, tzinfo=UTC),
            employee_org_data=EmployeeOrgData(division="Research", cost_center="CC-42"),
            on_premises_extension_attributes=OnPremisesExtensionAttributes(extension_attribute1="badge-7"),
            fax_number="+44 20 7946 0001",
            other_mails=["ada@example.org"],
            password_policies="DisablePasswordExpiration",
        )
        await client.users.by_user_id(ADA).patch(patch)
        query = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(select=HR.split(","))
        config = UserItemRequestBuilder.UserItemRequestBuilderGetRequestConfiguration(query_parameters=query)
        return await client.users.by_user_id(ADA).get(request_configuration=config)

    user = run(go())
    assert user.employee_hire_date == datetime(2026, 1, 5, tzinfo=UTC)
    assert user.employee_leave_date_time == datetime(2027, 6, 30, 17, tzinfo=UTC)
    assert (user.employee_org_data.division, user.employee_org_data.cost_center) == ("Research", "CC-42")
    extensions = user.on_premises_extension_attributes
    assert (extensions.extension_attribute1, extensions.extension_attribute2) == ("badge-7", None)
    assert (user.fax_number, user.other_mails, user.password_policies) == (
        "+44 20 7946 0001",
        ["ada@example.org"],
        "DisablePasswordExpiration",
    )


def test_instants_come_back_in_utc_and_unset_extension_attributes_are_null(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    before = http.get(f"users/{ADA}", params={"$select": "onPremisesExtensionAttributes,employeeHireDate"})
    assert before.json()["onPremisesExtensionAttributes"] == {
        f"extensionAttribute{n}": None for n in range(1, 16)
    }
    assert before.json()["employeeHireDate"] is None
    reply = http.patch(f"users/{ADA}", json={"employeeHireDate": "2026-01-05T09:00:00+02:00"})
    assert reply.status_code == 204
    after = http.get(f"users/{ADA}", params={"$select": "employeeHireDate"}).json()
    assert after["employeeHireDate"] == "2026-01-05T07:00:00Z"


def test_a_patch_of_a_complex_property_keeps_the_keys_it_does_not_name(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    for body in (
        {"onPremisesExtensionAttributes": {"extensionAttribute1": "a"}},
        {"onPremisesExtensionAttributes": {"extensionAttribute2": "b"}},
        {"employeeOrgData": {"division": "Research", "costCenter": "CC-1"}},
        {"employeeOrgData": {"costCenter": "CC-2"}},
    ):
        assert http.patch(f"users/{ADA}", json=body).status_code == 204
    got = http.get(f"users/{ADA}", params={"$select": "onPremisesExtensionAttributes,employeeOrgData"}).json()
    assert {k: v for k, v in got["onPremisesExtensionAttributes"].items() if v} == {
        "extensionAttribute1": "a",
        "extensionAttribute2": "b",
    }
    assert got["employeeOrgData"] == {"division": "Research", "costCenter": "CC-2"}
    assert http.patch(f"users/{ADA}", json={"employeeOrgData": None}).status_code == 204
    assert http.get(f"users/{ADA}", params={"$select": "employeeOrgData"}).json()["employeeOrgData"] is None


@pytest.mark.parametrize(
    ("body", "prop"),
    [
        ({"employeeId": "E" * 17}, "employeeId"),
        ({"employeeHireDate": "2026-01-05"}, "employeeHireDate"),
        ({"employeeLeaveDateTime": "next Friday"}, "employeeLeaveDateTime"),
        ({"mail": "adá@contoso.example"}, "mail"),
        ({"otherMails": ["not mail"]}, "otherMails"),
        ({"passwordPolicies": "DisableEverything"}, "passwordPolicies"),
        (
            {"onPremisesExtensionAttributes": {"extensionAttribute1": "x" * 1025}},
            "onPremisesExtensionAttributes",
        ),
        ({"department": "d" * 65}, "department"),
    ],
)
def test_values_graph_refuses_are_400(
    reset_emulator: dict[str, Any], graph_http: Http, body: dict[str, Any], prop: str
) -> None:
    assert error_of(graph_http("writer").patch(f"users/{ADA}", json=body)) == (
        400,
        "Request_BadRequest",
        f"Invalid value specified for property '{prop}' of resource 'User'.",
    )


def test_an_unknown_extension_attribute_is_400(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    reply = graph_http("writer").patch(
        f"users/{ADA}", json={"onPremisesExtensionAttributes": {"extensionAttribute16": "x"}}
    )
    assert error_of(reply)[:2] == (400, "Request_BadRequest")


def test_extension_attributes_of_a_synced_user_are_read_only(
    reset_emulator: dict[str, Any], graph_http: Http, admin: Any
) -> None:
    http = graph_http("writer")
    ada = http.get(f"users/{ADA}", params={"$select": "id"}).json()["id"]
    admin.patch(f"users/{ada}", json={"onPremisesSyncEnabled": True}).raise_for_status()
    reply = http.patch(f"users/{ADA}", json={"onPremisesExtensionAttributes": {"extensionAttribute1": "x"}})
    assert error_of(reply)[:2] == (400, "Request_BadRequest")


def test_hr_attributes_filter_as_graph_documents(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    http.patch(
        f"users/{ADA}",
        json={
            "employeeHireDate": "2026-01-05T00:00:00Z",
            "employeeOrgData": {"division": "Research", "costCenter": "CC-42"},
            "onPremisesExtensionAttributes": {"extensionAttribute1": "badge-7"},
            "faxNumber": "+44 20 7946 0001",
        },
    ).raise_for_status()

    def upns(query: str, advanced: bool = False) -> list[str]:
        params = {
            "$filter": query,
            "$select": "userPrincipalName",
            **({"$count": "true"} if advanced else {}),
        }
        headers = {"ConsistencyLevel": "eventual"} if advanced else {}
        reply = http.get("users", params=params, headers=headers)
        assert reply.status_code == 200, reply.text
        return [u["userPrincipalName"] for u in reply.json()["value"]]

    assert upns("employeeHireDate ge 2026-01-01T00:00:00Z") == [ADA]
    assert upns("employeeHireDate le 2025-12-31T23:00:00-02:00") == []
    assert upns("employeeOrgData/costCenter eq 'CC-42'") == [ADA]
    assert upns("startsWith(faxNumber, '+44 20')") == [ADA]
    assert upns("onPremisesExtensionAttributes/extensionAttribute1 eq 'badge-7'", advanced=True) == [ADA]
    plain = http.get(
        "users", params={"$filter": "onPremisesExtensionAttributes/extensionAttribute1 eq 'badge-7'"}
    )
    assert error_of(plain)[:2] == (400, "Request_UnsupportedQuery")


@pytest.fixture(scope="module")
def tenant() -> Iterator[Tenant]:
    """An in-process tenant with apps that hold every user permission but the lifecycle ones."""
    t = Tenant("demo")
    plain_reader = tuple(r for r in READER_ROLES if not r.startswith("User-LifeCycleInfo"))
    writer = (*plain_reader, "User.ReadWrite.All", "Directory.ReadWrite.All")
    t.local.emulator.auth.apps["plain-reader"] = AppRegistration(
        "plain-reader", str(uuid.uuid4()), "-", plain_reader
    )
    t.local.emulator.auth.apps["plain-writer"] = AppRegistration(
        "plain-writer", str(uuid.uuid4()), "-", writer
    )
    yield t
    t.close()


def test_the_leave_date_is_written_with_its_own_permission_only(tenant: Tenant) -> None:
    leave = {"employeeLeaveDateTime": "2027-06-30T17:00:00Z"}
    assert error_of(tenant.call("PATCH", f"users/{ADA}", json=leave, app="plain-writer")) == (
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
    assert tenant.call("PATCH", f"users/{ADA}", json=leave, app="writer").status_code == 204
    assert tenant.call("PATCH", f"users/{ADA}", json={"employeeLeaveDateTime": None}).status_code == 204


def test_the_leave_date_is_read_with_a_lifecycle_permission_only(tenant: Tenant) -> None:
    tenant.call("PATCH", f"users/{ADA}", json={"employeeLeaveDateTime": "2027-06-30T17:00:00Z"})
    selected = f"users/{ADA}?$select=employeeLeaveDateTime"
    assert tenant.get(selected, app="reader").json()["employeeLeaveDateTime"] == "2027-06-30T17:00:00Z"
    assert tenant.get(selected, app="plain-reader").json()["employeeLeaveDateTime"] is None
    listed = tenant.get("users/delta?$select=userPrincipalName,employeeLeaveDateTime", app="plain-reader")
    assert all(u["employeeLeaveDateTime"] is None for u in listed.json()["value"])
