"""Warm reads: the cached snapshot brought up to date by `users/delta` and `groups/delta` rounds.

A cold read is the full read (`live_read`) plus a `users/delta?$deltatoken=latest` link taken just
before it, so that nothing changed during the read is missed (a change seen twice is harmless: delta
answers carry current values). A warm read follows the two delta links, merges what changed into the
snapshot and reads fresh what delta does not track: the organization, SKUs (seats move with every
license) and directory roles. An expired or refused link (410, a resync required) falls back
to a full read. `apply` never reads through here: it plans on a fresh read.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reconciler import cache
from reconciler.errors import GraphError
from reconciler.graph.client import GraphClient
from reconciler.graph.reads import DeltaRound, Json, read_all
from reconciler.live import LiveState, LiveUser, RolesToRead
from reconciler.live_read import (
    GROUPS_DELTA_PATH,
    ORGANIZATION_PATH,
    SKUS_PATH,
    USER_SELECT,
    DeltaGroups,
    latest_delta_link,
    organization_into,
    read_roles,
    read_snapshot,
    sku_from_json,
    user_from_json,
)
from reconciler.progress import ProgressDisplay

USERS_DELTA_PATH = f"/users/delta?$select={USER_SELECT},manager"
QUERY_SHAPE = f"{USERS_DELTA_PATH}|{GROUPS_DELTA_PATH}"
REFRESH_UNCHANGED = timedelta(days=1)  # a cache whose delta rounds found nothing is rewritten this often


class _Resync(Exception):
    """Graph refused a delta link: the snapshot must be read again in full."""


async def read_live_cached(
    client: GraphClient, path: Path, progress: ProgressDisplay | None = None, roles: RolesToRead = ()
) -> LiveState:
    now = datetime.now(UTC)
    # The token is fetched while the snapshot decodes in a thread: at a 200 ms round trip, a few tenths
    # of a second of a warm run.
    token = asyncio.ensure_future(client.token_claims())
    try:
        snapshot = await asyncio.to_thread(cache.load, path, now)
    finally:
        await token
    if snapshot is not None:
        try:
            live, links, changed = await _warm(client, snapshot, roles)
        except _Resync:
            pass
        else:
            # Nothing changed: the links read are as good as the new ones, and rewriting a large
            # snapshot costs more than the whole warm read. Refreshed daily, so they never near expiry.
            if changed or now - datetime.fromisoformat(snapshot.taken_at) > REFRESH_UNCHANGED:
                snapshot.users_link, snapshot.groups_link = links
                snapshot.taken_at = cache.now_text(now)
                cache.save(path, snapshot)
            return live
    users_link = await latest_delta_link(client, USERS_DELTA_PATH)
    live, groups_link = await read_snapshot(client, progress, roles)
    cache.save(path, cache.Snapshot(live.users, live.groups, users_link, groups_link, cache.now_text(now)))
    return live


async def _warm(
    client: GraphClient, snapshot: cache.Snapshot, roles: RolesToRead
) -> tuple[LiveState, tuple[str, str], bool]:
    """The state brought up to date, the new delta links, and whether either round changed anything."""
    organization = await client.get(ORGANIZATION_PATH)
    try:
        skus, (users_link, users_changed), (groups_link, groups_changed), roles_read = await asyncio.gather(
            read_all(client, SKUS_PATH),
            _follow_users(client, snapshot),
            _follow_groups(client, snapshot),
            read_roles(client, roles),
        )
    except GraphError as exc:
        if exc.status == 410 or "syncstate" in exc.code.lower() or "resync" in exc.code.lower():
            raise _Resync from None
        raise
    definitions, assignments = roles_read
    if users_changed or groups_changed:  # else the snapshot is as consistent as when it was saved
        _forget_deleted(snapshot)
    live = LiveState(tenant_id="", users=snapshot.users, groups=snapshot.groups)
    organization_into(live, organization)
    live.skus = {sku.sku_id: sku for sku in map(sku_from_json, skus)}
    live.role_definitions = {d.id: d for d in definitions}
    live.role_assignments = {a.id: a for a in assignments}
    return live, (users_link, groups_link), users_changed or groups_changed


def _forget_deleted(snapshot: cache.Snapshot) -> None:
    """Edges to objects a round removed: a deleted user or group leaves its groups and its reports
    with it, whether or not the other side's delta says so."""
    users, groups = snapshot.users, snapshot.groups
    for group in groups.values():  # tested first: intersecting every set rebuilt them all (0.7 s at 100k)
        if not group.member_user_ids <= users.keys():
            group.member_user_ids &= users.keys()
        if not group.member_group_ids <= groups.keys():
            group.member_group_ids &= groups.keys()
        if not group.owner_ids <= users.keys():
            group.owner_ids &= users.keys()
    for user in users.values():
        if user.manager_id is not None and user.manager_id not in users:
            user.manager_id = None


async def _follow_users(client: GraphClient, snapshot: cache.Snapshot) -> tuple[str, bool]:
    round_ = DeltaRound(client, snapshot.users_link)
    changed = False
    async for page in round_.pages():
        merge_users(snapshot.users, page)
        changed = changed or bool(page)
    return round_.delta_link or snapshot.users_link, changed


async def _follow_groups(client: GraphClient, snapshot: cache.Snapshot) -> tuple[str, bool]:
    merged = DeltaGroups(snapshot.groups)
    round_ = DeltaRound(client, snapshot.groups_link)
    changed = False
    async for page in round_.pages():
        merged.add(page)
        changed = changed or bool(page)
    return round_.delta_link or snapshot.groups_link, changed


def merge_users(users: dict[str, LiveUser], items: list[Json]) -> None:
    """Changed users carry their selected properties with current values (Graph docs: user-delta); the
    manager comes as `manager@delta` when it changed, and is kept otherwise."""
    for item in items:
        if "@removed" in item:
            users.pop(item["id"], None)
            continue
        old = users.get(item["id"])
        user = user_from_json(item)
        user.manager_id = old.manager_id if old is not None else None
        for manager in item.get("manager@delta") or []:
            user.manager_id = None if "@removed" in manager else manager.get("id")
        users[user.id] = user
