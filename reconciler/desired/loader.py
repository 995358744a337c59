"""`load_desired(config)`: every `*.yaml` under `state_dir` → a validated `DesiredState` (SPEC §3).

Problems are collected, never raised one by one: a run reports every problem of every file, each at
its `FILE:LINE:COL`, in one `ValidationFailed`. One pass over each file and dict lookups throughout,
so 100,000 users load in linear time.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from reconciler.config import Config
from reconciler.desired.instants import INSTANT_ATTRIBUTES, graph_instant
from reconciler.desired.model import (
    DesiredGroup,
    DesiredRole,
    DesiredState,
    DesiredUser,
    Invitation,
    LicenseSpec,
    MemberRef,
)
from reconciler.desired.references import (
    Kind,
    PendingRef,
    nested_microsoft_365_groups,
    nesting_cycles,
    resolve,
)
from reconciler.desired.roles import principal_problems, read_role
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
from reconciler.errors import EntraformError, Location, Problem, ValidationFailed
from reconciler.files import read_text
from reconciler.yamlload import MarkedList, MarkedMap, parse_yaml

_SECTIONS = list(StateFile.model_fields)


def load_desired(config: Config) -> DesiredState:
    """Read and check the desired state; raise `ValidationFailed` carrying every problem."""
    root = config.state_path
    if root.exists() and not root.is_dir():
        raise EntraformError(f"{root}: the state directory is a file (state_dir in the config)")
    if not root.is_dir():
        raise EntraformError(f"{root}: the state directory does not exist (state_dir in the config)")
    collector = _Collector()
    files = sorted(path for path in root.rglob("*.y*ml") if not _hidden(path, root))
    inside = root.resolve()
    with _cyclic_gc_paused():
        for path in files:
            if path.resolve().is_relative_to(inside):
                collector.read_file(path)
            else:
                # A link out of state_dir would put files no review of the repository sees into the plan.
                message = (
                    f"a symbolic link to {path.resolve().as_posix()}, outside the state directory; "
                    "keep desired-state files inside state_dir"
                )
                collector.problems.append(Problem(message, Location(path.as_posix(), 1, 1)))
        state = collector.finish()
    if collector.problems:
        raise ValidationFailed(collector.problems)
    return state


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Loading makes millions of small objects that live on, and next to no reference cycles; left on,
    the cyclic garbage collector would traverse them over and over (a large load took twice as long)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.users: dict[str, DesiredUser] = {}
        self.groups: dict[str, DesiredGroup] = {}
        self.roles: dict[tuple[str, str], DesiredRole] = {}
        self.files: list[str] = []
        self.first_seen: dict[Kind, dict[str, Location]] = {"user": {}, "group": {}}
        self.ids: dict[str, Location] = {}
        self.refs: list[PendingRef] = []
        self.renamed: dict[Kind, dict[str, tuple[str, Location]]] = {"user": {}, "group": {}}

    def read_file(self, path: Path) -> None:
        name = path.as_posix()
        if path.suffix != ".yaml":
            if path.suffix == ".yml":
                message = "only *.yaml files are read; rename this file to .yaml"
                self.problems.append(Problem(message, Location(name, 1, 1)))
            return
        self.files.append(name)
        try:
            text = read_text(path, "file")
        except EntraformError as exc:  # unreadable, or not UTF-8: the other files are still read
            self.problems.append(exc.problem)
            return
        document, problems = parse_yaml(text, name)
        self.problems.extend(problems)
        if document is not None:
            self._read_document(document, name)

    def _read_document(self, document: Any, name: str) -> None:
        if not isinstance(document, MarkedMap):
            message = (
                f"a desired-state file is a mapping with `users:`, `groups:` and/or `roles:`, got "
                f"{describe(document)}"
            )
            self.problems.append(Problem(message, Location(name, 1, 1)))
            return
        for key in document:
            if key not in _SECTIONS and not key.startswith("x-"):  # x-…: room for YAML anchors
                message = (
                    f"unknown key {key!r}{did_you_mean(key, _SECTIONS)}; a file holds `users:`, `groups:` "
                    "and `roles:`"
                )
                self.problems.append(Problem(message, document.key_location(key)))
        for section in _SECTIONS:
            items = document.get(section)
            if items is None:
                continue  # `users:` with every entry commented out
            if not isinstance(items, MarkedList):
                message = f"{section}: expected a list of {section} (`- ` items), got {describe(items)}"
                self.problems.append(Problem(message, document.location_of(section)))
                continue
            for index, item in enumerate(items):
                self._read_item(section, f"{section}[{index}]", item, items.item_location(index))
                items[index] = None  # let go of each item once read: a large file's marks go as they are used

    def _read_item(self, section: str, path: str, item: Any, location: Location) -> None:
        if not isinstance(item, MarkedMap):
            self.problems.append(
                Problem(f"{path}: expected a mapping (key: value), got {describe(item)}", location)
            )
            return
        if section == "roles":
            self._add_role(item, path)
            return
        self.problems.extend(strip_passwords(item, path))
        kind: Kind = "user" if section == "users" else "group"
        key_name = "userPrincipalName" if kind == "user" else "mailNickname"
        declared_twice = self._declared_twice(kind, item, path, key_name, location)
        if kind == "user":
            user = type_check(UserSpec, item, path)
            problems = user.problems + (check_user(user.spec, item, path) if user.spec else [])
            if user.spec and not problems and not declared_twice:
                self._add_user(user.spec, item)
        else:
            group = type_check(GroupSpec, item, path)
            problems = group.problems + (check_group(group.spec, item, path) if group.spec else [])
            if group.spec and not problems and not declared_twice:
                self._add_group(group.spec, item)
        self.problems.extend(problems)

    def _declared_twice(
        self, kind: Kind, item: MarkedMap, path: str, key_name: str, location: Location
    ) -> bool:
        """Checked on the raw key, so a duplicate is found even when either copy has other problems."""
        raw = item.get(key_name)
        holder = item
        invitation = item.get("invitation")
        if raw is None and kind == "user" and isinstance(invitation, MarkedMap):
            # A guest naming no UPN is known by its invited address.
            key_name, holder = "invitedUserEmailAddress", invitation
            path, raw = f"{path}.invitation", invitation.get(key_name)
        if not isinstance(raw, str):
            return False
        seen = self.first_seen[kind]
        first = seen.get(raw.lower())
        if first is None:
            seen[raw.lower()] = holder.value_location(key_name)
            return False
        message = f"{path}.{key_name}: {kind} {raw} is already declared at {first}; declare each {kind} once"
        here = holder.value_location(key_name)
        if here == first:  # the same mapping again: a YAML alias, whose marks are its anchor's
            here, message = location, f"{message} (this item is a YAML alias of it)"
        self.problems.append(Problem(message, here))
        return True

    def _add_user(self, spec: UserSpec, item: MarkedMap) -> None:
        key = user_key(spec)
        written = spec.model_fields_set
        # Only what was written: mailNickname and accountEnabled defaults are the planner's, for creation.
        attrs = _attrs(spec, USER_ATTRIBUTES, written)
        manager = spec.manager.lower() if spec.manager is not None else None
        if manager is not None:
            self.refs.append(PendingRef("user", manager, item.value_location("manager"), "manager"))
        self.users[key] = DesiredUser(
            key=key,
            attrs=attrs,
            location=item.location,
            id=self._pin(spec.id, item),
            renamed_from=self._renamed_from("user", key, spec.renamedFrom, item),
            manager_declared="manager" in written,
            manager=manager,
            licenses=_licenses(spec.licenses, item) if "licenses" in written else None,
            invitation=_invitation(spec.invitation),
        )

    def _add_group(self, spec: GroupSpec, item: MarkedMap) -> None:
        key = spec.mailNickname.lower()
        written = spec.model_fields_set
        attrs = _attrs(spec, GROUP_ATTRIBUTES, written)
        owners: tuple[str, ...] | None = None
        if "owners" in written:
            owners = tuple(owner.lower() for owner in spec.owners)
            locations = item["owners"].item_locations
            self.refs.extend(
                PendingRef("user", o, loc, "owner") for o, loc in zip(owners, locations, strict=True)
            )
        members: tuple[MemberRef, ...] | None = None
        if "members" in written:
            members = tuple(
                _member(m, loc) for m, loc in zip(spec.members, item["members"].item_locations, strict=True)
            )
            self.refs.extend(
                PendingRef(m.kind, m.key, m.location or item.location, "member") for m in members
            )
        self.groups[key] = DesiredGroup(
            key=key,
            attrs=attrs,
            location=item.location,
            id=self._pin(spec.id, item),
            renamed_from=self._renamed_from("group", key, spec.renamedFrom, item),
            owners=owners,
            members=members,
            members_mode=spec.membersMode,
            licenses=_licenses(spec.licenses, item) if "licenses" in written else None,
        )

    def _add_role(self, item: MarkedMap, path: str) -> None:
        role, problems = read_role(item, path)
        self.problems.extend(problems)
        if role is None:
            return
        first = self.roles.get(role.key)
        if first is not None:
            message = (
                f"{path}: role {role.role} at directoryScopeId {role.directory_scope_id} is already "
                f"declared at {first.location}; declare each role once per scope"
            )
            self.problems.append(Problem(message, role.location))
            return
        self.roles[role.key] = role
        self.refs.extend(
            PendingRef(p.kind, p.key, p.location or role.location, "principal") for p in role.principals
        )

    def _pin(self, object_id: str | None, item: MarkedMap) -> str | None:
        if object_id is None:
            return None
        object_id = object_id.lower()
        location = item.value_location("id")
        first = self.ids.get(object_id)
        if first is not None:
            message = f"id: {object_id} is already pinned at {first}; an id belongs to one object"
            self.problems.append(Problem(message, location))
        self.ids.setdefault(object_id, location)
        return object_id

    def _renamed_from(self, kind: Kind, key: str, old_keys: list[str], item: MarkedMap) -> tuple[str, ...]:
        olds = tuple(old.lower() for old in old_keys)
        for index, old in enumerate(olds):
            self.renamed[kind].setdefault(old, (key, item["renamedFrom"].item_location(index)))
        return olds

    def finish(self) -> DesiredState:
        for kind, olds in self.renamed.items():
            for old, (_, location) in olds.items():
                first = self.first_seen[kind].get(old)
                if first is not None:
                    message = f"renamedFrom: {old} is still declared at {first}; remove one of the two"
                    self.problems.append(Problem(message, location))
        declared: dict[Kind, set[str]] = {"user": set(self.users), "group": set(self.groups)}
        renamed: dict[Kind, dict[str, str]] = {
            kind: {old: new for old, (new, _) in olds.items()} for kind, olds in self.renamed.items()
        }
        external, problems = resolve(self.refs, declared, renamed)
        self.problems.extend(problems)
        self.problems.extend(nesting_cycles(self.groups))
        self.problems.extend(nested_microsoft_365_groups(self.groups))
        self.problems.extend(principal_problems(self.roles, self.groups))
        return DesiredState(
            users=self.users,
            groups=self.groups,
            roles=self.roles,
            external_refs=external,
            files=tuple(self.files),
        )


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


def _member(member: str | GroupRefModel, location: Location) -> MemberRef:
    if isinstance(member, GroupRefModel):
        return MemberRef("group", member.group.lower(), location)
    return MemberRef("user", member.lower(), location)
