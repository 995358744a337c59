"""Making a plan end to end: load the YAML, read the tenant, diff, pre-flight, narrow to `--target`s.

Shared by `plan`, `drift` and `apply` (which plans when given no file, and re-plans for the stale check).
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.config import Config
from reconciler.desired.model import DesiredState
from reconciler.errors import EntraformError, PlanError
from reconciler.live import LiveState, RolesToRead
from reconciler.plan.model import Plan
from reconciler.plan.targets import Target
from reconciler.progress import ProgressDisplay

if TYPE_CHECKING:
    from reconciler.graph.client import GraphClient

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
    loading: Future[DesiredState] | None = None,
) -> LiveState:
    """The live tenant, read through a client opened and closed here; `roles` as `read_live` takes them.

    `cached` reads through the delta cache (plan and drift); `apply` and `import` read fresh.
    `loading`: the desired state, loaded in another thread while the tenant is read (parsing is CPU, a
    read mostly waits on Graph); a problem in it is raised before any the read met. Once it is loaded,
    the roles it declares are read, and the deleted users or groups when a declared one matches no live
    object (always fresh: a restore is decided on them), so that a tenant in step costs no extra request.
    An employeeLeaveDateTime declared, which Graph shows only an app with a lifecycle permission, is
    refused for an app-only token without one, not planned from a tenant that seems to hold none."""
    from reconciler.graph.connect import open_client

    client = open_client(config, read_only=read_only)
    try:
        read = asyncio.ensure_future(_read(client, progress, roles, cached, config))
        if loading is None:
            return await read
        try:
            desired = await asyncio.wrap_future(loading)
        except BaseException:
            read.cancel()
            await asyncio.gather(read, return_exceptions=True)
            raise
        live = await read
        await _read_declared(client, desired, live)
        return live
    finally:
        await client.aclose()


async def _read(
    client: GraphClient, progress: ProgressDisplay | None, roles: RolesToRead, cached: bool, config: Config
) -> LiveState:
    from reconciler.live_read import read_live

    if not cached:
        return await read_live(client, progress, roles)
    from reconciler import cache
    from reconciler.live_delta import QUERY_SHAPE, read_live_cached

    app = config.auth.client_id or ("reader" if config.is_local else config.auth.method)
    path = cache.cache_file(config.path(config.cache_dir), config.tenant, app, QUERY_SHAPE)
    return await read_live_cached(client, path, progress, roles)


async def _read_declared(client: GraphClient, desired: DesiredState, live: LiveState) -> None:
    """What only the desired state says to read: the roles it declares, the deleted objects it may
    restore; and the check of the app's permission to read the leave dates it declares."""
    from reconciler.graph.client import token_roles
    from reconciler.live_read import read_deleted, read_roles
    from reconciler.plan.matching import unmatched

    leave_date_at = next(
        (user.location for user in desired.users.values() if "employeeLeaveDateTime" in user.attrs), None
    )
    granted = token_roles(await client.token_claims()) if leave_date_at is not None else None
    if granted is not None and not granted & LIFECYCLE_READ:
        raise EntraformError(
            "the app lacks User-LifeCycleInfo.Read.All: Graph shows it no employeeLeaveDateTime, so "
            "the one declared here cannot be compared; grant it to the app and give admin consent",
            leave_date_at,
        )
    roles = [role.role for role in desired.roles.values()]
    if roles:
        definitions, assignments = await read_roles(client, roles)
        live.role_definitions = {d.id: d for d in definitions}
        live.role_assignments = {a.id: a for a in assignments}
    users, groups = unmatched(desired, live)
    if users or groups:
        await read_deleted(client, live, users, groups)


# While the YAML loads beside the read, the loading thread gives the interpreter lock up this often
# instead of every 5 ms: each time a response arrives the read waits that long for it.
SWITCH_INTERVAL_S = 0.0005


def _in_thread(load: Callable[[], T]) -> Future[T]:
    """`load()` run in a daemon thread: on Ctrl-C the process ends at once, not after a 25 s parse (its
    cache writes are atomic renames, so one cut short leaves nothing half-written)."""
    result: Future[T] = Future()

    def run() -> None:
        interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        try:
            value = load()
        except BaseException as exc:  # handed to whoever waits for the result
            sys.setswitchinterval(interval)  # before the waiter wakes
            result.set_exception(exc)
        else:
            sys.setswitchinterval(interval)
            result.set_result(value)

    threading.Thread(target=run, name="entraform-yaml", daemon=True).start()
    return result


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

    loading = _in_thread(lambda: load_desired(config, parse_cache(config) if cached else None))
    try:
        live = run_sync(read_tenant(config, progress, cached=cached, loading=loading))
    except EntraformError:
        loading.result()  # a problem in the YAML is said first, whatever the read met
        raise
    desired = loading.result()
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
