"""One desired-state file's text → a `FileRead`: what it declares and the problems found in it alone.

Reading a file needs nothing from the other files, so it is a pure function of the file's name and
text, and its result can be kept (`parsecache`) and used again while the file is unchanged. What
depends on the other files (a key or id declared twice, references, renames) is checked when the
reads are merged (`loader`), from the claims kept here.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from sys import intern
from typing import Any

from pydantic import BaseModel

from reconciler.desired.instants import INSTANT_ATTRIBUTES, graph_instant
from reconciler.desired.model import (
    DesiredGroup,
    DesiredRole,
    DesiredUser,
    Invitation,
    Kind,
    LicenseSpec,
    Members,
)
from reconciler.desired.roles import read_role
from reconciler.desired.rules import check_group, check_user, strip_passwords, user_key
from reconciler.desired.schema import (
    GROUP_ATTRIBUTES,
    USER_ATTRIBUTES,
    GroupRefModel,
    GroupSpec,
    InvitationModel,
    LicenseModel,
    StateFile,
    UserSpec,
    describe,
)
from reconciler.desired.typecheck import did_you_mean, type_check
from reconciler.errors import Location, Problem
from reconciler.yamlload import MarkedList, MarkedMap, compose_yaml, stream_yaml

SECTIONS = list(StateFile.model_fields)
STREAMED_SECTIONS = frozenset(SECTIONS)


@dataclass(frozen=True, slots=True)
class Claim:
    """A user's or group's key as written, checked against every other file's for a duplicate."""

    key: str  # lower-cased
    label: str  # where in the file, for the message: `users[3].userPrincipalName`
    raw: str  # as written
    at: Location  # the key's value
    item_at: Location  # the item (a YAML alias repeats its anchor's marks)


@dataclass(frozen=True, slots=True)
class UserItem:
    claim: Claim | None  # None: no key written (its problem is in the file's problems)
    user: DesiredUser | None  # None: the item has problems of its own
    pin_at: Location | None  # where `id:` was written
    renamed_at: tuple[Location, ...]  # where each `renamedFrom` entry was written
    manager_at: Location | None


@dataclass(frozen=True, slots=True)
class GroupItem:
    claim: Claim | None
    group: DesiredGroup | None
    pin_at: Location | None
    renamed_at: tuple[Location, ...]
    owners_at: tuple[Location, ...]


@dataclass(frozen=True, slots=True)
class RoleItem:
    path: str  # `roles[0]`
    role: DesiredRole


@dataclass(frozen=True, slots=True)
class FileRead:
    """One file's declarations in the order written (users, then groups, then roles, as merged)."""

    name: str
    problems: tuple[Problem, ...]
    users: tuple[UserItem, ...]
    groups: tuple[GroupItem, ...]
    roles: tuple[RoleItem, ...]


def read_file(name: str, text: str) -> FileRead:
    """Each user, group and role is read as soon as YAML has read it, so that a file of 100,000 users
    is never held whole; unusual YAML (anchors, merges, a syntax error) is read whole instead."""
    reader = _Reader(name)
    streamed = stream_yaml(text, name, STREAMED_SECTIONS, reader.read_item)
    if streamed is None:
        reader = _Reader(name)  # forget the items read before YAML met what it does not stream
        document, problems = compose_yaml(text, name)
    else:
        document, problems = streamed
    reader.problems[:0] = problems
    if document is not None:
        reader.read_document(document, streamed=streamed is not None)
    return FileRead(
        name, tuple(reader.problems), tuple(reader.users), tuple(reader.groups), tuple(reader.roles)
    )


class _Reader:
    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[Problem] = []
        self.users: list[UserItem] = []
        self.groups: list[GroupItem] = []
        self.roles: list[RoleItem] = []

    def read_document(self, document: Any, streamed: bool) -> None:
        """The checks of the whole document; and its items, unless they were `streamed` to `read_item`."""
        if not isinstance(document, MarkedMap):
            message = (
                f"a desired-state file is a mapping with `users:`, `groups:` and/or `roles:`, got "
                f"{describe(document)}"
            )
            self.problems.append(Problem(message, Location(self.name, 1, 1)))
            return
        for key in document:
            if key not in SECTIONS and not key.startswith("x-"):  # x-…: room for YAML anchors
                message = (
                    f"unknown key {key!r}{did_you_mean(key, SECTIONS)}; a file holds `users:`, `groups:` "
                    "and `roles:`"
                )
                self.problems.append(Problem(message, document.key_location(key)))
        for section in SECTIONS:
            items = document.get(section)
            if items is None:
                continue  # `users:` with every entry commented out
            if not isinstance(items, MarkedList):
                message = f"{section}: expected a list of {section} (`- ` items), got {describe(items)}"
                self.problems.append(Problem(message, document.location_of(section)))
                continue
            if not streamed:
                for index, item in enumerate(items):
                    self.read_item(section, index, item, items.item_location(index))

    def read_item(self, section: str, index: int, item: Any, location: Location) -> None:
        path = f"{section}[{index}]"
        if not isinstance(item, MarkedMap):
            self.problems.append(
                Problem(f"{path}: expected a mapping (key: value), got {describe(item)}", location)
            )
            return
        if section == "roles":
            role, problems = read_role(item, path)
            self.problems.extend(problems)
            if role is not None:
                self.roles.append(RoleItem(path, role))
            return
        self.problems.extend(strip_passwords(item, path))
        if section == "users":
            claim = _claim("user", item, path, "userPrincipalName", location)
            user = type_check(UserSpec, item, path)
            problems = user.problems + (check_user(user.spec, item, path) if user.spec else [])
            self.problems.extend(problems)
            self.users.append(
                _user_item(user.spec, item, claim) if user.spec and not problems else _no_user(claim)
            )
        else:
            claim = _claim("group", item, path, "mailNickname", location)
            group = type_check(GroupSpec, item, path)
            problems = group.problems + (check_group(group.spec, item, path) if group.spec else [])
            self.problems.extend(problems)
            self.groups.append(
                _group_item(group.spec, item, claim) if group.spec and not problems else _no_group(claim)
            )


