"""The audit record each write leaves (Entra docs: reference-audit-activities, "Core Directory"; Graph docs:
resources/directoryaudit, resources/targetresource), correlation ids, audit_delay_s and persistence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from graph_calls import Tenant

from reconciler.emulator.context import ConfigInvalid, merge_config
from reconciler.emulator.inprocess import open_local_tenant

GRAPH = "https://graph.microsoft.com/v1.0"
USER_ADMIN = "fe930be7-5e62-47db-91af-98c3a49a38b1"
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


def records(tenant: Tenant) -> list[dict[str, Any]]:
    """Every visible record, oldest first."""
    reply = tenant.get("auditLogs/directoryAudits", app="reader")
    assert reply.status_code == 200, reply.text
    return list(reversed(reply.json()["value"]))


def summary(record: dict[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
    """(activity, category, [(target type, target id)])."""
    targets = [(t["type"], t["id"]) for t in record["targetResources"]]
    return record["activityDisplayName"], record["category"], targets


def changed(target: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {
        p["displayName"]: (json.loads(p["oldValue"]), json.loads(p["newValue"]))
        for p in target["modifiedProperties"]
    }


def ref(oid: str) -> dict[str, str]:
    return {"@odata.id": f"{GRAPH}/directoryObjects/{oid}"}


def test_user_writes(tenant: Tenant) -> None:
    created = tenant.call("POST", "users", json=NEW_USER).json()["id"]
    ben = tenant.user_id("ben@contoso.example")
    assert (
        tenant.call("PATCH", f"users/{ben}", json={"department": "Marketing", "jobTitle": None}).status_code
        == 204
    )
    lynne = tenant.user_id("lynne@contoso.example")
    assert tenant.call("PATCH", f"users/{lynne}", json={"accountEnabled": False}).status_code == 204
    assert tenant.call("POST", f"users/{lynne}/revokeSignInSessions").status_code == 200
    password = {"passwordProfile": {"password": "Another-Pa55word!"}}
    assert tenant.call("PATCH", f"users/{ben}", json=password).status_code == 204
    assert tenant.call("DELETE", f"users/{created}").status_code == 204
    assert tenant.call("POST", f"directory/deletedItems/{created}/restore").status_code == 200
    assert tenant.call("DELETE", f"users/{created}").status_code == 204
    assert tenant.call("DELETE", f"directory/deletedItems/{created}").status_code == 204
    found = records(tenant)
    assert [summary(r) for r in found] == [
        ("Add user", "UserManagement", [("User", created)]),
        ("Update user", "UserManagement", [("User", ben)]),
        ("Update user", "UserManagement", [("User", lynne)]),
        ("Disable account", "UserManagement", [("User", lynne)]),
        ("Update StsRefreshTokenValidFrom Timestamp", "UserManagement", [("User", lynne)]),
        ("Reset password", "UserManagement", [("User", ben)]),
        ("Delete user", "UserManagement", [("User", created)]),
        ("Restore user", "UserManagement", [("User", created)]),
        ("Delete user", "UserManagement", [("User", created)]),
        ("Hard Delete user", "UserManagement", [("User", created)]),
    ]
    assert changed(found[1]["targetResources"][0]) == {
        "department": (["Sales"], ["Marketing"]),
        "jobTitle": (["Marketing Analyst"], []),
    }
    assert changed(found[3]["targetResources"][0]) == {"accountEnabled": ([True], [False])}
    assert found[0]["targetResources"][0]["userPrincipalName"] == "margaret@contoso.example"
    assert "passwordProfile" not in json.dumps(found)  # never the password, not even its name
    assert "Another-Pa55word!" not in json.dumps(found)


def test_manager_and_license_writes_name_both_ends(tenant: Tenant) -> None:
    ada, lee = tenant.user_id("ada@contoso.example"), tenant.user_id("lee@contoso.example")
    grace = tenant.user_id("grace@contoso.example")
    assert (
        tenant.call(
            "PUT", f"users/{ada}/manager/$ref", json={"@odata.id": f"{GRAPH}/users/{lee}"}
        ).status_code
        == 204
    )
    assert tenant.call("DELETE", f"users/{ada}/manager/$ref").status_code == 204
    body = {
        "addLicenses": [{"skuId": "06ebc4ee-1bb5-47dd-8120-11324bc54e06", "disabledPlans": []}],
        "removeLicenses": [],
    }
    assert tenant.call("POST", f"users/{ada}/assignLicense", json=body).status_code == 200
    group_body = {
        "addLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "disabledPlans": []}],
        "removeLicenses": [],
    }
    assert (
        tenant.call(
            "POST", f"groups/{tenant.group_id('grp-finance')}/assignLicense", json=group_body
        ).status_code
        == 202
    )
    found = records(tenant)
    assert [summary(r) for r in found] == [
        ("Set user manager", "UserManagement", [("User", ada), ("User", lee)]),
        ("Remove user manager", "UserManagement", [("User", ada), ("User", lee)]),
        ("Change user license", "UserManagement", [("User", ada)]),
        ("Set group license", "GroupManagement", [("Group", tenant.group_id("grp-finance"))]),
    ]
    assert changed(found[0]["targetResources"][0]) == {"manager": ([grace], [lee])}
    assert changed(found[1]["targetResources"][0]) == {"manager": ([lee], [])}
    licenses = changed(found[2]["targetResources"][0])["assignedLicenses"]
    assert len(licenses[1]) == len(licenses[0]) + 1


def test_group_writes_name_the_group_and_the_member_or_owner(tenant: Tenant) -> None:
    ada, lee = tenant.user_id("ada@contoso.example"), tenant.user_id("lee@contoso.example")
    body = {
        "displayName": "Audit",
        "mailNickname": "grp-audit",
        "mailEnabled": False,
        "securityEnabled": True,
        "owners@odata.bind": [f"{GRAPH}/users/{lee}"],
        "members@odata.bind": [f"{GRAPH}/users/{ada}"],
    }
    group = tenant.call("POST", "groups", json=body).json()["id"]
    platform = tenant.group_id("grp-platform")
    assert tenant.call("PATCH", f"groups/{group}", json={"description": "Audited"}).status_code == 204
    assert tenant.call("POST", f"groups/{group}/members/$ref", json=ref(platform)).status_code == 204
    assert tenant.call("DELETE", f"groups/{group}/members/{ada}/$ref").status_code == 204
    assert tenant.call("POST", f"groups/{group}/owners/$ref", json=ref(ada)).status_code == 204
    assert tenant.call("DELETE", f"groups/{group}/owners/{lee}/$ref").status_code == 204
    assert tenant.call("DELETE", f"groups/{group}").status_code == 204
    found = records(tenant)
    assert [summary(r) for r in found] == [
        ("Add group", "GroupManagement", [("Group", group)]),
        ("Add member to group", "GroupManagement", [("User", ada), ("Group", group)]),
        ("Add owner to group", "GroupManagement", [("User", lee), ("Group", group)]),
        ("Update group", "GroupManagement", [("Group", group)]),
        ("Add member to group", "GroupManagement", [("Group", platform), ("Group", group)]),
        ("Remove member from group", "GroupManagement", [("User", ada), ("Group", group)]),
        ("Add owner to group", "GroupManagement", [("User", ada), ("Group", group)]),
        ("Remove owner from group", "GroupManagement", [("User", lee), ("Group", group)]),
        ("Delete group", "GroupManagement", [("Group", group)]),
    ]
    assert changed(found[3]["targetResources"][0]) == {"description": ([], ["Audited"])}
    assert found[0]["targetResources"][0]["groupType"] == "azureAD"
    assert found[2]["targetResources"][0]["userPrincipalName"] == "lee@contoso.example"


def test_role_writes_name_the_principal_and_the_role(tenant: Tenant) -> None:
    ada = tenant.user_id("ada@contoso.example")
    unit = "/administrativeUnits/5d107bba-d8e2-4e13-b6ae-884be90e5d1a"
    ids = []
    for scope in ("/", unit):
        body = {"roleDefinitionId": USER_ADMIN, "principalId": ada, "directoryScopeId": scope}
        reply = tenant.call("POST", "roleManagement/directory/roleAssignments", json=body, app="admin")
        assert reply.status_code == 201
        ids.append(reply.json()["id"])
    for assignment in ids:
        assert (
            tenant.call(
                "DELETE", f"roleManagement/directory/roleAssignments/{assignment}", app="admin"
            ).status_code
            == 204
        )
    found = records(tenant)
    targets = [("User", ada), ("Role", USER_ADMIN)]
    assert [summary(r) for r in found] == [
        ("Add member to role", "RoleManagement", targets),
        ("Add scoped member to role", "RoleManagement", targets),
        ("Remove member from role", "RoleManagement", targets),
        ("Remove scoped member from role", "RoleManagement", targets),
    ]
    role = found[0]["targetResources"][1]
    assert role["displayName"] == "User Administrator" and role["userPrincipalName"] is None
    assert found[0]["initiatedBy"]["app"]["displayName"] == "entraform admin"
    assert [r["operationType"] for r in found] == ["Assign", "Assign", "Unassign", "Unassign"]


def test_refused_writes_and_reads_leave_no_record(tenant: Tenant) -> None:
    assert (
        tenant.call(
            "POST", "users", json={**NEW_USER, "userPrincipalName": "ada@contoso.example"}
        ).status_code
        == 400
    )
    assert tenant.get("users").status_code == 200
    assert tenant.call("POST", "users", json=NEW_USER, app="reader").status_code == 403
    assert records(tenant) == []
    stats = tenant.local.emulator.stats
    before = stats.writes
    assert tenant.call("POST", "users", json=NEW_USER).status_code == 201
    assert stats.writes == before + 1  # the record it leaves is no write of its own


def test_correlation_ids_match_what_the_client_keeps(tenant: Tenant) -> None:
    """A record's correlationId is the client-request-id the caller sent, which the answer's request-id and
    client-request-id both carry; without one, the request-id the emulator answered with. Each $batch step
    answer carries both headers too, and its records use them."""
    sent = "0b7c5a5e-1111-4222-8333-944445555666"
    ben = tenant.user_id("ben@contoso.example")
    reply = tenant.call(
        "PATCH", f"users/{ben}", json={"jobTitle": "One"}, headers={"client-request-id": sent}
    )
    assert reply.headers["request-id"] == reply.headers["client-request-id"] == sent
    bare = tenant.call("PATCH", f"users/{ben}", json={"jobTitle": "Two"})
    json_type = {"Content-Type": "application/json"}
    steps = [
        {"id": "a", "method": "PATCH", "url": f"/users/{ben}", "headers": json_type,
         "body": {"jobTitle": "Three"}},
        {"id": "b", "method": "PATCH", "url": f"/users/{ben}", "body": {"jobTitle": "Four"},
         "headers": {**json_type, "client-request-id": "step-b"}},
    ]  # fmt: skip
    answers = {
        a["id"]: a for a in tenant.call("POST", "$batch", json={"requests": steps}).json()["responses"]
    }
    for answer in answers.values():
        assert answer["status"] == 204
        assert answer["headers"]["request-id"] == answer["headers"]["client-request-id"]
    assert answers["b"]["headers"]["request-id"] == "step-b"
    found = records(tenant)
    assert [r["correlationId"] for r in found] == [
        sent,
        bare.headers["request-id"],
        answers["a"]["headers"]["request-id"],
        "step-b",
    ]
    assert bare.headers["request-id"] == bare.headers["client-request-id"]


def test_batch_steps_are_audited_like_direct_requests(tenant: Tenant) -> None:
    group, ada = tenant.group_id("grp-finance"), tenant.user_id("ada@contoso.example")
    step = {
        "id": "1",
        "method": "POST",
        "url": f"/groups/{group}/members/$ref",
        "headers": {"Content-Type": "application/json"},
        "body": ref(ada),
    }
    assert tenant.call("POST", "$batch", json={"requests": [step]}).json()["responses"][0]["status"] == 204
    assert [summary(r) for r in records(tenant)] == [
        ("Add member to group", "GroupManagement", [("User", ada), ("Group", group)])
    ]


def test_records_show_after_audit_delay_s_and_carry_the_emulators_clock(tenant: Tenant) -> None:
    """`audit_delay_s` (admin config): a record is listed only that long after its activityDateTime, which
    is the emulator's clock (clock_offset_s included)."""
    emulator = tenant.local.emulator
    emulator.set_config(merge_config(emulator.config, {"clock_offset_s": 86400, "audit_delay_s": 120}))
    assert tenant.call("POST", "users", json=NEW_USER).status_code == 201
    made_at = emulator.now()
    assert records(tenant) == []
    emulator.set_config(merge_config(emulator.config, {"clock_offset_s": 86400 + 121}))
    (record,) = records(tenant)
    written = datetime.strptime(record["activityDateTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(written.timestamp() - made_at) < 2  # a day ahead of the real clock, as configured
    with pytest.raises(ConfigInvalid):
        merge_config(emulator.config, {"audit_delay_s": -1})


def test_records_survive_a_restart_and_a_reseed_clears_them(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    first = open_local_tenant(db)
    tenant = Tenant.__new__(Tenant)
    tenant.local, tenant.tokens = first, {}
    assert tenant.call("POST", "users", json=NEW_USER).status_code == 201
    before = records(tenant)
    first.close()
    second = open_local_tenant(db)
    tenant.local, tenant.tokens = second, {}
    assert records(tenant) == before and len(before) == 1
    second.emulator.reseed()
    assert records(tenant) == []
    second.close()
