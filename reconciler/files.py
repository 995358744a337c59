"""Reading and writing the user's files with one clear error for every way a path can be wrong.

A directory where a file belongs, a missing or unreadable file, text that is not UTF-8, a full disk:
each becomes one `EntraformError` naming the path and what to do, never a traceback (SPEC §1).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path

from reconciler.errors import EntraformError, Location


def read_text(path: Path, what: str) -> str:
    """The UTF-8 text of `path` (a byte-order mark is dropped); `what` names the file in errors."""
    name = path.as_posix()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EntraformError(f"{name}: cannot read the {what}: {describe_os_error(exc)}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EntraformError(not_utf8(data, exc, what), utf8_error_location(name, data, exc)) from None


def write_lines(path: Path, lines: Iterable[str], what: str) -> None:
    """`write_text` for text made piece by piece: streamed to the temporary file, then renamed."""
    name = path.as_posix()
    if path.is_dir():
        raise EntraformError(f"{name}: is a directory; give a file name for the {what}")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as out:
            out.writelines(lines)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise EntraformError(f"{name}: cannot write the {what}: {describe_os_error(exc)}") from None


def not_utf8(data: bytes, exc: UnicodeDecodeError, what: str) -> str:
    return f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the {what} as UTF-8"


def utf8_error_location(name: str, data: bytes, exc: UnicodeDecodeError) -> Location:
    """Line and column (in bytes) of the first byte that is not UTF-8."""
    line_start = data.rfind(b"\n", 0, exc.start) + 1
    return Location(name, data.count(b"\n", 0, exc.start) + 1, exc.start - line_start + 1)


def write_text(path: Path, text: str, what: str) -> None:
    """Write `text` to `path` whole or not at all: a temporary file beside it, then renamed over it."""
    write_bytes(path, text.encode("utf-8"), what)


def write_bytes(path: Path, data: bytes, what: str) -> None:
    """`write_text` for bytes."""
    name = path.as_posix()
    if path.is_dir():
        raise EntraformError(f"{name}: is a directory; give a file name for the {what}")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise EntraformError(f"{name}: cannot write the {what}: {describe_os_error(exc)}") from None


def make_directory(path: Path) -> None:
    """`path` and its parents, made where missing."""
    if path.exists() and not path.is_dir():
        raise EntraformError(f"{path.as_posix()}: cannot create the directory: it exists and is a file")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = describe_os_error(exc)
        raise EntraformError(f"{path.as_posix()}: cannot create the directory: {reason}") from None


def describe_os_error(exc: OSError) -> str:
    """What went wrong with a path, in a user's words."""
    if isinstance(exc, IsADirectoryError):
        return "it is a directory, not a file"
    if isinstance(exc, FileNotFoundError):
        return "no such file or directory"
    if isinstance(exc, NotADirectoryError):
        return "a part of the path is a file, not a directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    return exc.strerror or str(exc)
