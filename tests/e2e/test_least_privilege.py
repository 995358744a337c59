"""The read-only reader app is enough for every command but apply (SPEC §6); plan and drift are covered in
test_plan_cli.py and test_drift_cli.py, validate and import here, and what apply does with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from workdir import Workdir, make_workdir


@pytest.fixture
def reader(
    tmp_path: Path, reset_emulator: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> Workdir:
    return make_workdir(tmp_path, reset_emulator, admin, monkeypatch, app="reader")


def test_validate_needs_no_permission_at_all(reader: Workdir) -> None:
    result = reader.cli("validate")
    assert result.exit_code == 0, result.output
    assert reader.stats()["requests"] == 0


def test_import_needs_only_the_read_permissions(reader: Workdir) -> None:
    result = reader.cli("import", "--out", "imported", "--users", "department eq 'Finance'")
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.stderr and (reader.path / "imported" / "users.yaml").is_file()
    assert reader.stats()["writes"] == 0


def test_apply_without_write_permissions_changes_nothing_and_names_them(reader: Workdir) -> None:
    result = reader.cli("apply", "--auto-approve")
    assert result.exit_code == 1
    assert reader.stats()["writes"] == 0
    for permission in ("User.ReadWrite.All", "GroupMember.ReadWrite.All", "LicenseAssignment.ReadWrite.All"):
        assert permission in result.stderr


def test_apply_without_write_permissions_sends_no_write(reader: Workdir) -> None:
    result = reader.cli("apply", "--auto-approve")
    assert result.exit_code == 1
    # Reads only: the role read's $batch carries GET steps alone.
    routes = reader.stats()["by_route"]
    assert all(route.startswith("GET ") or route == "POST /$batch" for route in routes), routes
    assert reader.stats()["writes"] == 0
    assert "User.ReadWrite.All" in result.stderr


def test_apply_of_a_role_change_without_role_management_is_refused_before_any_write(
    tmp_path: Path, reset_emulator: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = make_workdir(tmp_path, reset_emulator, admin, monkeypatch, app="writer")
    result = writer.cli("apply", "--auto-approve")
    assert result.exit_code == 1
    assert writer.stats()["writes"] == 0
    assert "RoleManagement.ReadWrite.Directory (to assign and remove directory roles" in result.stderr
    assert "User.ReadWrite.All" not in result.stderr
