"""The delta cache (SPEC §4.1): the last snapshot of the tenant and the delta links to bring it up to date.

One file per tenant, app and query shape in `cache_dir` (default `.entraform/cache/`), written whole or
not at all. A file that is damaged, from another format, for other queries or older than a delta token
lives (7 days, Graph docs: delta-query-overview) is not used: the next read is a full one. What is
cached: users (attributes, manager, licenses) and groups (attributes, members, owners, licenses), which
delta tracks. What is not: the organization, SKUs and directory roles, read fresh every time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from sys import intern
from typing import Any

import msgspec

from reconciler.files import make_directory, write_bytes
from reconciler.live import LiveGroup, LiveLicense, LiveUser, license_of

# 2: groups carry their owners (groups/delta tracks them); 3: MessagePack, not zlib'd JSON (a 100,000-user
# snapshot loads in 1 s instead of 2.6 s and saves in a tenth of the time; actions/cache compresses it)
FORMAT = 3
TOKEN_LIFETIME = timedelta(days=7)


@dataclass
class Snapshot:
    users: dict[str, LiveUser]
    groups: dict[str, LiveGroup]
    users_link: str
    groups_link: str
    taken_at: str  # when the links were first taken: they expire TOKEN_LIFETIME after


def cache_file(cache_dir: Path, tenant: str, app: str, query: str) -> Path:
    """The file of one tenant, app and shape of the delta queries (their `$select`s)."""
    digest = hashlib.sha256(f"{FORMAT}|{tenant}|{app}|{query}".encode()).hexdigest()[:24]
    return cache_dir / f"snapshot-{digest}.msgpack"


def load(path: Path, now: datetime) -> Snapshot | None:
    try:
        data = msgspec.msgpack.decode(path.read_bytes())
        taken = datetime.fromisoformat(str(data["taken_at"]))
        if data["format"] != FORMAT or now - taken > TOKEN_LIFETIME - timedelta(hours=1):
            return None
        return Snapshot(
            users={user.id: user for user in map(_user, _drained(data["users"]))},
            groups={group.id: group for group in map(_group, _drained(data["groups"]))},
            users_link=str(data["users_link"]),
            groups_link=str(data["groups_link"]),
            taken_at=str(data["taken_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError, msgspec.DecodeError):
        return None  # no cache, or one not to trust: read in full


def _drained(rows: list[Any]) -> Iterator[Any]:
    """The rows in order, each let go once taken: a group's member ids are interned to the users' own,
    so their decoded copies (85 MB at 1,000,000 memberships) go as each group is made, not at the end."""
    rows.reverse()
    while rows:
        yield rows.pop()


def save(path: Path, snapshot: Snapshot) -> None:
    body = {
        "format": FORMAT,
        "taken_at": snapshot.taken_at,
        "users_link": snapshot.users_link,
        "groups_link": snapshot.groups_link,
        "users": [_user_row(u) for u in snapshot.users.values()],
        "groups": [_group_row(g) for g in snapshot.groups.values()],
    }
    data = msgspec.msgpack.encode(body)
    make_directory(path.parent)
    write_bytes(path, data, "delta cache")


def now_text(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).isoformat(timespec="seconds")


def _licenses_row(licenses: dict[str, LiveLicense]) -> dict[str, list[str]]:
    return {sku: sorted(lic.disabled_plans) for sku, lic in licenses.items()}


def _user_row(u: LiveUser) -> list[Any]:
    return [
        u.id,
        u.upn,
        u.attrs,
        u.manager_id,
        u.on_premises_sync,
        _licenses_row(u.direct_licenses),
        sorted(u.inherited_sku_ids),
    ]


# Ids are interned: a user's id, its manager's and its memberships are then one string, not a million
# copies (85 MB at 100,000 users).


def _licenses(row: dict[str, list[str]]) -> dict[str, LiveLicense]:
    return {sku: license_of(sku, frozenset(plans)) for sku, plans in row.items()}


def _user(row: list[Any]) -> LiveUser:
    manager = None if row[3] is None else intern(row[3])
    return LiveUser(
        intern(row[0]), row[1], row[2], manager, bool(row[4]), _licenses(row[5]), frozenset(row[6])
    )


def _group_row(g: LiveGroup) -> list[Any]:
    return [
        g.id,
        g.mail_nickname,
        g.attrs,
        sorted(g.member_user_ids),
        sorted(g.member_group_ids),
        _licenses_row(g.licenses),
        g.on_premises_sync,
        sorted(g.owner_ids),
    ]


def _group(row: list[Any]) -> LiveGroup:
    return LiveGroup(
        intern(row[0]),
        row[1],
        row[2],
        set(map(intern, row[3])),
        set(map(intern, row[4])),
        set(map(intern, row[7])),
        _licenses(row[5]),
        bool(row[6]),
    )
