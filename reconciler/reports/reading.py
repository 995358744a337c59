"""The read behind `report licenses`: what it needs and no more, in one pass over the users.

SKUs; every user with its licenses and last sign-in (`signInActivity` selected in the same pages, where
the app may read it: else the users are read again without it, and the sign-ins are unavailable); and
the groups that assign licenses, by name only. Which group a seat comes through is the user's own
`licenseAssignmentStates[].assignedByGroup`, so no group's members are read: on a big tenant those are
most of a full read (a licensing group of every employee is a hundred pages of members in a row).
"""

from __future__ import annotations

import asyncio

from reconciler.errors import GraphError
from reconciler.graph.client import GraphClient
from reconciler.graph.reads import PAGE_SIZE, Json, read_all
from reconciler.live import LiveState, LiveUser
from reconciler.live_read import (
    GROUPS_PATH,
    ORGANIZATION_PATH,
    SKUS_PATH,
    USER_SELECT,
    group_from_json,
    read_users_in_ranges,
    sku_from_json,
    user_from_json,
)
from reconciler.progress import ProgressDisplay
from reconciler.reports.signins import SignIns, last_sign_in

_USERS = f"/users?$top={PAGE_SIZE}&$select={USER_SELECT}"  # `,signInActivity` may follow


async def read_for_licenses(
    client: GraphClient, progress: ProgressDisplay | None = None
) -> tuple[LiveState, SignIns]:
    display = progress or ProgressDisplay(enabled=False)
    await client.get(ORGANIZATION_PATH)  # first alone, so the reads below share its token
    users: list[LiveUser] = []
    last: dict[str, str | None] = {}
    assigned_by: dict[str, set[str]] = {}  # group id -> users holding a license through it

    def take(page: list[Json]) -> None:
        for item in page:
            user = user_from_json(item)
            users.append(user)
            if "signInActivity" in item:
                last[user.id] = last_sign_in(item)
            for state in item.get("licenseAssignmentStates") or []:
                if state.get("assignedByGroup"):
                    assigned_by.setdefault(str(state["assignedByGroup"]), set()).add(user.id)

    async def read_users() -> bool:
        """Whether the sign-ins could be read with the users."""
        try:
            await read_users_in_ranges(client, f"{_USERS},signInActivity", take, display.task("users"))
            return True
        except GraphError as exc:
            if exc.status != 403:
                raise
        users.clear()
        assigned_by.clear()
        await read_users_in_ranges(client, _USERS, take, display.task("users"))
        return False

    skus, readable, listed = await asyncio.gather(
        read_all(client, SKUS_PATH), read_users(), read_all(client, GROUPS_PATH)
    )
    groups = [group_from_json(g) for g in listed if g.get("assignedLicenses")]
    for group in groups:
        group.member_user_ids = assigned_by.get(group.id, set())
    live = LiveState(tenant_id="")
    live.skus = {sku.sku_id: sku for sku in map(sku_from_json, skus)}
    live.users = {user.id: user for user in users}
    live.groups = {group.id: group for group in groups}
    return live, SignIns(last, available=readable)
