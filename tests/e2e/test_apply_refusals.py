"""What `entraform apply` refuses before its first write: unsafe password files (SPEC §5), against the
served emulator with the writer app, which could write if it were let."""

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
    work = make_workdir(tmp_path, reset_emulator, admin, monkeypatch)
    assert work.cli("plan", "--out", "plan.json").exit_code == 0
    admin.post("stats/reset").raise_for_status()
    return work


def test_a_passwords_file_others_may_read_is_refused_before_anything_is_read(work: Workdir) -> None:
    passwords = work.path / "pw.csv"
    passwords.write_text("userPrincipalName,password\n")
    passwords.chmod(0o644)
    result = work.cli("apply", "plan.json", "--initial-passwords", "pw.csv")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: pw.csv: --initial-passwords has mode 0644, so other users may read the passwords in it; "
        "if nobody else could have read them, run `chmod 600 pw.csv`, else rotate them and give a new path\n"
    )
    assert work.stats()["requests"] == 0


def test_a_passwords_file_that_is_a_link_is_refused(work: Workdir) -> None:
    (work.path / "shared.csv").write_text("")
    (work.path / "pw.csv").symlink_to(work.path / "shared.csv")
    result = work.cli("apply", "plan.json", "--initial-passwords", "pw.csv")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: pw.csv: --initial-passwords is a symbolic link; give the path of the file itself, so that "
        "passwords cannot be written anywhere the link points\n"
    )
    assert work.stats()["requests"] == 0
    assert (work.path / "shared.csv").read_text() == ""
