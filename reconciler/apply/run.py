"""`entraform apply`: make or check the plan, refuse what must not run, carry it out, sum it up (SPEC §4–5).

A saved plan is applied only if a fresh plan of the same inputs has exactly its changes (the stale
check), and an unsafe plan only with `--force`. Execution opens the writer client, runs the scheduler
with Ctrl-C wired to a clean stop (requests in flight finish, the journal stays whole), and returns
what became of every change.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reconciler.apply.journal import Journal, recent_creates
from reconciler.apply.operations import Ids, group_units
from reconciler.apply.pacing import WritePacer
from reconciler.apply.passwords import PasswordFile
from reconciler.apply.permissions import missing_permissions
from reconciler.apply.scheduler import DEFAULT_PARALLELISM, LAG_BUDGET_S, Result, Scheduler
from reconciler.config import Config
from reconciler.errors import PlanError, Problem
from reconciler.live import LiveState
from reconciler.plan.describe import describe
from reconciler.plan.model import Create, Kind, Plan
from reconciler.plan.targets import Target
from reconciler.planning import Planned, make_plan
from reconciler.progress import ProgressDisplay

KINDS: tuple[Kind, ...] = ("user", "group", "membership", "owner", "manager", "license", "role")


@dataclass(frozen=True)
class ApplyOptions:
    journal: Path
    initial_passwords: Path | None = None
    parallelism: int = DEFAULT_PARALLELISM


def checked_plan(config: Config, plan_file: str | None, progress: ProgressDisplay | None = None) -> Planned:
    """A fresh plan; with a saved plan file, only if the fresh one has exactly its changes."""
    from reconciler.plan import planfile

    saved = planfile.load(plan_file) if plan_file else None
    # A plan saved with --target is compared with a fresh plan narrowed the same way.
    targets = [Target.parse(t) for t in saved.targets] if saved else []
    planned = make_plan(config, targets, progress)
    if saved is not None:
        if saved.tenant != planned.plan.tenant:
            raise PlanError(
                f"{plan_file}: the plan was made for tenant {saved.tenant}, but the config reaches tenant "
                f"{planned.plan.tenant}; make the plan against this tenant"
            )
        moved = planfile.compare(saved, planned.plan)
        if moved and not planned.plan.changes:
            raise PlanError(
                f"{plan_file}: the tenant already matches the desired state: this plan was applied "
                "already, or its changes were made another way; nothing to do"
            )
        if moved:
            raise PlanError(
                f"{plan_file}: the plan is stale: the tenant or the desired state changed since it was made; "
                "run `entraform plan --out` again and review the new plan",
                [Problem(f"{plan_file}: {line}") for line in moved],
            )
    return planned


def refuse_unsafe(plan: Plan, force: bool) -> None:
    """An unsafe plan needs --force; protected principals stay untouched even then (they are no change)."""
    if plan.unsafe and not force:
        raise PlanError(
            f"the plan is unsafe ({len(plan.unsafe)} item(s)); review it, then apply with --force",
            [Problem(f"unsafe: {item.message}") for item in plan.unsafe],
        )


def execute(
    config: Config,
    plan: Plan,
    live: LiveState,
    options: ApplyOptions,
    on_progress: Callable[[int], None] | None = None,
) -> Result:
    return asyncio.run(_execute(config, plan, live, options, on_progress))


async def _execute(
    config: Config,
    plan: Plan,
    live: LiveState,
    options: ApplyOptions,
    on_progress: Callable[[int], None] | None,
) -> Result:
    from reconciler.graph.client import token_app, token_roles
    from reconciler.graph.connect import open_client

    ids = Ids(
        users={u.key: u.id for u in live.users.values()},
        groups={g.key: g.id for g in live.groups.values()},
    )
    client = open_client(config, read_only=False)
    stop = asyncio.Event()
    _on_first_interrupt(stop)
    try:
        claims = await client.token_claims()
        granted = token_roles(claims)
        lacking = missing_permissions(plan, granted) if granted is not None else []
        if lacking:
            raise PlanError(
                f"the app lacks {len(lacking)} application permission(s) this plan needs; nothing was "
                "written: grant them to the app registration and give admin consent",
                [Problem(f"missing permission: {line}") for line in lacking],
            )
        since = datetime.now(UTC) - timedelta(seconds=LAG_BUDGET_S)
        recent = recent_creates(options.journal, plan.tenant, since)
        with contextlib.ExitStack() as files:
            journal = files.enter_context(Journal(options.journal, plan.tenant, token_app(claims)))
            passwords = (
                files.enter_context(PasswordFile(options.initial_passwords))
                if options.initial_passwords
                else None
            )
            scheduler = Scheduler(
                group_units(plan.changes),
                client,
                ids,
                graph_url=client.base_url,
                journal=journal,
                passwords=passwords,
                pacer=WritePacer(),
                parallelism=options.parallelism,
                retry=client.retry,
                on_progress=on_progress,
                recently_created=recent,
            )
            return await scheduler.run(stop)
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)
        await client.aclose()


def record_applied(planned: Planned, result: Result, options: ApplyOptions) -> None:
    """Keep what git said at this apply, and the ids of the declared objects, beside the journal: for
    drift to tell YAML edits not applied since from changes made in the tenant, and to find deletions."""
    from reconciler.applied import Applied, applied_path, write_applied
    from reconciler.plan.digest import object_fingerprints

    prints = object_fingerprints(planned.desired, planned.live)
    ids = {f"user:{u.key}": u.id for u in planned.live.users.values() if u.key in planned.desired.users}
    ids |= {f"group:{g.key}": g.id for g in planned.live.groups.values() if g.key in planned.desired.groups}
    for change in planned.plan.changes:
        if isinstance(change, Create) and change.id in result.created_ids:
            ids[f"{change.kind}:{change.subject.key}"] = result.created_ids[change.id]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    write_applied(
        applied_path(options.journal), Applied(planned.plan.tenant, now, prints, dict(sorted(ids.items())))
    )


def _on_first_interrupt(stop: asyncio.Event) -> None:
    """The first Ctrl-C stops cleanly (requests in flight finish); a second one interrupts at once."""
    loop = asyncio.get_running_loop()

    def first() -> None:
        stop.set()
        loop.remove_signal_handler(signal.SIGINT)

    with contextlib.suppress(NotImplementedError, RuntimeError):  # no signal handlers on this platform
        loop.add_signal_handler(signal.SIGINT, first)


def summary_lines(plan: Plan, result: Result) -> list[str]:
    """The final summary: totals, then applied / skipped / failed per kind."""
    per_kind: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    for change in plan.changes:
        per_kind[change.kind][_bucket(result.outcome.get(change.id))] += 1
    totals: Counter[str] = sum(per_kind.values(), Counter())
    head = "Apply interrupted" if result.interrupted else "Apply complete"
    lines = [
        f"{head}: " + ", ".join(f"{totals[b]} {b}" for b in ("applied", "skipped", "failed", "not started"))
    ]
    for kind, counts in per_kind.items():
        if counts:
            parts = [f"{counts[b]} {b}" for b in ("applied", "skipped", "failed", "not started") if counts[b]]
            lines.append(f"  {kind:<11} {', '.join(parts)}")
    return lines


def problems_of(plan: Plan, result: Result) -> tuple[list[Problem], list[Problem]]:
    """(failures with Graph's code and message, skipped changes with the reason), in plan order."""
    failed: list[Problem] = []
    skipped: list[Problem] = []
    for change in plan.changes:
        outcome = result.outcome.get(change.id)
        if outcome == "failed":
            failed.append(
                Problem(f"{change.id} {describe(change)}: {result.errors.get(change.id, 'failed')}")
            )
        elif outcome == "skipped":
            skipped.append(Problem(f"{change.id} {describe(change)}: {result.errors.get(change.id)}"))
    return failed, skipped


def _bucket(outcome: str | None) -> str:
    if outcome in ("applied", "already"):
        return "applied"
    return outcome or "not started"
