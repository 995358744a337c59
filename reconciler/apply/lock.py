"""One apply at a time per tenant: a lock file beside the journal (`.entraform/apply-<tenant>.lock`).

Two applies writing to one tenant at once would each plan against a tenant the other is changing.
The lock is a file created with O_EXCL (so exactly one process can make it), holding who holds it:
pid, host, user, the time it was taken and the command. It is taken before the tenant is read for
the stale check, so that the plan applied is one made while no other apply was writing, and removed
when the apply ends, however it ends short of the process being killed.

A lock left by a killed process stays: a lock whose pid no longer runs on this host is reported as
stale, with the command that removes it, but never taken over silently: that process may have been
stopped half-way through its changes, and a person should look at its journal first.
Plans take no lock: they only read.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
import socket
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from reconciler.errors import EntraformError
from reconciler.files import make_directory


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    user: str
    started: str
    command: str

    @staticmethod
    def me(command: str) -> Holder:
        return Holder(
            pid=os.getpid(),
            host=socket.gethostname(),
            user=_user(),
            started=datetime.now(UTC).isoformat(timespec="seconds"),
            command=command,
        )

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} (user {self.user}, since {self.started}: {self.command})"

    def is_gone(self) -> bool:
        """True when this holder ran on this host and its process no longer runs."""
        if self.host != socket.gethostname():
            return False  # another machine's processes cannot be seen from here
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False  # it runs, as another user
        return False


def lock_path(directory: Path, tenant: str) -> Path:
    """The lock file of `tenant` in `directory`; the tenant is made safe to be part of a file name."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", tenant.lower())
    return directory / f"apply-{safe}.lock"


@contextlib.contextmanager
def tenant_lock(directory: Path, tenant: str, command: str) -> Iterator[Holder]:
    """Hold the apply lock of `tenant` for the `with` block; refuse with who holds it otherwise."""
    path = lock_path(directory, tenant)
    me = Holder.me(command)
    _create(path, me)
    try:
        yield me
    finally:
        _release(path, me)


def _create(path: Path, me: Holder) -> None:
    make_directory(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise _held(path) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise EntraformError(f"{path.as_posix()}: cannot create the apply lock: {reason}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(json.dumps(asdict(me)) + "\n")
    except OSError as exc:  # a full disk: leave no empty lock behind
        path.unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        raise EntraformError(f"{path.as_posix()}: cannot write the apply lock: {reason}") from None


def _held(path: Path) -> EntraformError:
    name = path.as_posix()
    try:
        holder = _read(path)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        return EntraformError(
            f"{name}: another apply may be running against this tenant: its lock file cannot be read "
            f"({exc}); if no apply is running, remove it (`rm {name}`) and apply again"
        )
    if holder.is_gone():
        return EntraformError(
            f"{name}: the apply lock is stale: it was taken by {holder.describe()}, which no longer "
            f"runs; check its journal, then remove the lock (`rm {name}`) and apply again"
        )
    return EntraformError(
        f"{name}: another apply is running against this tenant: {holder.describe()}; wait for it to "
        f"finish, or, if it is not running any more, remove the lock (`rm {name}`) and apply again"
    )


def _read(path: Path) -> Holder:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return Holder(
        pid=int(data["pid"]),
        host=str(data["host"]),
        user=str(data["user"]),
        started=str(data["started"]),
        command=str(data["command"]),
    )


def _release(path: Path, me: Holder) -> None:
    """Remove the lock if it is still ours (a person may have removed it and another apply taken it)."""
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        if _read(path) == me:
            path.unlink()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container's arbitrary user)
        return str(os.getuid())
