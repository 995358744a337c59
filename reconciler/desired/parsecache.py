"""The parse cache: each desired-state file's `FileRead`, kept while the file's text is unchanged.

A pull request touches one file of many; parsing 77 MB of YAML again costs tens of seconds, decoding
a kept read a fraction of it. An entry is found by the sha256 of the file's name and text and of the
version of the code that read it (the reading modules' own source, PyYAML, pydantic, msgspec), so
an edit, a rename or an upgrade is a miss, never a stale read. Entries are decoded by msgspec into
typed records, strictly (no code runs on load, unlike pickle); anything damaged or unexpected is a
miss, and the file is parsed again. Only reads without problems are kept, and only after they have
been decoded back and compared equal to the fresh read. Entries not used by a run are removed after
it, so the directory holds one entry per file of the last run.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from functools import cache
from itertools import repeat
from pathlib import Path
from typing import Literal

import msgspec
import pydantic
import yaml

from reconciler.desired.fileread import Claim, FileRead, GroupItem, RoleItem, UserItem
from reconciler.desired.model import (
    DesiredGroup,
    DesiredRole,
    DesiredUser,
    Invitation,
    LicenseSpec,
    MemberRef,
)
from reconciler.errors import EntraformError, Location
from reconciler.files import describe_os_error, make_directory

_SUFFIX = ".msgpack"
# The modules whose code decides what a file reads as: a change to any of them changes every key.
_READERS = ("desired", "yamlload.py", "errors.py", "files.py")

Pos = tuple[int, int]  # line, column: every location of an entry is in its own file
Value = str | bool | None | list[str] | dict[str, str | None]  # what a declared attribute can hold


class _Claim(msgspec.Struct, array_like=True, frozen=True):
    key: str
    label: str
    raw: str
    at: Pos
    item_at: Pos


class _License(msgspec.Struct, array_like=True, frozen=True):
    sku: str
    disabled_plans: list[str]
    at: Pos


class _Invitation(msgspec.Struct, array_like=True, frozen=True):
    email: str
    send_message: bool
    redirect_url: str


class _Members(msgspec.Struct, array_like=True, frozen=True):
    """Members as columns: a million of them decode in C, and are made records in one pass."""

    kinds: str  # "u" a user, "g" a group, one letter per member
    keys: list[str]
    lines: list[int]
    cols: list[int]


class _User(msgspec.Struct, array_like=True, frozen=True):
    claim: _Claim
    key: str
    attrs: dict[str, Value]
    at: Pos
    id: str | None
    renamed_from: list[str]
    manager_declared: bool
    manager: str | None
    licenses: list[_License] | None
    invitation: _Invitation | None
    pin_at: Pos | None
    renamed_at: list[Pos]
    manager_at: Pos | None


class _Group(msgspec.Struct, array_like=True, frozen=True):
    claim: _Claim
    key: str
    attrs: dict[str, Value]
    at: Pos
    id: str | None
    renamed_from: list[str]
    owners: list[str] | None
    members: _Members | None
    members_mode: Literal["replace", "append"]
    licenses: list[_License] | None
    pin_at: Pos | None
    renamed_at: list[Pos]
    owners_at: list[Pos]


class _Role(msgspec.Struct, array_like=True, frozen=True):
    path: str
    role: str
    directory_scope_id: str
    principals: _Members
    mode: Literal["replace", "append"]
    at: Pos


class _Entry(msgspec.Struct, array_like=True, frozen=True):
    name: str
    users: list[_User]
    groups: list[_Group]
    roles: list[_Role]


_decoder = msgspec.msgpack.Decoder(_Entry)
_encoder = msgspec.msgpack.Encoder()


class ParseCache:
    """The entries under `directory`; `get` before parsing a file, `put` after, `prune` at the end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.used: set[str] = set()

    def get(self, name: str, text: str) -> FileRead | None:
        """The kept read of this text of the file `name`, or None: parse it."""
        path = self._path(name, text)
        self.used.add(path.name)
        try:
            entry = _decoder.decode(path.read_bytes())
            return _read(entry) if entry.name == name else None
        except (OSError, msgspec.DecodeError, ValueError):
            return None  # none kept, or one not to trust

    def put(self, name: str, text: str, read: FileRead) -> None:
        """Keep `read` (of this text of `name`) when it has no problems and decodes back equal."""
        entry = _entry(read) if not read.problems else None
        if entry is None:
            return
        data = _encoder.encode(entry)
        if _read(_decoder.decode(data)) != read:
            return  # something the wire cannot say exactly: parse this file every time rather than err
        make_directory(self.directory)
        path = self._path(name, text)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            temporary.write_bytes(data)
            temporary.replace(path)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise EntraformError(f"{path}: cannot write the parse cache: {describe_os_error(exc)}") from None

    def prune(self) -> None:
        """Remove the entries this run did not use: files since edited, renamed or deleted."""
        if not self.directory.is_dir():
            return
        for path in self.directory.glob(f"*{_SUFFIX}"):
            if path.name not in self.used:
                path.unlink(missing_ok=True)

    def _path(self, name: str, text: str) -> Path:
        digest = hashlib.sha256(f"{code_version()}\0{name}\0".encode())
        digest.update(text.encode("utf-8", "surrogatepass"))
        return self.directory / f"{digest.hexdigest()[:40]}{_SUFFIX}"


