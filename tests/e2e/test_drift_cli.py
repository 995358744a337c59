"""`entraform drift`: the plan read as drift; exit 0 none, 2 drift, 1 error (SPEC §1)."""

from __future__ import annotations

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


def test_drift_reports_and_exits_2(work: Workdir) -> None:
    result = work.cli("drift", "--format", "markdown", "--report", "drift.md")
    assert result.exit_code == 2, result.output
    report = (work.path / "drift.md").read_text()
    assert report == result.stdout
    assert "joni@contoso.example" in report


def test_no_drift_exits_0(work: Workdir) -> None:
    for path in (work.path / "state").rglob("*.yaml"):
        path.unlink()
    work.write_state("empty.yaml", "users: []\ngroups: []\n")
    result = work.cli("drift")
    assert result.exit_code == 0, result.output
    assert result.stdout == "No drift. The tenant matches git.\n"


def test_drift_error_exits_1(work: Workdir) -> None:
    work.write_state("broken.yaml", "users:\n  - userPrincipalName: [not, a, string]\n")
    result = work.cli("drift")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
