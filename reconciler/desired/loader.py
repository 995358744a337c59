"""`load_desired(config)`: every `*.yaml` under `state_dir` → a validated `DesiredState` (SPEC §3).

Problems are collected, never raised one by one: a run reports every problem of every file, each at
its `FILE:LINE:COL`, in one `ValidationFailed`. Each file is read on its own (`fileread`, or its kept
read from the parse cache when its text is unchanged), then the reads are merged here in file order:
keys and ids declared twice, renames, references and nesting are checked across files. One pass
over each file and dict lookups throughout, so 100,000 users load in linear time.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path

from reconciler.config import Config
from reconciler.desired.fileread import Claim, FileRead, GroupItem, RoleItem, UserItem, read_file
from reconciler.desired.model import DesiredGroup, DesiredRole, DesiredState, DesiredUser, Kind
from reconciler.desired.parsecache import ParseCache
from reconciler.desired.references import (
    PendingRef,
    nested_microsoft_365_groups,
    nesting_cycles,
    resolve,
)
from reconciler.desired.roles import principal_problems
from reconciler.errors import EntraformError, Location, Problem, ValidationFailed
from reconciler.files import read_text


def load_desired(config: Config, cache: ParseCache | None = None) -> DesiredState:
    """Read and check the desired state; raise `ValidationFailed` carrying every problem. With `cache`,
    a file whose text is unchanged since a run kept its read is not parsed again."""
    collector = _Collector()
    with _frozen_after():
        for path, inside in _state_files(config.state_path):
            if inside:
                _read(path, collector, cache)
            else:
                # A link out of state_dir would put files no review of the repository sees into the plan.
                message = (
                    f"a symbolic link to {path.resolve().as_posix()}, outside the state directory; "
                    "keep desired-state files inside state_dir"
                )
                collector.problems.append(Problem(message, Location(path.as_posix(), 1, 1)))
        state = collector.finish()
    if cache is not None:
        if not collector.problems:
            cache.loaded()
        cache.prune()
    if collector.problems:
        raise ValidationFailed(collector.problems)
    return state


class Declared:
    """One user or group at a time, as `load_desired` would give it (`show`): from the kept reads alone
    when these very files merged without problems before (one user of 100,000 in a few hundredths of
    a second once the files are hashed), otherwise from a whole load, which keeps them for next time.
    A lookup raises what `load_desired` raises when the state does not load."""

    def __init__(self, config: Config, cache: ParseCache) -> None:
        self.config = config
        self.cache = cache
        self.state: DesiredState | None = None
        self.entries: list[Path] | None = None  # None: not known to load; load it whole
        self.lookup = lookup = ParseCache(cache.directory)
        entries: list[Path] = []
        try:
            for path, inside in _state_files(config.state_path):
                if not inside or path.suffix == ".yml":
                    return  # a file a load refuses
                if path.suffix == ".yaml":
                    entries.append(lookup.locate(path.as_posix(), read_text(path, "file")))
        except EntraformError:
            return  # the whole load says what is wrong
        if lookup.is_loaded():
            self.entries = entries

    def user(self, keys: tuple[str, ...]) -> DesiredUser | None:
        """The user declared under the first of `keys` (lower-cased) that one is."""
        found = self._find("user", keys)
        return found if isinstance(found, DesiredUser) else None

    def group(self, key: str) -> DesiredGroup | None:
        found = self._find("group", (key,))
        return found if isinstance(found, DesiredGroup) else None

    def _find(self, kind: Kind, keys: tuple[str, ...]) -> DesiredUser | DesiredGroup | None:
        if self.entries is not None and self.state is None:
            try:
                for key in keys:
                    for entry in self.entries:
                        found = self.lookup.find(entry, kind, key)
                        if found is not None:
                            return found
                return None
            except ValueError:
                pass  # an entry that cannot be used: read afresh
        if self.state is None:
            self.state = load_desired(self.config, self.cache)
        declared: dict[str, DesiredUser] | dict[str, DesiredGroup] = (
            self.state.users if kind == "user" else self.state.groups
        )
        return next((declared[key] for key in keys if key in declared), None)


def _state_files(root: Path) -> Iterator[tuple[Path, bool]]:
    """The files under `root` a load reads, in order, each with whether it is inside `root` (a
    symbolic link may point out of it)."""
    if root.exists() and not root.is_dir():
        raise EntraformError(f"{root}: the state directory is a file (state_dir in the config)")
    if not root.is_dir():
        raise EntraformError(f"{root}: the state directory does not exist (state_dir in the config)")
    inside = root.resolve()
    for path in sorted(path for path in root.rglob("*.y*ml") if not _hidden(path, root)):
        yield path, path.resolve().is_relative_to(inside)


def parse_cache(config: Config) -> ParseCache:
    """The parse cache beside the delta cache: `cache_dir/desired/`."""
    return ParseCache(config.path(config.cache_dir) / "desired")


def _read(path: Path, collector: _Collector, cache: ParseCache | None) -> None:
    name = path.as_posix()
    if path.suffix != ".yaml":
        if path.suffix == ".yml":
            message = "only *.yaml files are read; rename this file to .yaml"
            collector.problems.append(Problem(message, Location(name, 1, 1)))
        return
    collector.files.append(name)
    try:
        text = read_text(path, "file")
    except EntraformError as exc:  # unreadable, or not UTF-8: the other files are still read
        collector.problems.append(exc.problem)
        return
    if cache is None:
        collector.add(read_file(name, text))
        return
    entry = cache.locate(name, text)
    read = cache.get(entry, name)
    if read is None:
        read = read_file(name, text)
        del text  # 40 MB at 100,000 users, not needed to keep the read
        cache.put(entry, read)
    collector.add(read)


@contextmanager
def _frozen_after() -> Iterator[None]:
    """Loading makes millions of small objects that live on to the end of the run: they are frozen
    after, or the first full collection would walk them all (0.9 s at 100,000 users), as would every
    one after it. The collector is not paused meanwhile: the tenant is read while the YAML loads, and
    its garbage has to go as it is made (the CLI's collection threshold already spares the load)."""
    try:
        yield
    finally:
        gc.freeze()


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


class _Collector:
    """The merge of every file's read, in file order: what one file cannot know about the others."""

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

    def add(self, read: FileRead) -> None:
        self.problems.extend(read.problems)
        for user_item in read.users:
            twice = self._declared_twice("user", user_item.claim)
            if user_item.user is not None and not twice:
                self._add_user(user_item, user_item.user)
        for group_item in read.groups:
            twice = self._declared_twice("group", group_item.claim)
            if group_item.group is not None and not twice:
                self._add_group(group_item, group_item.group)
        for role_item in read.roles:
            self._add_role(role_item)

    def _declared_twice(self, kind: Kind, claim: Claim | None) -> bool:
        """Checked on the raw key, so a duplicate is found even when either copy has other problems."""
        if claim is None:
            return False
        seen = self.first_seen[kind]
        first = seen.get(claim.key)
        if first is None:
            seen[claim.key] = claim.at
            return False
        message = (
            f"{claim.label}: {kind} {claim.raw} is already declared at {first}; declare each {kind} once"
        )
        here = claim.at
        if here == first:  # the same mapping again: a YAML alias, whose marks are its anchor's
            here, message = claim.item_at, f"{message} (this item is a YAML alias of it)"
        self.problems.append(Problem(message, here))
        return True

    def _add_user(self, item: UserItem, user: DesiredUser) -> None:
        if user.manager is not None and item.manager_at is not None:
            self.refs.append(PendingRef("user", user.manager, item.manager_at, "manager"))
        self._pin(user.id, item.pin_at)
        self._renamed_from("user", user.key, user.renamed_from, item.renamed_at)
        self.users[user.key] = user

    def _add_group(self, item: GroupItem, group: DesiredGroup) -> None:
        if group.owners is not None:
            self.refs.extend(
                PendingRef("user", o, at, "owner") for o, at in zip(group.owners, item.owners_at, strict=True)
            )
        self._pin(group.id, item.pin_at)
        self._renamed_from("group", group.key, group.renamed_from, item.renamed_at)
        self.groups[group.key] = group

    def _add_role(self, item: RoleItem) -> None:
        role = item.role
        first = self.roles.get(role.key)
        if first is not None:
            message = (
                f"{item.path}: role {role.role} at directoryScopeId {role.directory_scope_id} is already "
                f"declared at {first.location}; declare each role once per scope"
            )
            self.problems.append(Problem(message, role.location))
            return
        self.roles[role.key] = role
        self.refs.extend(
            PendingRef(p.kind, p.key, p.location or role.location, "principal") for p in role.principals
        )

    def _pin(self, object_id: str | None, location: Location | None) -> None:
        if object_id is None or location is None:
            return
        first = self.ids.get(object_id)
        if first is not None:
            message = f"id: {object_id} is already pinned at {first}; an id belongs to one object"
            self.problems.append(Problem(message, location))
        self.ids.setdefault(object_id, location)

    def _renamed_from(
        self, kind: Kind, key: str, olds: tuple[str, ...], locations: tuple[Location, ...]
    ) -> None:
        for old, location in zip(olds, locations, strict=True):
            self.renamed[kind].setdefault(old, (key, location))

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
        # Members are looked up here rather than kept as references: there is one per membership.
        members = (
            PendingRef(kind, key, group.members.location(n) or group.location, "member")
            for group in self.groups.values()
            if group.members
            for n, (kind, key) in enumerate(group.members.pairs())
            if key not in declared[kind]
        )
        external, problems = resolve(chain(self.refs, members), declared, renamed)
        external.sort(key=lambda ref: ref.location)  # in the order written, whatever kind of reference
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
