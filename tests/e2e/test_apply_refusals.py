"""What `entraform apply` refuses before its first write: unsafe password files and a tenant another apply
holds (SPEC §5), against the served emulator with the writer app, which could write if it were let."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from workdir import Workdir, make_workdir

GONE_PID = 2**22 + 1  # above Linux's largest pid: a process that surely does not run


@pytest.fixture
def work(
    tmp_path: Path, reset_emulator: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> Workdir:
    work = make_workdir(tmp_path, reset_emulator, admin, monkeypatch)
    assert work.cli("plan", "--out", "plan.json").exit_code == 0
    admin.post("stats/reset").raise_for_status()
    return work


def _lock(work: Workdir) -> Path:
    return work.path / ".entraform" / f"apply-{work.info['tenant_id']}.lock"


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


def _hold(work: Workdir, **fields: Any) -> str:
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "user": "grace",
        "started": "2026-03-04T05:06:07+00:00",
        "command": "entraform apply other.json",
        **fields,
    }
    _lock(work).parent.mkdir(exist_ok=True)
    _lock(work).write_text(json.dumps(holder) + "\n")
    return _lock(work).read_text()


def test_an_apply_while_another_holds_the_tenant_is_refused_before_any_write(work: Workdir) -> None:
    held = _hold(work)
    result = work.cli("apply", "plan.json")
    lock = _lock(work).as_posix()
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {lock}: another apply is running against this tenant: pid {os.getpid()} on "
        f"{socket.gethostname()} (user grace, since 2026-03-04T05:06:07+00:00: entraform apply other.json); "
        f"wait for it to finish, or, if it is not running any more, remove the lock (`rm {lock}`) and "
        "apply again\n"
    )
    assert work.stats()["writes"] == 0
    assert _lock(work).read_text() == held


def test_a_stale_lock_is_named_stale_and_not_taken_over(work: Workdir) -> None:
    held = _hold(work, pid=GONE_PID)
    result = work.cli("apply", "--auto-approve")
    assert result.exit_code == 1
    assert "the apply lock is stale: it was taken by pid 4194305" in result.stderr
    assert f"remove the lock (`rm {_lock(work).as_posix()}`)" in result.stderr
    assert work.stats()["writes"] == 0
    assert _lock(work).read_text() == held
    _lock(work).unlink()  # as the message says: then apply goes ahead
    assert work.cli("apply", "plan.json").exit_code == 0
    assert not _lock(work).exists()


def test_plans_take_no_lock(work: Workdir) -> None:
    _hold(work)
    assert work.cli("plan").exit_code == 0


def test_a_refused_apply_leaves_no_lock(work: Workdir) -> None:
    work.write_state("more.yaml", "users:\n  - {userPrincipalName: new1@contoso.example, displayName: N}\n")
    result = work.cli("apply", "plan.json")
    assert result.exit_code == 1 and "the plan is stale" in result.stderr
    assert not _lock(work).exists()


def test_two_applies_at_once_only_one_writes(work: Workdir) -> None:
    """A real first apply (a process of its own) holds the lock while writing; the second is refused."""
    work.configure(latency_ms=150)  # slow writes: the first apply is still at it when the second starts
    entraform = str(Path(sys.executable).parent / "entraform")
    command = [entraform, "--config", "entraform.yaml", "apply", "plan.json", "--parallelism", "1"]
    first = subprocess.Popen(command, cwd=work.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while work.stats()["writes"] == 0:
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.02)  # polling the emulator's counters, not waiting for a guessed duration
    second = work.cli("apply", "plan.json")
    first.send_signal(signal.SIGINT)  # no need to wait for the whole plan: stop it cleanly
    first.communicate(timeout=60)
    assert second.exit_code == 1
    assert f"another apply is running against this tenant: pid {first.pid} on" in second.stderr
    assert "apply plan.json --parallelism 1)" in second.stderr
    assert work.journal()  # the first apply wrote and journaled; the second read nothing, wrote nothing
    assert not _lock(work).exists()  # the interrupted first apply let go of it