@cache
def code_version() -> str:
    """A digest of the code that reads desired-state files, and of the libraries it reads them with."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"{yaml.__version__}|{pydantic.VERSION}|{msgspec.__version__}".encode())
    for reader in _READERS:
        place = package / reader
        for path in sorted(place.rglob("*.py")) if place.is_dir() else [place]:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# Encoding: a FileRead without problems (every item has its object and its claim) → an _Entry.


class _NotKept(Exception):
    """A read the wire does not carry (an item without its object, a member without its place)."""


def _entry(read: FileRead) -> _Entry | None:
    try:
        return _Entry(
            read.name,
            [_user_entry(item) for item in read.users],
            [_group_entry(item) for item in read.groups],
            [_role_entry(item) for item in read.roles],
        )
    except _NotKept:
        return None


def _pos(location: Location | None) -> Pos:
    if location is None:
        raise _NotKept
    return (location.line, location.col)


def _opt_pos(location: Location | None) -> Pos | None:
    return None if location is None else (location.line, location.col)


def _claim_entry(claim: Claim | None) -> _Claim:
    if claim is None:
        raise _NotKept
    return _Claim(claim.key, claim.label, claim.raw, _pos(claim.at), _pos(claim.item_at))


def _licenses_entry(licenses: tuple[LicenseSpec, ...] | None) -> list[_License] | None:
    if licenses is None:
        return None
    return [_License(spec.sku, list(spec.disabled_plans), _pos(spec.location)) for spec in licenses]


def _members_entry(members: tuple[MemberRef, ...]) -> _Members:
    return _Members(
        "".join("u" if m.kind == "user" else "g" for m in members),
        [m.key for m in members],
        [_pos(m.location)[0] for m in members],
        [_pos(m.location)[1] for m in members],
    )


def _user_entry(item: UserItem) -> _User:
    user = item.user
    if user is None:
        raise _NotKept
    invitation = user.invitation
    return _User(
        _claim_entry(item.claim),
        user.key,
        user.attrs,
        _pos(user.location),
        user.id,
        list(user.renamed_from),
        user.manager_declared,
        user.manager,
        _licenses_entry(user.licenses),
        None
        if invitation is None
        else _Invitation(invitation.email, invitation.send_message, invitation.redirect_url),
        _opt_pos(item.pin_at),
        [_pos(at) for at in item.renamed_at],
        _opt_pos(item.manager_at),
    )


def _group_entry(item: GroupItem) -> _Group:
    group = item.group
    if group is None:
        raise _NotKept
    return _Group(
        _claim_entry(item.claim),
        group.key,
        group.attrs,
        _pos(group.location),
        group.id,
        list(group.renamed_from),
        None if group.owners is None else list(group.owners),
        None if group.members is None else _members_entry(group.members),
        group.members_mode,
        _licenses_entry(group.licenses),
        _opt_pos(item.pin_at),
        [_pos(at) for at in item.renamed_at],
        [_pos(at) for at in item.owners_at],
    )


def _role_entry(item: RoleItem) -> _Role:
    role = item.role
    return _Role(
        item.path,
        role.role,
        role.directory_scope_id,
        _members_entry(role.principals),
        role.mode,
        _pos(role.location),
    )


# Decoding: an _Entry → the FileRead it was made from, every location in the entry's file.

_KINDS: dict[str, Literal["user", "group"]] = {"u": "user", "g": "group"}


def _read(entry: _Entry) -> FileRead:
    at = _at(entry.name)

    def opt_at(pos: Pos | None) -> Location | None:
        return None if pos is None else at(pos)

    def licenses(specs: list[_License] | None) -> tuple[LicenseSpec, ...] | None:
        if specs is None:
            return None
        return tuple(LicenseSpec(s.sku, tuple(s.disabled_plans), at(s.at)) for s in specs)

    def claim(c: _Claim) -> Claim:
        return Claim(c.key, c.label, c.raw, at(c.at), at(c.item_at))

    def members(m: _Members) -> tuple[MemberRef, ...]:
        kinds = [_KINDS[kind] for kind in m.kinds]  # KeyError on a letter no entry writes: a miss
        if not len(kinds) == len(m.keys) == len(m.lines) == len(m.cols):
            raise ValueError("members: columns of different lengths")
        # tuple.__new__ straight from C: a NamedTuple's own __new__ is Python, and there are a million.
        places = map(tuple.__new__, repeat(Location), zip(repeat(entry.name), m.lines, m.cols))
        return tuple(map(tuple.__new__, repeat(MemberRef), zip(kinds, m.keys, places, strict=True)))

    users = tuple(
        UserItem(
            claim(u.claim),
            DesiredUser(
                key=u.key,
                attrs=u.attrs,
                location=at(u.at),
                id=u.id,
                renamed_from=tuple(u.renamed_from),
                manager_declared=u.manager_declared,
                manager=u.manager,
                licenses=licenses(u.licenses),
                invitation=None
                if u.invitation is None
                else Invitation(u.invitation.email, u.invitation.send_message, u.invitation.redirect_url),
            ),
            opt_at(u.pin_at),
            tuple(map(at, u.renamed_at)),
            opt_at(u.manager_at),
        )
        for u in entry.users
    )
    groups = tuple(
        GroupItem(
            claim(g.claim),
            DesiredGroup(
                key=g.key,
                attrs=g.attrs,
                location=at(g.at),
                id=g.id,
                renamed_from=tuple(g.renamed_from),
                owners=None if g.owners is None else tuple(g.owners),
                members=None if g.members is None else members(g.members),
                members_mode=g.members_mode,
                licenses=licenses(g.licenses),
            ),
            opt_at(g.pin_at),
            tuple(map(at, g.renamed_at)),
            tuple(map(at, g.owners_at)),
        )
        for g in entry.groups
    )
    roles = tuple(
        RoleItem(r.path, DesiredRole(r.role, r.directory_scope_id, members(r.principals), r.mode, at(r.at)))
        for r in entry.roles
    )
    return FileRead(entry.name, (), users, groups, roles)


def _at(name: str) -> Callable[[Pos], Location]:
    def at(pos: Pos) -> Location:
        return Location(name, pos[0], pos[1])

    return at
