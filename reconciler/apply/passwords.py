"""Initial passwords of created users: written only to `--initial-passwords FILE`, mode 0600 (SPEC §5).

They are never printed, logged or journaled. The file is CSV (`userPrincipalName,password`), appended
to as each user is created, so an interrupted apply still leaves the passwords of every created user.

An existing file is used only if it is a regular file of this user that nobody else may read or write:
a wider mode means the passwords already written there were exposed, and a symbolic link could send
new ones anywhere. Either is refused before anything is written to Graph (`check_password_file`), and
again on the opened file itself, so that the path cannot be swapped in between.
"""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path
from typing import IO

from reconciler.errors import EntraformError

HEADER = ("userPrincipalName", "password")


def check_password_file(path: Path) -> None:
    """Refuse an existing `--initial-passwords` file that is a link, not ours, or open to others."""
    try:
        status = path.lstat()
    except FileNotFoundError:
        return  # created with mode 0600 when the first password is written
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise EntraformError(
            f"{path.as_posix()}: cannot check the --initial-passwords file: {reason}"
        ) from None
    _refuse_unsafe(path, status)


def _refuse_unsafe(path: Path, status: os.stat_result) -> None:
    name = path.as_posix()
    if stat.S_ISLNK(status.st_mode):
        raise EntraformError(
            f"{name}: --initial-passwords is a symbolic link; give the path of the file itself, "
            "so that passwords cannot be written anywhere the link points"
        )
    if not stat.S_ISREG(status.st_mode):
        raise EntraformError(f"{name}: --initial-passwords is not a regular file")
    if status.st_uid != os.getuid():
        raise EntraformError(
            f"{name}: --initial-passwords belongs to another user (uid {status.st_uid}); give a file of "
            "your own or a new path"
        )
    mode = stat.S_IMODE(status.st_mode)
    if mode & 0o077:
        raise EntraformError(
            f"{name}: --initial-passwords has mode {mode:04o}, so other users may read the passwords in "
            f"it; if nobody else could have read them, run `chmod 600 {name}`, else rotate them and "
            "give a new path"
        )


class PasswordFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def __enter__(self) -> PasswordFile:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            check_password_file(self.path)  # a link (ELOOP) says so; anything else as it is
            raise EntraformError(
                f"{self.path.as_posix()}: cannot open the --initial-passwords file: {exc.strerror}"
            ) from None
        try:
            _refuse_unsafe(self.path, os.fstat(fd))
        except EntraformError:
            os.close(fd)
            raise
        os.fchmod(fd, 0o600)  # a umask may have taken the owner's own bits from a new file
        self._file = os.fdopen(fd, "a", encoding="utf-8", newline="")
        if os.fstat(fd).st_size == 0:
            csv.writer(self._file).writerow(HEADER)
            self._file.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def write(self, user_principal_name: str, password: str) -> None:
        if self._file is None:
            raise RuntimeError("PasswordFile used outside its `with` block")
        csv.writer(self._file).writerow((user_principal_name, password))
        self._file.flush()
