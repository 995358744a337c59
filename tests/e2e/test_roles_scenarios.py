"""Privileged access as code, end to end (SPEC §3 `roles:`, §4, §6): the CLI with the admin app against the
served demo tenant, whose roles are Global Administrator → breakglass@ (protected), User Administrator →
grp-entra-admins and lynne@ (by hand), Helpdesk Administrator → grp-helpdesk-admins.

Each scenario's state holds only `roles:` (and a group where one is created), with no authoritative scope:
its plan is the role changes and nothing else."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_apply_cli import record_statuses
from workdir import Workdir, make_workdir

from reconciler.apply.run import ApplyOptions, checked_plan, execute
from reconciler.config import load_config

ROLES = "/roleManagement/directory/roleAssignments"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
USER_ADMIN = "fe930be7-5e62-47db-91af-98c3a49a38b1"
HELPDESK_ADMIN = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
SECURITY_ADMIN = "194ae4cb-b126-40b2-bd5b-6091b380977d"
PROTECTED = "scope:\n  protected: [breakglass@contoso.example]\n"
ROLE_WRITES = "^(POST|DELETE) /roleManagement/directory/roleAssignments"


def _work(
    tmp_path: Path, info: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch, **kw: Any
) -> Workdir:
    kw.setdefault("extra", PROTECTED)
    work = make_workdir(tmp_path, info, admin, monkeypatch, **kw)
    shutil.rmtree(work.path / "state")
    (work.path / "state").mkdir()
    return work


@pytest.fixture
def work(
    tmp_path: Path, reset_emulator: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> Workdir:
    return _work(tmp_path, reset_emulator, admin, monkeypatch, app="admin")


def _plan(work: Workdir) -> dict[str, Any]:
    result = work.cli("plan", "--format", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _changes(work: Workdir) -> list[tuple[str, str, str]]:
    return [(c["action"], c["role"], c["principal"]) for c in _plan(work)["changes"]]


def _holders(graph: httpx.Client, role_id: str) -> set[str]:
    """Who holds a role tenant-wide: UPNs, and `group:NICK` for groups."""
    reply = graph.get(ROLES, params={"$filter": f"roleDefinitionId eq '{role_id}'", "$expand": "principal"})
    reply.raise_for_status()
    out = set()
    for assignment in reply.json()["value"]:
        principal = assignment["principal"]
        out.add(principal.get("userPrincipalName") or f"group:{principal['mailNickname']}")
    return out


def _apply_converges(work: Workdir, *args: str) -> None:
    result = work.cli("apply", "--auto-approve", *args)
    assert result.exit_code == 0, result.output
    again = work.cli("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_a_role_is_assigned_to_a_user_and_to_a_role_assignable_group(
    work: Workdir, graph_http: Callable[[str], httpx.Client]
) -> None:
    work.write_state(
        "roles.yaml",
        "roles:\n  - role: Security Administrator\n"
        "    principals: [ada@contoso.example, {group: grp-helpdesk-admins}]\n",
    )
    assert _changes(work) == [
        ("assign_role", "Security Administrator", "ada@contoso.example"),
        ("assign_role", "Security Administrator", "group:grp-helpdesk-admins"),
    ]
    text = work.cli("plan").stdout.splitlines()
    assert text[:4] == [
        "Privileged access: entraform will change who holds these directory roles:",
        "",
        "  + assign role Security Administrator to ada@contoso.example",
        "  + assign role Security Administrator to group:grp-helpdesk-admins",
    ]
    _apply_converges(work)
    graph = graph_http("reader")
    assert _holders(graph, SECURITY_ADMIN) == {"ada@contoso.example", "group:grp-helpdesk-admins"}
    assert {e["outcome"] for e in work.outcomes()} == {"applied"}


def test_replace_removes_an_undeclared_holder_and_append_keeps_it(
    work: Workdir, graph_http: Callable[[str], httpx.Client]
) -> None:
    graph = graph_http("reader")
    append = (
        "roles:\n  - role: User Administrator\n    principalsMode: append\n"
        "    principals: [{group: grp-entra-admins}]\n"
    )
    work.write_state("roles.yaml", append)
    assert work.cli("plan", "--detailed-exitcode").exit_code == 0  # lynne@ is kept
    work.write_state("roles.yaml", append.replace("    principalsMode: append\n", ""))
    assert _changes(work) == [("remove_role", "User Administrator", "lynne@contoso.example")]
    _apply_converges(work)
    assert _holders(graph, USER_ADMIN) == {"group:grp-entra-admins"}


def test_a_protected_holder_is_held_never_removed_and_needs_no_force(
    work: Workdir, graph_http: Callable[[str], httpx.Client]
) -> None:
    work.write_state(
        "roles.yaml", "roles:\n  - role: Global Administrator\n    principals: [ada@contoso.example]\n"
    )
    plan = _plan(work)
    assert [(c["action"], c["principal"]) for c in plan["changes"]] == [
        ("assign_role", "ada@contoso.example")
    ]
    assert plan["held"] == [
        {
            "principal": "breakglass@contoso.example",
            "wants": "remove role Global Administrator from breakglass@contoso.example",
        }
    ]
    assert plan["unsafe"] == []
    result = work.cli("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert _holders(graph_http("reader"), GLOBAL_ADMIN) == {
        "breakglass@contoso.example",
        "ada@contoso.example",
    }
    # Nothing left to change, but the tenant still differs from git while the holder is protected.
    again = work.cli("plan", "--detailed-exitcode")
    assert again.exit_code == 2
    assert again.stdout.splitlines()[-1] == "No changes to apply. Held: 1 item on protected principals."


def test_role_removals_over_the_delete_fraction_make_the_plan_unsafe(
    tmp_path: Path,
    reset_emulator: dict[str, Any],
    admin: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    graph_http: Callable[[str], httpx.Client],
) -> None:
    safety = PROTECTED + "safety:\n  max_delete_fraction: 0.3\n  min_existing: 2\n"
    work = _work(tmp_path, reset_emulator, admin, monkeypatch, app="admin", extra=safety)
    work.write_state("roles.yaml", "roles:\n  - role: User Administrator\n    principals: []\n")
    plan = _plan(work)
    assert [c["action"] for c in plan["changes"]] == ["remove_role", "remove_role"]
    assert len(plan["unsafe"]) == 1 and "role assignments" in plan["unsafe"][0]["message"]
    refused = work.cli("apply", "--auto-approve")
    assert refused.exit_code == 1 and "--force" in refused.stderr
    assert work.stats()["writes"] == 0
    _apply_converges(work, "--force")
    assert _holders(graph_http("reader"), USER_ADMIN) == set()


def test_a_role_not_in_yaml_is_neither_read_nor_touched(
    work: Workdir, graph_http: Callable[[str], httpx.Client]
) -> None:
    graph = graph_http("reader")
    before = {role: _holders(graph, role) for role in (GLOBAL_ADMIN, USER_ADMIN)}
    work.write_state(
        "roles.yaml", "roles:\n  - role: Helpdesk Administrator\n    principals: [ada@contoso.example]\n"
    )
    planned = checked_plan(load_config(str(work.path / "entraform.yaml")), None)
    assert {a.role_definition_id for a in planned.live.role_assignments.values()} == {HELPDESK_ADMIN}
    assert [c.action for c in planned.plan.changes] == ["assign_role", "remove_role"]
    _apply_converges(work)
    assert {role: _holders(graph, role) for role in before} == before
    assert _holders(graph, HELPDESK_ADMIN) == {"ada@contoso.example"}


def test_an_unknown_role_and_a_group_that_is_not_role_assignable_are_named(work: Workdir) -> None:
    work.write_state(
        "roles.yaml",
        "roles:\n"
        "  - role: Global Admin\n"
        "    principals: [ada@contoso.example]\n"
        "  - role: User Administrator\n"
        "    principals: [{group: grp-engineering}]\n",
    )
    result = work.cli("plan")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[2:] == ["error: the plan cannot be applied: 2 pre-flight problem(s)"], result.stderr
    assert lines[0].startswith(f"error: {work.path / 'state' / 'roles.yaml'}:2:")
    assert "'Global Admin'" in lines[0] and "did you mean 'Global Administrator'" in lines[0]
    assert lines[1].startswith(f"error: {work.path / 'state' / 'roles.yaml'}:5:")
    assert "grp-engineering" in lines[1] and "not role-assignable" in lines[1]
    assert "Traceback" not in result.output and work.stats()["writes"] == 0


@pytest.mark.parametrize("status", [503, 429])
def test_role_writes_converge_through_injected_faults(
    work: Workdir, graph_http: Callable[[str], httpx.Client], monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    """Half the role writes fail (no lag, so the seeded faults fall on the same steps every run)."""
    work.write_state(
        "roles.yaml",
        "roles:\n"
        "  - role: Security Administrator\n"
        "    principals: [{group: grp-helpdesk-admins}, ada@contoso.example]\n"
        "  - role: User Administrator\n"
        "    principals: [{group: grp-entra-admins}]\n",
    )
    assert [c[0] for c in _changes(work)] == ["assign_role", "assign_role", "remove_role"]
    work.configure(
        rng_seed=1, faults=[{"route": ROLE_WRITES, "status": status, "rate": 0.5, "retry_after": 0}]
    )
    statuses = record_statuses(monkeypatch)
    result = work.cli("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert status in statuses, statuses
    work.configure(faults=[])
    assert work.cli("plan", "--detailed-exitcode").exit_code == 0
    graph = graph_http("reader")
    assert _holders(graph, SECURITY_ADMIN) == {"group:grp-helpdesk-admins", "ada@contoso.example"}
    assert _holders(graph, USER_ADMIN) == {"group:grp-entra-admins"}


def test_a_role_for_a_group_created_in_the_same_apply_waits_for_it_through_lag_and_faults(
    work: Workdir, graph_http: Callable[[str], httpx.Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The assignment depends on the create, then meets replication lag (Graph's 404 for a principal it
    does not see yet), and 503s besides."""
    work.write_state(
        "groups.yaml",
        "groups:\n  - mailNickname: grp-security-admins\n    displayName: Security Admins\n"
        "    securityEnabled: true\n    mailEnabled: false\n    isAssignableToRole: true\n",
    )
    work.write_state(
        "roles.yaml",
        "roles:\n  - role: Security Administrator\n    principals: [{group: grp-security-admins}]\n",
    )
    create, assign = _plan(work)["changes"]
    assert (create["action"], assign["action"], assign["depends_on"]) == (
        "create",
        "assign_role",
        [create["id"]],
    )
    faults = [{"route": ROLE_WRITES, "status": 503, "rate": 0.3, "retry_after": 0}]
    work.configure(lag_ms=400, rng_seed=5, faults=faults)
    statuses = record_statuses(monkeypatch)
    result = work.cli("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert 404 in statuses, statuses
    work.configure(lag_ms=0, faults=[], clock_offset_s=5)  # past the lag: every object is visible
    assert work.cli("plan", "--detailed-exitcode").exit_code == 0
    assert _holders(graph_http("reader"), SECURITY_ADMIN) == {"group:grp-security-admins"}


NEW_GROUP = (
    "  - mailNickname: grp-new\n    displayName: New\n    securityEnabled: true\n    mailEnabled: false\n"
)
NEW_ADMINS_GROUP = NEW_GROUP.replace("grp-new", "grp-new-admins") + "    isAssignableToRole: true\n"


@pytest.mark.parametrize(
    ("groups", "roles", "why"),
    [
        (
            NEW_GROUP,
            "roles:\n  - role: Security Administrator\n    principals: [ada@contoso.example]\n",
            "assign and remove directory roles",
        ),
        (NEW_GROUP + NEW_ADMINS_GROUP, "roles: []\n", "create role-assignable groups"),
    ],
)
def test_apply_without_role_management_is_refused_before_the_first_write(
    tmp_path: Path,
    reset_emulator: dict[str, Any],
    admin: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    groups: str,
    roles: str,
    why: str,
) -> None:
    """The writer app lacks RoleManagement.ReadWrite.Directory: neither a role change nor a new
    role-assignable group is sent, and nor is the plain group beside them."""
    work = _work(tmp_path, reset_emulator, admin, monkeypatch, app="writer")
    work.write_state("groups.yaml", "groups:\n" + groups)
    work.write_state("roles.yaml", roles)
    result = work.cli("apply", "--auto-approve")
    assert result.exit_code == 1
    assert f"RoleManagement.ReadWrite.Directory (to {why}" in result.stderr
    assert work.stats()["writes"] == 0


def test_drift_names_roles_assigned_and_removed_out_of_band_with_the_app_and_time(
    work: Workdir, graph_http: Callable[[str], httpx.Client]
) -> None:
    """The writer app may not write roles (it lacks RoleManagement.ReadWrite.Directory), so the out-of-band
    writes are the admin app's: this workdir has never applied, so its journal names no app of its own."""
    work.write_state(
        "roles.yaml",
        "roles:\n  - role: User Administrator\n"
        "    principals: [{group: grp-entra-admins}, lynne@contoso.example]\n",
    )
    assert work.cli("drift").exit_code == 0
    graph = graph_http("admin")
    ada = graph.get("users/ada@contoso.example", params={"$select": "id"}).json()["id"]
    body = {"roleDefinitionId": USER_ADMIN, "principalId": ada, "directoryScopeId": "/"}
    graph.post(ROLES, json=body).raise_for_status()
    lynne = graph.get("users/lynne@contoso.example", params={"$select": "id"}).json()["id"]
    held = graph.get(ROLES, params={"$filter": f"principalId eq '{lynne}'"}).json()["value"]
    graph.delete(f"{ROLES}/{held[0]['id']}").raise_for_status()
    result = work.cli("drift", "--format", "json")
    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)
    rows = {
        (i["kind"], i["role"], i["principal"], i["git"], i["tenant"], i["origin"], i["activity"])
        for i in report["items"]
    }
    assert rows == {
        (
            "role",
            "User Administrator",
            "ada@contoso.example",
            "absent",
            "present",
            "tenant",
            "Add member to role",
        ),
        (
            "role",
            "User Administrator",
            "lynne@contoso.example",
            "present",
            "absent",
            "tenant",
            "Remove member from role",
        ),
    }
    app = work.info["apps"]["admin"]
    for item in report["items"]:
        assert item["changed_by"] == {"app": app["client_id"], "app_name": app["display_name"], "user": None}
        assert item["changed_at"] >= report["checked_at"][:10]
    text = work.cli("drift").stdout
    assert f"Add member to role by {app['display_name']} at " in text
    assert f"Remove member from role by {app['display_name']} at " in text


