"""Initial passwords of created users: written only to `--initial-passwords FILE`, mode 0600 (SPEC §5).

They are never printed, logged or journaled. The file is CSV (`userPrincipalName,password`), appended
to as each user is created, so an interrupted apply still leaves the passwords of every created user.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import IO

HEADER = ("userPrincipalName", "password")


class PasswordFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def __enter__(self) -> PasswordFile:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        # An existing file may have been created with wider permissions: narrow them before writing.
        os.fchmod(fd, 0o600)
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
        assert self._file is not None, "PasswordFile used outside its `with` block"
        csv.writer(self._file).writerow((user_principal_name, password))
        self._file.flush()
