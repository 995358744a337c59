"""The per-tenant apply lock: one holder at a time, who holds it, stale locks named and never taken over."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from reconciler.apply.lock import Holder, lock_path, tenant_lock
from reconciler.errors import EntraformError

# Above the largest pid Linux hands out (pid_max is at most 2**22): a process that surely does not run.
GONE_PID = 2**22 + 1


def _write_holder(path: Path, **fields: object) -> dict[str, object]:
    holder: dict[str, object] = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "user": "grace",
        "started": "2026-01-02T03:04:05+00:00",
        "command": "entraform apply plan.json",
    }
    holder.update(fields)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(holder) + "\n")
    return holder


def test_the_lock_file_says_who_holds_it_and_goes_at_the_end(tmp_path: Path) -> None:
    path = lock_path(tmp_path / ".entraform", "contoso.example")
    with tenant_lock(tmp_path / ".entraform", "contoso.example", "entraform apply plan.json") as me:
        held = json.loads(path.read_text())
        assert held == {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "user": me.user,
            "started": me.started,
            "command": "entraform apply plan.json",
        }
    assert not path.exists()


def test_the_tenant_becomes_a_safe_file_name(tmp_path: Path) -> None:
    assert lock_path(tmp_path, "Contoso.onmicrosoft.com").name == "apply-contoso.onmicrosoft.com.lock"
    assert lock_path(tmp_path, "../x y").name == "apply-.._x_y.lock"


def test_a_second_apply_is_refused_naming_the_holder(tmp_path: Path) -> None:
    path = lock_path(tmp_path, "t")
    with tenant_lock(tmp_path, "t", "entraform apply first.json") as first:
        before = path.read_text()
        with pytest.raises(EntraformError) as refused, tenant_lock(tmp_path, "t", "entraform apply"):
            pass
        assert path.read_text() == before  # the holder's lock is left as it was
    assert refused.value.message == (
        f"{path.as_posix()}: another apply is running against this tenant: pid {first.pid} on "
        f"{first.host} (user {first.user}, since {first.started}: entraform apply first.json); wait for "
        f"it to finish, or, if it is not running any more, remove the lock (`rm {path.as_posix()}`) and "
        "apply again"
    )
    assert not path.exists()


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError])
def test_the_lock_goes_however_the_apply_ends(tmp_path: Path, interruption: type[BaseException]) -> None:
    with pytest.raises(interruption), tenant_lock(tmp_path, "t", "entraform apply"):
        raise interruption()
    assert not lock_path(tmp_path, "t").exists()


def test_a_lock_whose_process_is_gone_is_called_stale_and_kept(tmp_path: Path) -> None:
    path = lock_path(tmp_path, "t")
    _write_holder(path, pid=GONE_PID)
    before = path.read_text()
    with pytest.raises(EntraformError) as refused, tenant_lock(tmp_path, "t", "entraform apply"):
        pass
    assert refused.value.message == (
        f"{path.as_posix()}: the apply lock is stale: it was taken by pid {GONE_PID} on "
        f"{socket.gethostname()} (user grace, since 2026-01-02T03:04:05+00:00: entraform apply plan.json), "
        f"which no longer runs; check its journal, then remove the lock (`rm {path.as_posix()}`) and apply "
        "again"
    )
    assert path.read_text() == before


def test_a_lock_from_another_host_cannot_be_called_stale(tmp_path: Path) -> None:
    path = lock_path(tmp_path, "t")
    _write_holder(path, pid=GONE_PID, host="build-agent-7")
    running = f"another apply is running .*: pid {GONE_PID} on build-agent-7"
    with pytest.raises(EntraformError, match=running), tenant_lock(tmp_path, "t", "entraform apply"):
        pass
    assert path.exists()


@pytest.mark.parametrize("text", ["", "{not json", '{"pid": 1}', "[1, 2]", '{"pid": "x", "host": 1}'])
def test_an_unreadable_lock_still_refuses(tmp_path: Path, text: str) -> None:
    path = lock_path(tmp_path, "t")
    path.write_text(text)
    unreadable = "its lock file cannot be read"
    with pytest.raises(EntraformError, match=unreadable) as refused, tenant_lock(tmp_path, "t", "x"):
        pass
    assert f"remove it (`rm {path.as_posix()}`)" in refused.value.message
    assert path.read_text() == text


def test_a_lock_someone_else_took_meanwhile_is_not_removed(tmp_path: Path) -> None:
    path = lock_path(tmp_path, "t")
    with tenant_lock(tmp_path, "t", "entraform apply"):
        # A person removed our lock and another apply took it: ours must not remove theirs.
        theirs = _write_holder(path, pid=GONE_PID, command="entraform apply theirs.json")
    assert json.loads(path.read_text()) == theirs


def test_holder_of_a_running_process_here_is_not_gone() -> None:
    me = Holder.me("entraform apply")
    assert not me.is_gone()
