"""HR attributes end to end against the served emulator: import → validate → plan is empty for a tenant that
holds them, and a YAML edit of them plans, applies (with the lifecycle permission) and converges."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from workdir import make_workdir

ADA = "ada@contoso.example"
HR = {
    "mail": "ada.lovelace@contoso.example",
    "employeeHireDate": "2026-01-05T00:00:00Z",
    "employeeLeaveDateTime": "2027-06-30T17:00:00Z",
    "employeeOrgData": {"division": "Research", "costCenter": "CC-42"},
    "onPremisesExtensionAttributes": {"extensionAttribute1": "badge-7", "extensionAttribute15": "hr"},
    "faxNumber": "+44 20 7946 0001",
    "otherMails": ["ada@example.org"],
    "passwordPolicies": "DisablePasswordExpiration",
}


@pytest.fixture
def hr_tenant(reset_emulator: dict[str, Any], graph_http: Any) -> dict[str, Any]:
    """The demo tenant with Ada's HR attributes set, as an HR system would set them through Graph."""
    graph_http("writer").patch(f"users/{ADA}", json=HR).raise_for_status()
    return reset_emulator


def test_hr_attributes_round_trip_through_import_validate_and_plan(
    tmp_path: Path, hr_tenant: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = make_workdir(tmp_path, hr_tenant, admin, monkeypatch, app="reader")
    shutil.rmtree(work.path / "state")
    imported = work.cli("import", "--out", "state")
    assert imported.exit_code == 0, imported.output
    users = yaml.safe_load((work.path / "state" / "users.yaml").read_text())["users"]
    ada = next(u for u in users if u["userPrincipalName"] == ADA)
    assert {name: ada[name] for name in HR} == HR
    assert work.cli("validate").exit_code == 0
    planned = work.cli("plan", "--detailed-exitcode")
    assert (planned.exit_code, planned.stdout) == (0, "No changes. The tenant matches the desired state.\n")
    shown = json.loads(work.cli("show", "user", ADA, "--format", "json").stdout)
    attributes = {a["name"]: a for a in shown["attributes"]}
    assert {name: (attributes[name]["tenant"], attributes[name]["differs"]) for name in HR} == {
        name: (value, False) for name, value in HR.items()
    }


def test_an_hr_edit_plans_key_by_key_applies_and_converges(
    tmp_path: Path, hr_tenant: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = make_workdir(tmp_path, hr_tenant, admin, monkeypatch, app="admin")
    people = work.path / "state" / "people" / "engineering.yaml"
    declared = '    employeeId: "E1003"\n'
    edit = '    employeeOrgData: {costCenter: CC-7}\n    employeeLeaveDateTime: "2027-07-31T18:00:00+01:00"\n'
    people.write_text(people.read_text().replace(declared, declared + edit, 1))
    plan = work.cli("plan", "--format", "json")
    assert plan.exit_code == 0, plan.output
    (ada,) = [c for c in json.loads(plan.stdout)["changes"] if c.get("key") == ADA]
    assert ada["diff"] == {
        "employeeOrgData": {
            "before": {"costCenter": "CC-42", "division": "Research"},
            "after": {"costCenter": "CC-7", "division": "Research"},
        },
        "employeeLeaveDateTime": {"before": "2027-06-30T17:00:00Z", "after": "2027-07-31T17:00:00Z"},
    }
    applied = work.cli("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    again = work.cli("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_a_declared_leave_date_needs_an_app_that_may_read_it(
    tmp_path: Path,
    hr_tenant: dict[str, Any],
    admin: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    emulator_server: Any,
) -> None:
    """Graph shows employeeLeaveDateTime only to an app with a lifecycle permission (resources/user): without
    one the plan would compare the YAML with a tenant that seems to hold no leave dates."""
    from reconciler.emulator.auth import READER_ROLES, AppRegistration

    roles = tuple(r for r in READER_ROLES if not r.startswith("User-LifeCycleInfo"))
    app = AppRegistration("plain-reader", "00000000-0000-4000-8000-0000000011fe", "plain-secret", roles)
    emulator_server.emulator.auth.apps["plain-reader"] = app
    emulator_server.info["apps"]["plain-reader"] = app.to_json()
    try:
        work = make_workdir(tmp_path, hr_tenant, admin, monkeypatch, app="plain-reader")
        assert work.cli("plan").exit_code == 0  # no leave date declared: nothing to refuse
        people = work.path / "state" / "people" / "engineering.yaml"
        declared = '    employeeId: "E1003"\n'
        people.write_text(
            people.read_text().replace(declared, declared + "    employeeLeaveDateTime: null\n")
        )
        refused = work.cli("plan")
        assert refused.exit_code == 1
        line = people.read_text().splitlines().index("  - userPrincipalName: ada@contoso.example") + 1
        assert refused.stderr == (
            f"error: {people.as_posix()}:{line}:5: the app lacks User-LifeCycleInfo.Read.All: Graph "
            "shows it no employeeLeaveDateTime, so the one declared here cannot be compared; grant it to the "
            "app and give admin consent\n"
        )
    finally:
        del emulator_server.emulator.auth.apps["plain-reader"]
        del emulator_server.info["apps"]["plain-reader"]
