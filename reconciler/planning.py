"""Making a plan end to end: load the YAML, read the tenant, diff, pre-flight, narrow to `--target`s.

Shared by `plan`, `drift` and `apply` (which plans when given no file, and re-plans for the stale check).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from reconciler.config import Config
from reconciler.desired.model import DesiredState
from reconciler.errors import EntraformError, Location, PlanError
from reconciler.live import LiveState, RolesToRead
from reconciler.plan.model import Plan
from reconciler.plan.targets import Target
from reconciler.progress import ProgressDisplay

T = TypeVar("T")
# What lets an app read employeeLeaveDateTime; no broader permission does (Graph docs: resources/user).
LIFECYCLE_READ = frozenset({"User-LifeCycleInfo.Read.All", "User-LifeCycleInfo.ReadWrite.All"})


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run`, without handing the result back as the main task's.

    Python 3.11's `asyncio.run` restores its SIGINT handler through `signal.signal`, which formats the
    old handler (holding the main task) with `repr`, result included: for a 10,000-user `LiveState`
    that is half a second of repr thrown away.
    """
    box: list[T] = []

    async def main() -> None:
        box.append(await coroutine)

    asyncio.run(main())
    return box[0]


async def read_tenant(
    config: Config,
    progress: ProgressDisplay | None = None,
    read_only: bool = True,
    roles: RolesToRead = (),
    cached: bool = False,
    leave_date_at: Location | None = None,
    desired: DesiredState | None = None,
) -> LiveState:
    """The live tenant, read through a client opened and closed here; `roles` as `read_live` takes them.

    `cached` reads through the delta cache (plan and drift); `apply` and `import` read fresh.
    `leave_date_at`: where the YAML declares an employeeLeaveDateTime, which Graph shows only an app with
    a lifecycle permission; an app-only token without one is refused before the read, not planned from
    a tenant that seems to hold no leave dates. With `desired`, the deleted users or groups are read too
    when a declared one matches no live object (always fresh: a restore is decided on them), so that a
    tenant in step costs no extra request."""
    from reconciler.graph.client import token_roles
    from reconciler.graph.connect import open_client
    from reconciler.live_read import read_deleted, read_live
    from reconciler.plan.matching import unmatched

    client = open_client(config, read_only=read_only)
    try:
        granted = token_roles(await client.token_claims()) if leave_date_at is not None else None
        if granted is not None and not granted & LIFECYCLE_READ:
            raise EntraformError(
                "the app lacks User-LifeCycleInfo.Read.All: Graph shows it no employeeLeaveDateTime, so "
                "the one declared here cannot be compared; grant it to the app and give admin consent",
                leave_date_at,
            )
        if not cached:
            live = await read_live(client, progress, roles)
        else:
            from reconciler import cache
            from reconciler.live_delta import QUERY_SHAPE, read_live_cached

            app = config.auth.client_id or ("reader" if config.is_local else config.auth.method)
            path = cache.cache_file(config.path(config.cache_dir), config.tenant, app, QUERY_SHAPE)
            live = await read_live_cached(client, path, progress, roles)
        if desired is not None:
            users, groups = unmatched(desired, live)
            if users or groups:
                await read_deleted(client, live, users, groups)
        return live
    finally:
        await client.aclose()


@dataclass
class Planned:
    desired: DesiredState
    live: LiveState
    plan: Plan


def make_plan(
    config: Config, targets: list[Target], progress: ProgressDisplay | None = None, cached: bool = False
) -> Planned:
    """Load, read, diff and pre-flight (the YAML through the parse cache and the tenant through the
    delta cache when `cached`); raise `PlanError` naming every pre-flight problem."""
    from reconciler.desired.loader import load_desired, parse_cache
    from reconciler.plan.diff import diff
    from reconciler.plan.effects import plan_effects
    from reconciler.plan.preflight import preflight
    from reconciler.plan.targets import check_targets, narrow

    desired = load_desired(config, parse_cache(config) if cached else None)
    roles = [role.role for role in desired.roles.values()]
    leave_date_at = next(
        (user.location for user in desired.users.values() if "employeeLeaveDateTime" in user.attrs), None
    )
    live = run_sync(
        read_tenant(
            config, progress, roles=roles, cached=cached, leave_date_at=leave_date_at, desired=desired
        )
    )
    check_targets(targets, desired, live)
    plan = diff(desired, live, config)
    plan.created_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    problems = preflight(plan, desired, live)
    if problems:
        raise PlanError(f"the plan cannot be applied: {len(problems)} pre-flight problem(s)", problems)
    if not targets:
        return Planned(desired, live, plan)
    narrowed = narrow(plan, targets)
    narrowed.effects = plan_effects(narrowed, live)  # what the narrowed plan alone brings
    return Planned(desired, live, narrowed)
