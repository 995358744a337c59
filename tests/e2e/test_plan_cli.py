"""`entraform plan` against the served emulator over HTTPS with the read-only reader app (SPEC §1, §4, §6)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from workdir import Workdir, make_workdir


@pytest.fixture
def work(
    tmp_path: Path, reset_emulator: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> Workdir:
    return make_workdir(tmp_path, reset_emulator, admin, monkeypatch, app="reader")


def test_plan_shows_the_demo_changes_with_read_only_permissions(work: Workdir) -> None:
    result = work.cli("plan", "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    out = result.stdout
    assert "+ create user margaret@contoso.example" in out
    assert "~ update user ben@contoso.example" in out
    assert "- remove member joni@contoso.example from grp-finance" in out
    assert out.rstrip().splitlines()[-1].startswith("Plan: 2 to create")
    stats = work.stats()
    assert stats["writes"] == 0 and stats["throttled"] == 0
    # The whole read: organization, SKUs, the two counts that choose how to page, users, groups/delta
    # with members and owners (no per-group requests), and a users/delta link from now on, where the
    # delta cache starts; and the deleted users, since a declared one (margaret) matches no live user and
    # would be restored rather than created if it were there.
    assert set(stats["by_route"]) == {
        "GET /directory/deletedItems/microsoft.graph.user",
        "GET /organization",
        "GET /subscribedSkus",
        "GET /users",
        "GET /users/$count",
        "GET /users/delta",
        "GET /groups/$count",
        "GET /groups/delta",
        "GET /roleManagement/directory/roleDefinitions",
        "GET /roleManagement/directory/roleAssignments",
        "POST /$batch",
    }
    assert stats["token_requests"] == 1
    work.admin.post("stats/reset").raise_for_status()
    warm = work.cli("plan", "--detailed-exitcode")
    assert warm.stdout == result.stdout
    # Warm: the delta links answer for users and groups; nothing reads every user again.
    routes = work.stats()["by_route"]
    assert "GET /users" not in routes and routes["GET /users/delta"] == 1 and routes["GET /groups/delta"] == 1


def test_a_warm_plan_parses_again_only_the_file_an_edit_touched(work: Workdir) -> None:
    kept = work.path / ".entraform" / "cache" / "desired"
    cold = work.cli("plan", "--no-cache")
    assert cold.exit_code == 0, cold.output
    assert not kept.exists()  # --no-cache neither uses nor writes either cache
    first = work.cli("plan")
    assert first.stdout == cold.stdout
    entries = {p.name: p.stat().st_mtime_ns for p in kept.glob("*.msgpack")}
    files = sorted(p for p in (work.path / "state").rglob("*.yaml"))
    assert len(entries) == len(files)
    edited = work.path / "state" / "groups.yaml"
    edited.write_text(edited.read_text().replace("grp-finance", "grp-finance # edited", 1))
    second = work.cli("plan")
    assert second.stdout == first.stdout  # a comment: the same plan
    after = {p.name: p.stat().st_mtime_ns for p in kept.glob("*.msgpack")}
    assert len(after) == len(files) and len(set(after) - set(entries)) == 1  # one new entry, old one gone
    assert all(after[name] == entries[name] for name in set(after) & set(entries))  # the others untouched
    edited.write_text(edited.read_text().replace("Finance", "Finance and Accounts"))
    third = work.cli("plan")
    assert "Finance and Accounts" in third.stdout


def test_plan_without_detailed_exitcode_exits_0(work: Workdir) -> None:
    assert work.cli("plan").exit_code == 0


def test_plan_json_and_out_file(work: Workdir) -> None:
    result = work.cli("plan", "--format", "json", "--out", "plan.json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    saved = json.loads((work.path / "plan.json").read_text())
    assert saved["format_version"] == 1 and saved["tenant"] == work.info["tenant_id"]
    assert [c["id"] for c in saved["changes"]] == [c["id"] for c in printed["changes"]]
    assert "Saved the plan to plan.json" in result.stderr


def test_plan_markdown(work: Workdir) -> None:
    result = work.cli("plan", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert "|" in result.stdout and "margaret@contoso.example" in result.stdout


def test_target_limits_the_plan_to_one_user_and_what_it_needs(work: Workdir) -> None:
    result = work.cli("plan", "--format", "json", "--target", "user:Margaret@contoso.example")
    assert result.exit_code == 0, result.output
    changes = json.loads(result.stdout)["changes"]
    assert changes and all("margaret@contoso.example" in json.dumps(c) for c in changes)
    assert {c["action"] for c in changes} >= {"create", "set_manager", "add_member", "assign_license"}


def test_target_group(work: Workdir) -> None:
    result = work.cli("plan", "--format", "json", "--target", "group:grp-finance")
    changes = json.loads(result.stdout)["changes"]
    assert [(c["action"], c.get("member")) for c in changes] == [("remove_member", "joni@contoso.example")]


def test_bad_target_is_one_error(work: Workdir) -> None:
    result = work.cli("plan", "--target", "device:x")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --target 'device:x': write KIND:KEY")


def test_preflight_problems_exit_1_one_line_each(work: Workdir) -> None:
    work.write_state(
        "extra.yaml",
        "users:\n"
        "  - userPrincipalName: newbie@unverified.example\n"
        "    displayName: Newbie\n"
        "    usageLocation: GB\n"
        "    licenses: [{sku: NO_SUCH_SKU}]\n",
    )
    result = work.cli("plan")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("error: ") for line in lines)
    assert any("NO_SUCH_SKU" in line for line in lines)
    assert any("unverified.example" in line for line in lines)
    assert "Traceback" not in result.output


def test_wrong_secret_is_one_clear_error(
    tmp_path: Path, reset_emulator: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = make_workdir(tmp_path, reset_emulator, admin, monkeypatch, app="reader", secret="not-the-secret")
    result = work.cli("plan")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: could not get a Graph token")
    assert "not-the-secret" not in result.output


def test_a_problem_in_the_yaml_is_said_before_what_the_read_met(
    tmp_path: Path, reset_emulator: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The YAML is loaded while the tenant is read: a broken file is still the error a user sees, not
    the refused token the read met meanwhile."""
    work = make_workdir(tmp_path, reset_emulator, admin, monkeypatch, app="reader", secret="not-the-secret")
    work.write_state("broken.yaml", "users:\n  - userPrincipalName: [ada]\n")
    result = work.cli("plan")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "state/broken.yaml:2:5: " in result.stderr, result.stderr
    assert "Graph token" not in result.stderr


