"""The user lifecycle against a served emulator (SPEC §3, §4): a guest invited through POST /invitations,
a deleted declared user restored with its old id and memberships, a purge held back by its own safety
margin.

Graph's behaviour followed: https://learn.microsoft.com/graph/api/invitation-post (a Guest user made by
the invitation), https://learn.microsoft.com/graph/api/directory-deleteditems-restore (a deleted user or
Microsoft 365 group is kept 30 days and restored whole; security groups cannot be restored) and
https://learn.microsoft.com/graph/api/directory-deleteditems-delete (a permanent delete)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from workdir import Workdir, make_workdir

Http = Callable[[str], httpx.Client]
GUEST = """\
users:
  - displayName: Alice Partner
    jobTitle: External Auditor
    userType: Guest
    invitation:
      invitedUserEmailAddress: alice@partner.example
groups:
  - mailNickname: grp-auditors
    displayName: Auditors
    members: [alice@partner.example]
"""


@pytest.fixture
def work(
    tmp_path: Path, reset_emulator: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> Workdir:
    """The demo applied: the tenant matches git."""
    work = make_workdir(tmp_path, reset_emulator, admin, monkeypatch)
    applied = work.cli("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert work.cli("plan", "--detailed-exitcode").exit_code == 0
    return work


def _plan_json(work: Workdir) -> dict[str, Any]:
    result = work.cli("plan", "--format", "json")
    assert result.exit_code == 0, result.output
    plan: dict[str, Any] = json.loads(result.stdout)
    return plan


def _guest(graph: httpx.Client) -> dict[str, Any]:
    found = graph.get(
        "users",
        params={
            "$filter": "userType eq 'Guest'",
            "$select": "id,userPrincipalName,userType,mail,externalUserState,jobTitle,creationType",
        },
    ).json()["value"]
    (guest,) = [u for u in found if u["mail"] == "alice@partner.example"]
    return dict(guest)


def test_a_guest_is_invited_then_the_plan_is_empty(work: Workdir, graph_http: Http, tmp_path: Path) -> None:
    work.write_state("guests.yaml", GUEST)
    text = work.cli("plan")
    assert text.exit_code == 0, text.output
    assert (
        "+ invite guest alice@partner.example (POST /invitations; Graph assigns its #EXT# UPN)" in text.stdout
    )
    plan = _plan_json(work)
    (invite,) = [c for c in plan["changes"] if c["kind"] == "user"]
    assert (
        invite["action"] == "create"
        and invite["invitation"]["invitedUserEmailAddress"] == "alice@partner.example"
    )
    assert "userPrincipalName" not in invite["after"]

    work.admin.post("stats/reset").raise_for_status()
    applied = work.cli("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    audits = graph_http("reader").get("auditLogs/directoryAudits", params={"$top": "999"}).json()["value"]
    activities = [a["activityDisplayName"] for a in audits]
    assert "Invite external user" in activities
    guest = _guest(graph_http("reader"))
    assert guest["userPrincipalName"] == "alice_partner.example#EXT#@contoso.onmicrosoft.com"
    assert (guest["userType"], guest["externalUserState"], guest["creationType"]) == (
        "Guest",
        "PendingAcceptance",
        "Invitation",
    )
    assert guest["jobTitle"] == "External Auditor"  # written to the invited user after the invitation
    added = [a for a in audits if a["activityDisplayName"] == "Add user"]
    assert not [a for a in added if a["targetResources"][0]["id"] == guest["id"]]  # never POST /users

    assert work.cli("plan", "--detailed-exitcode").exit_code == 0
    shown = work.cli("show", "user", guest["userPrincipalName"])
    assert shown.exit_code == 0, shown.output
    assert "externalUserState" in shown.stdout and "PendingAcceptance" in shown.stdout

    out = tmp_path / "imported"
    imported = work.cli("import", "--out", str(out))
    assert imported.exit_code == 0, imported.output
    users = (out / "users.yaml").read_text()
    assert "invitedUserEmailAddress: alice@partner.example" in users
    assert "userType: Guest" in users and "#EXT#" not in users
    assert "# externalUserState: PendingAcceptance" in users


def test_a_member_is_not_turned_into_a_guest(work: Workdir) -> None:
    people = work.path / "state" / "people" / "engineering.yaml"
    people.write_text(
        people.read_text().replace(
            "    displayName: Ada Lovelace\n", "    displayName: Ada Lovelace\n    userType: Guest\n"
        )
    )
    validated = work.cli("validate")
    assert validated.exit_code == 1
    assert "a guest (userType: Guest) is created by invitation" in validated.output


def test_a_deleted_declared_user_is_restored_with_its_old_id_and_memberships(
    work: Workdir, graph_http: Http
) -> None:
    writer = graph_http("writer")
    ada = writer.get("users/ada@contoso.example", params={"$select": "id"}).json()["id"]
    groups_before = {g["id"] for g in writer.get(f"users/{ada}/memberOf").json()["value"]}
    assert groups_before
    assert writer.delete(f"users/{ada}").status_code == 204

    text = work.cli("plan", "--detailed-exitcode")
    assert text.exit_code == 2, text.output
    assert f"+ restore user ada@contoso.example from deletedItems (keeps its id {ada}" in text.stdout
    assert "create user ada@contoso.example" not in text.stdout
    plan = json.loads(work.cli("plan", "--format", "json").stdout)
    (restore,) = [c for c in plan["changes"] if c["action"] == "restore"]
    assert (restore["kind"], restore["object_id"]) == ("user", ada)
    assert all(restore["id"] in c.get("depends_on", []) for c in plan["changes"] if c is not restore)

    applied = work.cli("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert writer.get("users/ada@contoso.example", params={"$select": "id"}).json()["id"] == ada
    assert {g["id"] for g in writer.get(f"users/{ada}/memberOf").json()["value"]} == groups_before
    assert writer.get("directory/deletedItems/microsoft.graph.user").json()["value"] == []
    assert work.cli("plan", "--detailed-exitcode").exit_code == 0


def test_a_purge_is_refused_without_its_safety_margin(
    tmp_path: Path,
    reset_emulator: dict[str, Any],
    admin: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    graph_http: Http,
) -> None:
    work = make_workdir(
        tmp_path,
        reset_emulator,
        admin,
        monkeypatch,
        extra=(
            "scope:\n"
            "  protected: [breakglass@contoso.example]\n"
            '  users: {authoritative: true, match: {upn_suffix: "@contoso.example"}}\n'
            "removal:\n  users: purge\n"
            "safety:\n  max_purge_fraction: 0.01\n"
        ),
    )
    people = work.path / "state" / "people" / "engineering.yaml"
    text = people.read_text()
    start = text.index("  - userPrincipalName: lee@contoso.example")
    end = text.index("  - userPrincipalName:", start + 1)
    people.write_text(text[:start] + text[end:])
    lee = graph_http("reader").get("users/lee@contoso.example", params={"$select": "id"}).json()["id"]

    plan = json.loads(work.cli("plan", "--format", "json").stdout)
    (purge,) = [c for c in plan["changes"] if c.get("purge")]
    assert (purge["action"], purge["key"]) == ("delete", "lee@contoso.example")
    (unsafe,) = [u for u in plan["unsafe"] if u["reason"] == "purge_fraction"]
    assert purge["id"] in unsafe["change_ids"]

    refused = work.cli("apply", "--auto-approve")
    assert refused.exit_code == 1
    assert "safety.max_purge_fraction" in refused.output
    assert graph_http("reader").get(f"users/{lee}").status_code == 200  # nothing was written

    forced = work.cli("apply", "--auto-approve", "--force")
    assert forced.exit_code == 0, forced.output
    writer = graph_http("writer")
    assert writer.get(f"users/{lee}").status_code == 404
    assert writer.get(f"directory/deletedItems/{lee}").status_code == 404  # gone for good
