"""`--initial-passwords FILE`: created 0600, and an existing file others could read, or a link, refused."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from reconciler.apply.passwords import PasswordFile, check_password_file
from reconciler.errors import EntraformError


def test_a_new_file_is_created_0600_with_a_header(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "pw.csv"
    check_password_file(path)
    with PasswordFile(path) as passwords:
        passwords.write("ada@contoso.example", "s3cret-Pa55word!")
    assert path.stat().st_mode & 0o777 == 0o600
    assert list(csv.reader(path.open())) == [
        ["userPrincipalName", "password"],
        ["ada@contoso.example", "s3cret-Pa55word!"],
    ]


def test_an_existing_0600_file_is_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "pw.csv"
    for upn in ("ada@contoso.example", "ben@contoso.example"):
        check_password_file(path)
        with PasswordFile(path) as passwords:
            passwords.write(upn, "x")
    assert [row[0] for row in csv.reader(path.open())] == [
        "userPrincipalName",
        "ada@contoso.example",
        "ben@contoso.example",
    ]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606])
def test_a_file_others_may_read_or_write_is_refused_untouched(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "pw.csv"
    path.write_text("userPrincipalName,password\nold@contoso.example,old\n")
    path.chmod(mode)
    expected = (
        f"{path.as_posix()}: --initial-passwords has mode {mode:04o}, so other users may read the "
        f"passwords in it; if nobody else could have read them, run `chmod 600 {path.as_posix()}`, else "
        "rotate them and give a new path"
    )
    with pytest.raises(EntraformError) as checked:
        check_password_file(path)
    assert checked.value.message == expected
    with pytest.raises(EntraformError) as opened, PasswordFile(path):
        pass
    assert opened.value.message == expected
    assert path.stat().st_mode & 0o777 == mode  # not narrowed behind the user's back
    assert path.read_text() == "userPrincipalName,password\nold@contoso.example,old\n"


def test_a_symbolic_link_is_refused_and_its_target_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.csv"
    target.write_text("")
    target.chmod(0o600)
    link = tmp_path / "pw.csv"
    link.symlink_to(target)
    expected = (
        f"{link.as_posix()}: --initial-passwords is a symbolic link; give the path of the file itself, "
        "so that passwords cannot be written anywhere the link points"
    )
    with pytest.raises(EntraformError) as checked:
        check_password_file(link)
    assert checked.value.message == expected
    with pytest.raises(EntraformError) as opened, PasswordFile(link):
        pass
    assert opened.value.message == expected
    assert target.read_text() == ""


def test_a_dangling_link_is_refused_and_nothing_created(tmp_path: Path) -> None:
    link = tmp_path / "pw.csv"
    link.symlink_to(tmp_path / "not-yet.csv")
    with pytest.raises(EntraformError, match="is a symbolic link"):
        check_password_file(link)
    with pytest.raises(EntraformError, match="is a symbolic link"), PasswordFile(link):
        pass
    assert not (tmp_path / "not-yet.csv").exists()


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EntraformError, match="--initial-passwords is not a regular file"):
        check_password_file(tmp_path)


def test_a_file_of_another_user_is_refused(tmp_path: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("only root can give a file to another user")
    path = tmp_path / "pw.csv"
    path.write_text("")
    path.chmod(0o600)
    os.chown(path, 12345, -1)
    with pytest.raises(EntraformError, match=r"belongs to another user \(uid 12345\)"):
        check_password_file(path)