def test_plan_as_a_user_runs_it(work: Workdir) -> None:
    """A separate process, stderr not a terminal: the plan on stdout, no progress bar, no colour."""
    entraform = Path(sys.executable).parent / "entraform"
    proc = subprocess.run(
        [str(entraform), "plan", "--detailed-exitcode"],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == ""
    assert "\x1b[" not in proc.stdout
    assert "+ create user zrinka@contoso.example" in proc.stdout


def test_default_method_reads_the_environment(
    tmp_path: Path, reset_emulator: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`auth.method: default` (DefaultAzureCredential) takes the app from AZURE_* variables."""
    work = make_workdir(tmp_path, reset_emulator, admin, monkeypatch, app="reader")
    config = (work.path / "entraform.yaml").read_text()
    config = config.split("auth:")[0] + "auth:\n  method: default\nstate_dir: state\n"
    (work.path / "entraform.yaml").write_text(config)
    reader = reset_emulator["apps"]["reader"]
    monkeypatch.setenv("AZURE_TENANT_ID", reset_emulator["tenant_id"])
    monkeypatch.setenv("AZURE_CLIENT_ID", reader["client_id"])
    monkeypatch.setenv("AZURE_CLIENT_SECRET", reader["client_secret"])
    result = work.cli("plan", "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    assert "+ create user margaret@contoso.example" in result.stdout


def test_a_refused_read_names_the_permission(work: Workdir) -> None:
    work.admin.put(
        "config", json={"faults": [{"route": "^GET /groups/delta", "status": 403, "rate": 1.0}]}
    ).raise_for_status()
    result = work.cli("plan")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: the app lacks the application permission GroupMember.Read.All to read groups and their "
        "members (delta) (GET /groups/delta); grant it to the app registration and give admin consent\n"
    )
