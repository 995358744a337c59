"""Conformance: checkMemberGroups, getMemberGroups, checkMemberObjects, getMemberObjects on
`/directoryObjects/{id}`, `/users/{id}` and `/groups/{id}` (Graph docs: directoryobject-checkmembergroups,
directoryobject-getmembergroups, directoryobject-checkmemberobjects, directoryobject-getmemberobjects):
transitive, `Collection(Edm.String)`, at most 20 ids to check, the documented application permissions;
through raw HTTP and the real SDK.

Demo data: lee@ is a member of grp-platform, which is a member of grp-engineering; grp-sales is a
Microsoft 365 group that is not security-enabled.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from conformance import (
    MISSING_ID,
    Factory,
    Http,
    error_of,
    group_id,
    leave_seeded,  # noqa: F401 (fixture used by pytestmark)
    run,
    seeded,  # noqa: F401 (fixture used by pytestmark)
    user_id,
)
from graph_calls import Tenant

from reconciler.emulator.auth import AppRegistration

pytestmark = pytest.mark.usefixtures("leave_seeded", "seeded")

LEE = "lee@contoso.example"


@pytest.fixture
def ids(graph_http: Http) -> dict[str, str]:
    http = graph_http("reader")
    names = ("grp-platform", "grp-engineering", "grp-sales", "grp-finance")
    return {"lee": user_id(http, LEE), **{name: group_id(http, name) for name in names}}


def test_check_member_groups_on_a_directory_object_is_transitive(
    graph_http: Http, ids: dict[str, str]
) -> None:
    """Example 1 of directoryobject-checkmembergroups, for a user and for a group."""
    http = graph_http("writer")  # User.Read.All and GroupMember.Read.All
    probe = [ids["grp-engineering"], ids["grp-sales"], ids["grp-platform"], MISSING_ID]
    reply = http.post(f"directoryObjects/{ids['lee']}/checkMemberGroups", json={"groupIds": probe})
    assert reply.status_code == 200
    body = reply.json()
    assert body["@odata.context"].endswith("/$metadata#Collection(Edm.String)")
    assert set(body["value"]) == {ids["grp-engineering"], ids["grp-platform"]}
    reply = http.post(f"directoryObjects/{ids['grp-platform']}/checkMemberGroups", json={"groupIds": probe})
    assert reply.json()["value"] == [ids["grp-engineering"]]


@pytest.mark.parametrize("parent", ["directoryObjects", "users", "groups"])
def test_at_most_20_groups_are_checked(graph_http: Http, ids: dict[str, str], parent: str) -> None:
    target = ids["grp-platform"] if parent == "groups" else ids["lee"]
    probe = [str(uuid.UUID(int=n)) for n in range(21)]
    http = graph_http("writer")
    assert error_of(http.post(f"{parent}/{target}/checkMemberGroups", json={"groupIds": probe}))[:2] == (
        400,
        "Request_BadRequest",
    )
    assert http.post(f"{parent}/{target}/checkMemberGroups", json={"groupIds": probe[:20]}).status_code == 200


@pytest.mark.parametrize("parent", ["directoryObjects", "users"])
def test_get_member_groups_honours_security_enabled_only(
    graph_http: Http, ids: dict[str, str], parent: str
) -> None:
    http = graph_http("writer")
    sales_member = http.get(f"groups/{ids['grp-sales']}/members").json()["value"][0]["id"]
    every = http.post(f"{parent}/{sales_member}/getMemberGroups", json={"securityEnabledOnly": False})
    security = http.post(f"{parent}/{sales_member}/getMemberGroups", json={"securityEnabledOnly": True})
    assert ids["grp-sales"] in every.json()["value"]
    assert ids["grp-sales"] not in security.json()["value"]
    assert set(security.json()["value"]) < set(every.json()["value"])


def test_get_member_groups_needs_security_enabled_only(graph_http: Http, ids: dict[str, str]) -> None:
    reply = graph_http("writer").post(f"directoryObjects/{ids['lee']}/getMemberGroups", json={})
    assert error_of(reply)[:2] == (400, "Request_BadRequest")


def test_an_unknown_directory_object_is_404(graph_http: Http) -> None:
    reply = graph_http("writer").post(
        f"directoryObjects/{MISSING_ID}/checkMemberGroups", json={"groupIds": []}
    )
    assert error_of(reply)[:2] == (404, "Request_ResourceNotFound")


def test_member_objects_on_a_directory_object_need_directory_read_all(
    graph_http: Http, ids: dict[str, str], narrow: str
) -> None:
    """directoryobject-checkmemberobjects / getmemberobjects, "Memberships for a directory object":
    Directory.Read.All, which an app with User.Read.All and GroupMember.Read.All lacks."""
    http = graph_http(narrow)
    check = http.post(
        f"directoryObjects/{ids['lee']}/checkMemberObjects", json={"ids": [ids["grp-platform"]]}
    )
    assert error_of(check)[:2] == (403, "Authorization_RequestDenied")
    assert http.post(f"users/{ids['lee']}/checkMemberObjects", json={"ids": [ids["grp-platform"]]}).json()[
        "value"
    ] == [ids["grp-platform"]]


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    t = Tenant("demo")
    for name, roles in {"directory": ("Directory.Read.All",), "users_only": ("User.Read.All",)}.items():
        t.local.emulator.auth.apps[name] = AppRegistration(name, str(uuid.uuid4()), "-", roles)
    yield t
    t.close()


def test_member_objects_take_ids_and_are_transitive(tenant: Tenant) -> None:
    lee, platform = tenant.user_id(LEE), tenant.group_id("grp-platform")
    engineering, finance = tenant.group_id("grp-engineering"), tenant.group_id("grp-finance")
    reply = tenant.call(
        "POST",
        f"directoryObjects/{lee}/checkMemberObjects",
        json={"ids": [finance, engineering]},
        app="directory",
    )
    assert reply.status_code == 200 and reply.json()["value"] == [engineering]
    got = tenant.call(
        "POST",
        f"directoryObjects/{lee}/getMemberObjects",
        json={"securityEnabledOnly": True},
        app="directory",
    )
    assert {platform, engineering} <= set(got.json()["value"]) and finance not in got.json()["value"]


def test_check_member_groups_on_a_user_needs_user_and_membership_read(tenant: Tenant) -> None:
    """directoryobject-checkmembergroups, "Group memberships for a user": User.Read.All *and*
    GroupMember.Read.All (or Group.Read.All), or Directory.Read.All."""
    lee = tenant.user_id(LEE)
    body = {"groupIds": [tenant.group_id("grp-platform")]}
    reply = tenant.call("POST", f"users/{lee}/checkMemberGroups", json=body, app="users_only")
    assert error_of(reply)[:2] == (403, "Authorization_RequestDenied")
    assert (
        tenant.call("POST", f"users/{lee}/checkMemberGroups", json=body, app="directory").status_code == 200
    )


def test_the_sdk_checks_member_groups_of_a_directory_object(
    graph_client: Factory, graph_http: Http, ids: dict[str, str]
) -> None:
    from msgraph.generated.directory_objects.item.check_member_groups.check_member_groups_post_request_body import (  # noqa: E501
        CheckMemberGroupsPostRequestBody,
    )

    async def scenario() -> Any:
        client = graph_client("writer")
        body = CheckMemberGroupsPostRequestBody(group_ids=[ids["grp-engineering"], ids["grp-finance"]])
        return await client.directory_objects.by_directory_object_id(ids["lee"]).check_member_groups.post(
            body
        )

    response = run(scenario())
    assert response is not None and response.value == [ids["grp-engineering"]]