def test_the_demo_plan_lists_its_role_change_first_in_text_and_markdown(
    tmp_path: Path, reset_emulator: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped state against the demo tenant: lynne@ (made User Administrator by hand) is removed,
    among user, membership and license changes."""
    work = make_workdir(tmp_path, reset_emulator, admin, monkeypatch, extra=PROTECTED)
    text = work.cli("plan").stdout.splitlines()
    heading = text.index("Privileged access: entraform will change who holds these directory roles:")
    assert text[heading + 2] == "  - remove role User Administrator from lynne@contoso.example"
    assert text.index("entraform will make these changes:") == heading + 4
    markdown = work.cli("plan", "--format", "markdown").stdout
    sections = [line for line in markdown.splitlines() if line.startswith(("#### ", "<summary>"))]
    assert sections[0] == "#### 🔑 Privileged access (directory roles) (1 change)"
    assert "- remove role User Administrator from lynne@contoso.example" in markdown


def test_role_writes_someone_else_made_meanwhile_are_already_done(
    work: Workdir, graph_http: Callable[[str], httpx.Client]
) -> None:
    """SPEC §5 idempotency: an assignment that exists by the time it is posted (Graph's conflict), and one
    gone by the time it is deleted (Graph's 404), are `already`, not failures."""
    work.write_state(
        "roles.yaml",
        "roles:\n  - role: User Administrator\n"
        "    principals: [{group: grp-entra-admins}, ada@contoso.example]\n",
    )
    config = load_config(str(work.path / "entraform.yaml"))
    planned = checked_plan(config, None)
    assign, remove = planned.plan.changes
    assert (assign.action, remove.action) == ("assign_role", "remove_role")
    graph = graph_http("admin")
    ada = graph.get("users/ada@contoso.example", params={"$select": "id"}).json()["id"]
    graph.post(ROLES, json={"roleDefinitionId": USER_ADMIN, "principalId": ada, "directoryScopeId": "/"})
    graph.delete(f"{ROLES}/{remove.assignment_id}").raise_for_status()
    result = execute(config, planned.plan, planned.live, ApplyOptions(journal=work.path / "journal.jsonl"))
    assert result.outcome == {assign.id: "already", remove.id: "already"}, result.errors
    assert work.cli("plan", "--detailed-exitcode").exit_code == 0
