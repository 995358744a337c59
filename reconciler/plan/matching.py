"""Which live object each declared object is, and how references resolve (SPEC §3).

A declared object matches a live one by its pinned `id`, else by a `renamedFrom` key, else by its own
key (all keys lower-cased, so matching is case-insensitive); a guest whose key is its invited address
matches the live guest with that `mail`. Each live object matches at most once. A declared object that
matches none is looked for in `directory/deletedItems` the same ways (pin, then key): found there, it is
restored instead of created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from reconciler.config import Config
from reconciler.desired.model import DesiredState, DesiredUser
from reconciler.live import LiveGroup, LiveState, LiveUser
from reconciler.plan.model import Change, ObjectKind, ObjectRef, ends


class _Declared(Protocol):
    @property
    def id(self) -> str | None: ...

    @property
    def renamed_from(self) -> tuple[str, ...]: ...


class _Live(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def key(self) -> str: ...


_L = TypeVar("_L", bound=_Live)


def match_objects(declared: Mapping[str, _Declared], live: Mapping[str, _L]) -> dict[str, _L | None]:
    """Desired key → the live object it is, or None when it is to be created."""
    by_key = {obj.key: obj for obj in live.values()}
    result: dict[str, _L | None] = {}
    claimed: set[str] = set()
    keys = sorted(declared)
    # Pins first, so that a pinned object is never taken by another declaration's key or old key.
    for key in keys:
        pinned = declared[key].id
        if pinned is not None and pinned in live:
            result[key] = live[pinned]
            claimed.add(pinned)
    for key in keys:
        if key in result:
            continue
        # A pinned id that is gone from the tenant falls back to the key: the next plan then converges.
        found = None
        for old in (*(old.lower() for old in declared[key].renamed_from), key):
            candidate = by_key.get(old)
            if candidate is not None and candidate.id not in claimed:
                found = candidate
                break
        result[key] = found
        if found is not None:
            claimed.add(found.id)
    return result


def match_guests(
    declared: Mapping[str, DesiredUser], live: LiveState, users: dict[str, LiveUser | None]
) -> None:
    """Guests not matched yet, by their invited address: the `mail` Graph gives the guest it invites."""
    claimed = {u.id for u in users.values() if u is not None}
    by_mail = {
        u.mail.lower(): u
        for u in live.users.values()
        if u.mail and u.attrs.get("userType") == "Guest" and u.id not in claimed
    }
    for key in sorted(declared):
        invitation = declared[key].invitation
        if users.get(key) is None and invitation is not None:
            found = by_mail.pop(invitation.email.lower(), None)
            if found is not None:
                users[key] = found


def match_deleted(
    declared: Mapping[str, _Declared], deleted: Mapping[str, _L], matched: Mapping[str, object]
) -> dict[str, _L]:
    """Declared objects matching no live one, found in deletedItems by pinned id, else by key."""
    by_key = {obj.key: obj for obj in sorted(deleted.values(), key=lambda o: o.id)}
    found: dict[str, _L] = {}
    for key in sorted(declared):
        if matched.get(key) is not None:
            continue
        pinned = declared[key].id
        obj = deleted.get(pinned) if pinned is not None else None
        obj = obj or by_key.get(key)
        if obj is not None and obj.id not in {o.id for o in found.values()}:
            found[key] = obj
    return found


def unmatched(desired: DesiredState, live: LiveState) -> tuple[bool, bool]:
    """(a declared user, a declared group) matches no live object: deletedItems are worth reading."""
    users = match_objects(desired.users, live.users)
    match_guests(desired.users, live, users)
    groups = match_objects(desired.groups, live.groups)
    return None in users.values(), None in groups.values()


@dataclass
class Index:
    """Everything the diff looks up repeatedly, built once."""

    desired: DesiredState
    live: LiveState
    config: Config
    users: dict[str, LiveUser | None]
    groups: dict[str, LiveGroup | None]
    protected: frozenset[str]  # lower-cased UPNs and mailNicknames of `scope.protected`
    protected_ids: frozenset[str]  # live objects holding one of those keys (protected across a rename)
    declared_user_keys: dict[str, str]  # live id → desired key
    declared_group_keys: dict[str, str]
    deleted_users: dict[str, LiveUser]  # desired key → the deleted user it restores
    deleted_groups: dict[str, LiveGroup]
    # Every key `user`/`group` knows → its id (None: to be created); the diff looks up a million
    # members at 100,000 users by these, without making a ref for each.
    user_ids: dict[str, str | None]
    group_ids: dict[str, str | None]

    @classmethod
    def build(cls, desired: DesiredState, live: LiveState, config: Config) -> Index:
        users = match_objects(desired.users, live.users)
        match_guests(desired.users, live, users)
        groups = match_objects(desired.groups, live.groups)
        protected = frozenset(p.lower() for p in config.scope.protected)
        live_objects: list[LiveUser | LiveGroup] = [*live.users.values(), *live.groups.values()]
        deleted_users = match_deleted(desired.users, live.deleted_users, users)
        deleted_groups = match_deleted(desired.groups, live.deleted_groups, groups)
        return cls(
            desired=desired,
            live=live,
            config=config,
            users=users,
            groups=groups,
            protected=protected,
            protected_ids=frozenset(o.id for o in live_objects if o.key in protected),
            declared_user_keys={u.id: key for key, u in users.items() if u is not None},
            declared_group_keys={g.id: key for key, g in groups.items() if g is not None},
            deleted_users=deleted_users,
            deleted_groups=deleted_groups,
            user_ids=_ids(users, deleted_users, live.user_by_upn()),
            group_ids=_ids(groups, deleted_groups, live.group_by_nickname()),
        )

    def user(self, key: str) -> ObjectRef | None:
        """A user by UPN: declared (matched, or to be created: no id) or live only; None when neither."""
        return ObjectRef("user", key, self.user_ids[key]) if key in self.user_ids else None

    def group(self, key: str) -> ObjectRef | None:
        return ObjectRef("group", key, self.group_ids[key]) if key in self.group_ids else None

    def live_user(self, user_id: str) -> ObjectRef:
        """A live user by id, under the key the plan uses for it (its declared key across a rename)."""
        return ObjectRef("user", self.user_key_of(user_id), user_id)

    def live_group(self, group_id: str) -> ObjectRef:
        return ObjectRef("group", self.group_key_of(group_id), group_id)

    def user_key_of(self, user_id: str) -> str:
        """The key a plan uses for a live user: its declared key when declared (renames), else its UPN."""
        return self.declared_user_keys.get(user_id) or _live_key(self.live.users.get(user_id), user_id)

    def group_key_of(self, group_id: str) -> str:
        return self.declared_group_keys.get(group_id) or _live_key(self.live.groups.get(group_id), group_id)

    def protected_end(self, change: Change) -> str | None:
        """The protected principal a change touches, by key or (across a rename) by id, or None."""
        touched = ends(change)
        for end in touched:
            if end.key in self.protected:
                return end.key
        for end in touched:
            if end.id is not None and end.id in self.protected_ids:
                found = self.live.users.get(end.id) or self.live.groups.get(end.id)
                return found.key if found else end.id
        return None


def _live_key(obj: LiveUser | LiveGroup | None, fallback: str) -> str:
    # An edge to an object the read did not return (deleted meanwhile) is named by its id.
    return obj.key if obj is not None else fallback


@dataclass(frozen=True)
class Draft:
    """A change before numbering: `needs` names the creates (kind, key) it must wait for."""

    change: Change
    needs: tuple[tuple[ObjectKind, str], ...] = ()


def needs_of(*refs: ObjectRef) -> tuple[tuple[ObjectKind, str], ...]:
    """The creates an edge between `refs` waits for: those of its ends that do not exist yet."""
    return tuple((ref.kind, ref.key) for ref in refs if ref.id is None)


def _ids(
    matched: Mapping[str, LiveUser | LiveGroup | None],
    deleted: Mapping[str, LiveUser | LiveGroup],
    live_by_key: Mapping[str, LiveUser | LiveGroup],
) -> dict[str, str | None]:
    """What `Index.user`/`group` answers for each key: declared (matched, restored or to be created) over
    live only."""
    ids: dict[str, str | None] = {key: obj.id for key, obj in live_by_key.items()}
    for key, obj in matched.items():
        found = obj or deleted.get(key)
        ids[key] = found.id if found else None
    return ids
