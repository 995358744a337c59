"""`DesiredState`: the validated, normalised desired state that `plan.diff` consumes.

Keys are lower-cased (UPNs and mailNicknames compare case-insensitively in Entra ID). Attribute
dicts hold only what the YAML wrote, under Graph's camelCase names, so "left out" (never touched)
and `null` (clear it) stay distinct: an absent key is unmanaged, a key mapped to None clears.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from reconciler.errors import Location


@dataclass(frozen=True)
class LicenseSpec:
    """One license as written: `sku` is a skuPartNumber or skuId, plans are names or ids."""

    sku: str
    disabled_plans: tuple[str, ...] = ()
    location: Location | None = None


Kind = Literal["user", "group"]
_LETTERS: dict[Kind, str] = {"user": "u", "group": "g"}
_KINDS: dict[str, Kind] = {"u": "user", "g": "group"}


class MemberRef(NamedTuple):
    """A member of a group (or a role's principal): a user by UPN or a nested group by mailNickname
    (both lower-cased), and where it was written. One flat tuple, its place in plain fields rather than
    a `Location` of its own: there is one per membership, and a million Locations are 80 MB."""

    kind: Kind
    key: str
    file: str | None = None  # None: written nowhere (made by code, not read from YAML)
    line: int = 0
    col: int = 0

    @property
    def location(self) -> Location | None:
        return None if self.file is None else Location(self.file, self.line, self.col)


@dataclass(frozen=True, slots=True)
class Members:
    """A group's members as written, in order, kept as columns: there is one per membership line, and
    a million `MemberRef`s are 120 MB where a key each and two arrays of places are 20 MB. Iterating
    gives the `MemberRef`s; the loops over every membership of a tenant read the columns."""

    file: str | None  # where they were written, all in the group's file; None: made by code
    kinds: str  # a letter each: "u" a user, "g" a group
    keys: tuple[str, ...]  # UPNs and mailNicknames, lower-cased
    lines: array[int]  # 0 when made by code
    cols: array[int]

    @classmethod
    def of(cls, refs: Iterable[MemberRef]) -> Members:
        """The members `refs`, written in one file or made by code."""
        listed = tuple(refs)
        files = {ref.file for ref in listed}
        if len(files) > 1:
            raise ValueError(f"members written in more than one file: {sorted(map(str, files))}")
        return cls(
            files.pop() if files else None,
            "".join(_LETTERS[ref.kind] for ref in listed),
            tuple(ref.key for ref in listed),
            array("I", (ref.line for ref in listed)),
            array("I", (ref.col for ref in listed)),
        )

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self) -> Iterator[MemberRef]:
        file = self.file
        for letter, key, line, col in zip(self.kinds, self.keys, self.lines, self.cols, strict=True):
            yield MemberRef(_KINDS[letter], key, file, line, col)

    def location(self, index: int) -> Location | None:
        """Where the member at `index` was written; None when made by code."""
        return None if self.file is None else Location(self.file, self.lines[index], self.cols[index])

    def pairs(self) -> Iterator[tuple[Kind, str]]:
        """(kind, key) of each member, in order."""
        return zip(map(_KINDS.__getitem__, self.kinds), self.keys, strict=True)

    def keys_of(self, kind: Kind) -> list[str]:
        """The keys of the members of one kind, in order."""
        letter = _LETTERS[kind]
        return [key for found, key in zip(self.kinds, self.keys, strict=True) if found == letter]


@dataclass(frozen=True)
class Invitation:
    """How a new guest is invited (Graph docs: invitation-post): the address the invitation goes to,
    whether Graph mails it, and where the guest lands after redeeming it."""

    email: str  # invitedUserEmailAddress, as written
    send_message: bool = False
    redirect_url: str = "https://myapps.microsoft.com"


@dataclass
class DesiredUser:
    key: str  # userPrincipalName, lower-cased; a guest's invitedUserEmailAddress when it names no UPN
    attrs: dict[str, Any]  # declared Graph attributes, e.g. {"displayName": "Ada", "jobTitle": None}
    location: Location
    id: str | None = None
    renamed_from: tuple[str, ...] = ()
    manager_declared: bool = False  # `manager:` written at all (None then means clear it)
    manager: str | None = None  # manager's UPN, lower-cased
    licenses: tuple[LicenseSpec, ...] | None = None  # None: licenses not managed for this user
    invitation: Invitation | None = None  # a guest (userType Guest): created by this invitation

    @property
    def upn_declared(self) -> bool:
        """The UPN is managed: written, or the key (every member's; a guest's only when it names one)."""
        return self.invitation is None or "userPrincipalName" in self.attrs


@dataclass
class DesiredGroup:
    key: str  # mailNickname, lower-cased
    attrs: dict[str, Any]
    location: Location
    id: str | None = None
    renamed_from: tuple[str, ...] = ()
    owners: tuple[str, ...] | None = None  # owner UPNs, lower-cased; None: owners not managed
    members: Members | None = None  # None: members not managed
    members_mode: Literal["replace", "append"] = "replace"
    licenses: tuple[LicenseSpec, ...] | None = None


@dataclass(frozen=True)
class DesiredRole:
    """Who holds a directory role at a scope. `role` is as written: a displayName or a templateId,
    resolved against the tenant's role definitions when planning."""

    role: str
    directory_scope_id: str
    principals: tuple[MemberRef, ...]
    mode: Literal["replace", "append"]
    location: Location

    @property
    def key(self) -> tuple[str, str]:
        return (self.role.lower(), self.directory_scope_id)


@dataclass(frozen=True)
class Reference:
    """A reference to a user or group that no YAML declares: it must exist live (checked by plan)."""

    kind: Literal["user", "group"]
    key: str
    location: Location
    role: str  # "manager", "owner", "member", "principal"


@dataclass
class DesiredState:
    users: dict[str, DesiredUser] = field(default_factory=dict)
    groups: dict[str, DesiredGroup] = field(default_factory=dict)
    roles: dict[tuple[str, str], DesiredRole] = field(default_factory=dict)  # by (role, scope)
    external_refs: list[Reference] = field(default_factory=list)
    files: tuple[str, ...] = ()
