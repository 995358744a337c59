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
from reconciler.errors import EntraformError, PlanError
from reconciler.live import LiveState
from reconciler.plan.model import Change, Plan
from reconciler.progress import ProgressDisplay

TARGET_KINDS = ("user", "group")
T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """`--target KIND:KEY`: a user by UPN or a group by mailNickname (case-insensitive)."""

    kind: str
    key: str

    @classmethod
    def parse(cls, text: str) -> Target:
        kind, sep, key = text.partition(":")
        if not sep or kind not in TARGET_KINDS or not key.strip():
            raise EntraformError(
                f"--target {text!r}: write KIND:KEY with KIND user or group, "
                "e.g. user:ada@contoso.example or group:grp-engineering"
            )
        return cls(kind, key.strip().lower())

    def touches(self, change: Change) -> bool:
        """The change is about this object: the object itself, or an edge (member, owner, manager,
        license) with this object at either end."""
        if self.kind == "user":
            ends = [change.user, change.member, change.owner, change.manager]
            ends.append(change.key if change.kind in ("user", "manager") else None)
        else:
            ends = [change.group, change.key if change.kind == "group" else None]
            if change.member is not None and change.member.lower() == f"group:{self.key}":
                return True
        return any(end is not None and end.lower() == self.key for end in ends)


def narrow(plan: Plan, targets: list[Target]) -> Plan:
    """Only the changes touching a target, plus the changes they depend on; ids are kept."""
    if not targets:
        return plan
    by_id = {c.id: c for c in plan.changes}
    keep = {c.id for c in plan.changes if any(t.touches(c) for t in targets)}
    todo = list(keep)
    while todo:
        for dep in by_id[todo.pop()].depends_on:
            if dep in by_id and dep not in keep:
                keep.add(dep)
                todo.append(dep)
    unsafe = [
        item
        for item in plan.unsafe
        if keep.intersection(item.change_ids)
        or any(t.kind == item.kind and t.key == (item.key or "").lower() for t in targets)
    ]
    return Plan(
        tenant=plan.tenant,
        desired_digest=plan.desired_digest,
        live_digest=plan.live_digest,
        changes=[c for c in plan.changes if c.id in keep],
        unsafe=unsafe,
        created_at=plan.created_at,
        targets=[f"{t.kind}:{t.key}" for t in targets],
    )


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
    config: Config, progress: ProgressDisplay | None = None, read_only: bool = True
) -> LiveState:
    """The live tenant, read through a client opened and closed here."""
    from reconciler.graph.client import open_client
    from reconciler.live_read import read_live

    client = open_client(config, read_only=read_only)
    try:
        return await read_live(client, progress)
    finally:
        await client.aclose()


@dataclass
class Planned:
    desired: DesiredState
    live: LiveState
    plan: Plan


def make_plan(config: Config, targets: list[Target], progress: ProgressDisplay | None = None) -> Planned:
    """Load, read, diff and pre-flight; raise `PlanError` naming every pre-flight problem."""
    from reconciler.desired.loader import load_desired
    from reconciler.plan.diff import diff
    from reconciler.plan.preflight import preflight

    desired = load_desired(config)
    live = run_sync(read_tenant(config, progress))
    plan = diff(desired, live, config)
    plan.created_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    problems = preflight(plan, desired, live)
    if problems:
        raise PlanError(f"the plan cannot be applied: {len(problems)} pre-flight problem(s)", problems)
    return Planned(desired, live, narrow(plan, targets))