def _claim(kind: Kind, item: MarkedMap, path: str, key_name: str, location: Location) -> Claim | None:
    raw = item.get(key_name)
    holder = item
    invitation = item.get("invitation")
    if raw is None and kind == "user" and isinstance(invitation, MarkedMap):
        # A guest naming no UPN is known by its invited address.
        key_name, holder = "invitedUserEmailAddress", invitation
        path, raw = f"{path}.invitation", invitation.get(key_name)
    if not isinstance(raw, str):
        return None
    return Claim(raw.lower(), f"{path}.{key_name}", raw, holder.value_location(key_name), location)


def _no_user(claim: Claim | None) -> UserItem:
    return UserItem(claim, None, None, (), None)


def _no_group(claim: Claim | None) -> GroupItem:
    return GroupItem(claim, None, None, (), ())


def _user_item(spec: UserSpec, item: MarkedMap, claim: Claim | None) -> UserItem:
    key = intern(user_key(spec))
    written = spec.model_fields_set
    user = DesiredUser(
        key=key,
        # Only what was written: mailNickname and accountEnabled defaults are the planner's, for creation.
        attrs=_attrs(spec, USER_ATTRIBUTES, written),
        location=item.location,
        id=spec.id.lower() if spec.id is not None else None,
        renamed_from=tuple(old.lower() for old in spec.renamedFrom),
        manager_declared="manager" in written,
        manager=intern(spec.manager.lower()) if spec.manager is not None else None,
        licenses=_licenses(spec.licenses, item) if "licenses" in written else None,
        invitation=_invitation(spec.invitation),
    )
    return UserItem(
        claim,
        user,
        item.value_location("id") if spec.id is not None else None,
        _renamed_at(item, len(user.renamed_from)),
        item.value_location("manager") if spec.manager is not None else None,
    )


def _group_item(spec: GroupSpec, item: MarkedMap, claim: Claim | None) -> GroupItem:
    written = spec.model_fields_set
    owners: tuple[str, ...] | None = None
    owners_at: tuple[Location, ...] = ()
    if "owners" in written:
        owners = tuple(intern(owner.lower()) for owner in spec.owners)
        owners_at = tuple(item["owners"].item_locations)
    members = _members(spec.members, item["members"]) if "members" in written else None
    group = DesiredGroup(
        key=spec.mailNickname.lower(),
        attrs=_attrs(spec, GROUP_ATTRIBUTES, written),
        location=item.location,
        id=spec.id.lower() if spec.id is not None else None,
        renamed_from=tuple(old.lower() for old in spec.renamedFrom),
        owners=owners,
        members=members,
        members_mode=spec.membersMode,
        licenses=_licenses(spec.licenses, item) if "licenses" in written else None,
    )
    return GroupItem(
        claim,
        group,
        item.value_location("id") if spec.id is not None else None,
        _renamed_at(item, len(group.renamed_from)),
        owners_at,
    )


def _renamed_at(item: MarkedMap, count: int) -> tuple[Location, ...]:
    return tuple(item["renamedFrom"].item_location(index) for index in range(count))


def _attrs(spec: UserSpec | GroupSpec, names: tuple[str, ...], written: set[str]) -> dict[str, Any]:
    """The written attributes, in the models' order so that equal YAML gives equal dicts and plans.

    A nested object (employeeOrgData, onPremisesExtensionAttributes) becomes a dict of the keys written,
    and instants are written as Graph returns them, so that an equal value compares equal."""
    attrs: dict[str, Any] = {}
    for name in names:
        if name not in written:
            continue
        value = getattr(spec, name)
        if isinstance(value, BaseModel):
            value = value.model_dump(exclude_unset=True)
        elif name in INSTANT_ATTRIBUTES and value is not None:
            value = graph_instant(value) or value
        attrs[name] = value
    return attrs


def _invitation(spec: InvitationModel | None) -> Invitation | None:
    if spec is None:
        return None
    return Invitation(spec.invitedUserEmailAddress, spec.sendInvitationMessage, spec.inviteRedirectUrl)


def _licenses(licenses: list[LicenseModel], item: MarkedMap) -> tuple[LicenseSpec, ...]:
    locations = item["licenses"].item_locations
    return tuple(
        LicenseSpec(sku=spec.sku, disabled_plans=tuple(spec.disabledPlans), location=location)
        for spec, location in zip(licenses, locations, strict=True)
    )


def _members(members: list[str | GroupRefModel], written: MarkedList) -> Members:
    # Keys interned: a user is a member of ten groups on average, and a million keys are 85 MB.
    groups = [isinstance(member, GroupRefModel) for member in members]
    keys = (member.group if isinstance(member, GroupRefModel) else member for member in members)
    return Members(
        written.file,
        "".join("g" if group else "u" for group in groups),
        tuple(intern(key.lower()) for key in keys),
        array("I", [mark.line + 1 for mark in written.item_marks]),
        array("I", [mark.column + 1 for mark in written.item_marks]),
    )
