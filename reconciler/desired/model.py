"""`DesiredState`: the validated, normalised desired state that `plan.diff` consumes.

Keys are lower-cased (UPNs and mailNicknames compare case-insensitively in Entra ID). Attribute
dicts hold only what the YAML wrote, under Graph's camelCase names, so "left out" (never touched)
and `null` (clear it) stay distinct: an absent key is unmanaged, a key mapped to None clears.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from reconciler.errors import Location


@dataclass(frozen=True)
class LicenseSpec:
    """One license as written: `sku` is a skuPartNumber or skuId, plans are names or ids."""

    sku: str
    disabled_plans: tuple[str, ...] = ()
    location: Location | None = None


class MemberRef(NamedTuple):
    """A member of a group (or a role's principal): a user by UPN or a nested group by mailNickname
    (both lower-cased), and where it was written. One flat tuple, its place in plain fields rather than
    a `Location` of its own: there is one per membership, and a million Locations are 80 MB."""

    kind: Literal["user", "group"]
    key: str
    file: str | None = None  # None: written nowhere (made by code, not read from YAML)
    line: int = 0
    col: int = 0

    @property
    def location(self) -> Location | None:
        return None if self.file is None else Location(self.file, self.line, self.col)


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
    members: tuple[MemberRef, ...] | None = None  # None: members not managed
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
