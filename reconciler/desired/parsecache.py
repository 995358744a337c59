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
from array import array
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from sys import intern
from typing import Literal, TypeVar

import msgspec
import pydantic
import yaml

from reconciler.desired.fileread import Claim, FileRead, GroupItem, RoleItem, UserItem
from reconciler.desired.model import (
    DesiredGroup,
    DesiredRole,
    DesiredUser,
    Invitation,
    Kind,
    LicenseSpec,
    MemberRef,
    Members,
)
from reconciler.errors import Location
from reconciler.files import make_directory, write_bytes

_SUFFIX = ".msgpack"
_MARKER = ".loaded"  # an empty file: these entries, in this order, merged without problems
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
    """Users and groups each encoded on their own, beside their keys: `find` decodes only the one."""

    name: str
    user_keys: list[str]
    group_keys: list[str]
    users: list[msgspec.Raw]  # each a _User
    groups: list[msgspec.Raw]  # each a _Group
    roles: list[_Role]


_decoder = msgspec.msgpack.Decoder(_Entry)
_user_decoder = msgspec.msgpack.Decoder(_User)
_group_decoder = msgspec.msgpack.Decoder(_Group)
_encoder = msgspec.msgpack.Encoder()


class ParseCache:
    """The entries under `directory`. A load calls `get` before parsing each file, `put` after, then
    `loaded` when the whole state merged without problems, and `prune`; `find` answers from the
    entries alone once `is_loaded` says the same files merged without problems before."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.used: set[str] = set()
        self.read: list[str] = []  # the entries of the files read, in the order read

    def get(self, path: Path, name: str) -> FileRead | None:
        """The kept read of the file `name` at its entry `path` (`locate`), or None: parse it."""
        try:
            entry = _decoder.decode(path.read_bytes())
            return _read(entry) if entry.name == name else None
        except (OSError, msgspec.DecodeError, ValueError, KeyError, OverflowError):
            return None  # none kept, or one not to trust

    def locate(self, name: str, text: str) -> Path:
        """The entry of this text of `name`, kept or not; recorded as read by this run."""
        path = self._entry_path(name, text)
        self.used.add(path.name)
        self.read.append(path.name)
        return path

    def put(self, path: Path, read: FileRead) -> None:
        """Keep `read` at its entry `path` (`locate`) when it has no problems and decodes back equal."""
        data = _encoded(read) if not read.problems else None
        if data is None:
            return
        if not _decodes_back(_decoder.decode(data), read):
            return  # something the wire cannot say exactly: parse this file every time rather than err
        self._write(path, data)

    def loaded(self) -> None:
        """The files read merged without problems: say so for `find`, when every one of them is kept."""
        if all((self.directory / name).is_file() for name in self.read):
            self._write(self._marker(), b"")

    def is_loaded(self) -> bool:
        """The files read (`locate`d) merged without problems before, exactly these texts in this order."""
        return self._marker().is_file()

    def find(self, entry_path: Path, kind: Kind, key: str) -> DesiredUser | DesiredGroup | None:
        """The user or group declared under `key` in the entry, None when it declares none; raises
        `ValueError` when the entry cannot be used (then load in full)."""
        try:
            entry = _decoder.decode(entry_path.read_bytes())
            keys, items = (
                (entry.user_keys, entry.users) if kind == "user" else (entry.group_keys, entry.groups)
            )
            if len(keys) != len(items):
                raise ValueError("an entry whose keys are not its items'")
            if key not in keys:
                return None
            raw = items[keys.index(key)]
            found: UserItem | GroupItem
            if kind == "user":
                found = _user_item(entry.name, _user_decoder.decode(raw))
                declared: DesiredUser | DesiredGroup | None = found.user
            else:
                found = _group_item(entry.name, _group_decoder.decode(raw))
                declared = found.group
        except (OSError, msgspec.DecodeError, KeyError, OverflowError) as exc:
            raise ValueError(f"{entry_path}: {exc}") from None
        if declared is None or declared.key != key:
            raise ValueError(f"{entry_path}: an item under another key")
        return declared

    def prune(self) -> None:
        """Remove the entries this run did not use: files since edited, renamed or deleted."""
        if not self.directory.is_dir():
            return
        for path in [*self.directory.glob(f"*{_SUFFIX}"), *self.directory.glob(f"*{_MARKER}")]:
            if path.name not in self.used:
                path.unlink(missing_ok=True)

    def _entry_path(self, name: str, text: str) -> Path:
        digest = hashlib.sha256(f"{code_version()}\0{name}\0".encode())
        digest.update(text.encode("utf-8", "surrogatepass"))
        return self.directory / f"{digest.hexdigest()[:40]}{_SUFFIX}"

    def _marker(self) -> Path:
        digest = hashlib.sha256("\0".join([code_version(), *self.read]).encode()).hexdigest()[:40]
        self.used.add(digest + _MARKER)
        return self.directory / f"{digest}{_MARKER}"

    def _write(self, path: Path, data: bytes) -> None:
        make_directory(self.directory)
        write_bytes(path, data, "parse cache")


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


def _encoded(read: FileRead) -> bytes | None:
    """The entry of `read`, encoded; None when the wire does not carry it. Each item is encoded as it
    is made, and the pieces go once joined: at 100,000 users the records would be 60 MB more."""
    try:
        user_keys, users = _pieces(map(_user_entry, read.users))
        group_keys, groups = _pieces(map(_group_entry, read.groups))
        roles = [_role_entry(item) for item in read.roles]
    except _NotKept:
        return None
    return _encoder.encode(_Entry(read.name, user_keys, group_keys, users, groups, roles))


def _pieces(items: Iterable[_User | _Group]) -> tuple[list[str], list[msgspec.Raw]]:
    keys: list[str] = []
    pieces: list[msgspec.Raw] = []
    for item in items:
        keys.append(item.key)
        pieces.append(msgspec.Raw(_encoder.encode(item)))
    return keys, pieces


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


def _members_entry(members: Members) -> _Members:
    if members.file is None:
        raise _NotKept
    return _Members(members.kinds, list(members.keys), members.lines.tolist(), members.cols.tolist())


def _principals_entry(principals: tuple[MemberRef, ...]) -> _Members:
    if any(p.file is None for p in principals):
        raise _NotKept
    return _Members(
        "".join("u" if p.kind == "user" else "g" for p in principals),
        [p.key for p in principals],
        [p.line for p in principals],
        [p.col for p in principals],
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
        _principals_entry(role.principals),
        role.mode,
        _pos(role.location),
    )


# Decoding: an _Entry → the FileRead it was made from, every location in the entry's file.

T = TypeVar("T", _User, _Group)


def _read(entry: _Entry) -> FileRead:
    name = entry.name
    users = _decoded(_user_decoder, entry.users, entry.user_keys)
    groups = _decoded(_group_decoder, entry.groups, entry.group_keys)
    return FileRead(
        name,
        (),
        tuple(_user_item(name, u) for u in users),
        tuple(_group_item(name, g) for g in groups),
        tuple(_role_item(name, r) for r in entry.roles),
    )


def _decodes_back(entry: _Entry, read: FileRead) -> bool:
    """`_read(entry) == read`, an item at a time: a file of a million member lines is not held twice."""
    name = entry.name
    users = (_user_item(name, u) for u in _decoded(_user_decoder, entry.users, entry.user_keys))
    groups = (_group_item(name, g) for g in _decoded(_group_decoder, entry.groups, entry.group_keys))
    roles = (_role_item(name, r) for r in entry.roles)
    try:
        return (
            name == read.name
            and not read.problems
            and _equal(users, read.users)
            and _equal(groups, read.groups)
            and _equal(roles, read.roles)
        )
    except ValueError:  # more or fewer items than `read` has, or keys not their items' own
        return False


def _equal(items: Iterable[object], expected: Iterable[object]) -> bool:
    return all(item == other for item, other in zip(items, expected, strict=True))


def _decoded(decoder: msgspec.msgpack.Decoder[T], items: list[msgspec.Raw], keys: list[str]) -> Iterator[T]:
    """Each item decoded as it is asked for; `ValueError` when one is not the item its key names."""
    for item, key in zip(items, keys, strict=True):
        decoded = decoder.decode(item)
        if decoded.key != key:
            raise ValueError("an entry whose keys are not its items' own")
        yield decoded


def _user_item(name: str, u: _User) -> UserItem:
    invitation = u.invitation
    user = DesiredUser(
        key=u.key,
        attrs=u.attrs,
        location=Location(name, *u.at),
        id=u.id,
        renamed_from=tuple(u.renamed_from),
        manager_declared=u.manager_declared,
        manager=u.manager,
        licenses=_licenses(name, u.licenses),
        invitation=None
        if invitation is None
        else Invitation(invitation.email, invitation.send_message, invitation.redirect_url),
    )
    return UserItem(
        _claim(name, u.claim),
        user,
        _opt_at(name, u.pin_at),
        tuple(Location(name, *pos) for pos in u.renamed_at),
        _opt_at(name, u.manager_at),
    )


def _group_item(name: str, g: _Group) -> GroupItem:
    group = DesiredGroup(
        key=g.key,
        attrs=g.attrs,
        location=Location(name, *g.at),
        id=g.id,
        renamed_from=tuple(g.renamed_from),
        owners=None if g.owners is None else tuple(g.owners),
        members=None if g.members is None else _members(name, g.members),
        members_mode=g.members_mode,
        licenses=_licenses(name, g.licenses),
    )
    return GroupItem(
        _claim(name, g.claim),
        group,
        _opt_at(name, g.pin_at),
        tuple(Location(name, *pos) for pos in g.renamed_at),
        tuple(Location(name, *pos) for pos in g.owners_at),
    )


def _role_item(name: str, r: _Role) -> RoleItem:
    role = DesiredRole(
        r.role, r.directory_scope_id, _principals(name, r.principals), r.mode, Location(name, *r.at)
    )
    return RoleItem(r.path, role)


def _claim(name: str, c: _Claim) -> Claim:
    return Claim(c.key, c.label, c.raw, Location(name, *c.at), Location(name, *c.item_at))


def _opt_at(name: str, pos: Pos | None) -> Location | None:
    return None if pos is None else Location(name, *pos)


def _licenses(name: str, specs: list[_License] | None) -> tuple[LicenseSpec, ...] | None:
    if specs is None:
        return None
    return tuple(LicenseSpec(s.sku, tuple(s.disabled_plans), Location(name, *s.at)) for s in specs)


def _members(name: str, m: _Members) -> Members:
    if m.kinds.strip("ug"):
        raise ValueError("members: a kind no entry writes")
    if not len(m.kinds) == len(m.keys) == len(m.lines) == len(m.cols):
        raise ValueError("members: columns of different lengths")
    # OverflowError on a place no file has: a miss.
    return Members(name, m.kinds, tuple(map(intern, m.keys)), array("I", m.lines), array("I", m.cols))


def _principals(name: str, m: _Members) -> tuple[MemberRef, ...]:
    return tuple(_members(name, m))
