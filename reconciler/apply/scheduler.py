"""Carrying out units of changes: dependency order, `$batch` envelopes of 20, retries, pacing (SPEC §5).

A unit is sent once every change it depends on has finished. Ready units are packed 20 to a `$batch`,
a few envelopes in flight at once. Each step's answer is classified (`outcomes`): throttled and
transiently failed steps are sent again later, replication lag after a create is retried with a
bounded backoff, a create that conflicts is settled by reading the object, a grouped write that fails
as a whole is split into single writes. A change that fails takes the changes depending on it with it
(skipped); independent changes go on.

Retries: this module owns every retry of a write — of steps answered transiently and of envelopes that
got no usable answer — under `graph.retry`'s policy; the SDK retries nothing (see `graph.retry`).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from reconciler.apply.journal import Journal
from reconciler.apply.operations import (
    Ids,
    Request,
    Unit,
    UnresolvedId,
    build_requests,
    can_split,
    created_id,
    generate_password,
    lookup_request,
    referenced_keys,
    split_unit,
    subject_of,
)
from reconciler.apply.outcomes import Outcome, Verdict, classify, transport_failure
from reconciler.apply.pacing import WritePacer
from reconciler.apply.passwords import PasswordFile
from reconciler.errors import GraphError, GraphNoAnswer
from reconciler.graph.retry import DEFAULT_POLICY, RetryPolicy
from reconciler.graph.wire import MAX_BATCH_STEPS, BatchStep, RawResponse
from reconciler.plan.model import Change, Create

DEFAULT_PARALLELISM = 4  # envelopes in flight: Graph advises a few concurrent requests per app
LAG_BUDGET_S = 60.0  # how long an object created in this apply may stay invisible
UNCERTAIN_LOOKUP_S = 5.0  # how long a create of unknown outcome is looked for before it is sent again

TERMINAL = ("applied", "already", "failed", "skipped")
SENT = "sent"  # the journal's line for a write about to leave; one of TERMINAL follows unless interrupted


class BatchSender(Protocol):
    async def batch(self, steps: list[BatchStep]) -> dict[str, RawResponse]: ...


@dataclass(frozen=True)
class Timing:
    """What only writes wait for, besides the retry policy's backoff; tests shrink them to stay fast."""

    lag_budget_s: float = LAG_BUDGET_S
    uncertain_s: float = UNCERTAIN_LOOKUP_S


@dataclass
class Result:
    """What became of every change: its outcome and, for a failure or skip, why."""

    outcome: dict[str, str] = field(default_factory=dict)  # change id → applied|already|failed|skipped
    errors: dict[str, str] = field(default_factory=dict)
    created_ids: dict[str, str] = field(default_factory=dict)  # change id → id of the object created
    interrupted: bool = False


@dataclass
class _State:
    unit: Unit
    waiting: int  # dependencies not finished yet
    attempts: int = 0  # transient failures
    throttled: int = 0
    lag_attempts: int = 0
    first_lag: float | None = None
    # A create whose outcome is unknown ("uncertain": no answer, 504) or that met a conflict: read the
    # object by its key before anything else, so a lost create is neither failed nor made twice.
    lookup: Literal["uncertain", "conflict"] | None = None
    look_for_s: float | None = None  # how long an uncertain create is looked for (None: Timing's)


class Scheduler:
    def __init__(
        self,
        units: list[Unit],
        client: BatchSender,
        ids: Ids,
        *,
        graph_url: str,
        journal: Journal,
        passwords: PasswordFile | None = None,
        pacer: WritePacer | None = None,
        parallelism: int = DEFAULT_PARALLELISM,
        timing: Timing | None = None,
        retry: RetryPolicy = DEFAULT_POLICY,
        on_progress: Callable[[int], None] | None = None,
        recently_created: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        self.client = client
        self.ids = ids
        self.graph_url = graph_url
        self.journal = journal
        self.passwords = passwords
        self.pacer = pacer or WritePacer()
        self.parallelism = max(1, parallelism)
        self.timing = timing or Timing()
        self.retry = retry
        self.on_progress = on_progress
        self.result = Result()
        self.changes: dict[str, Change] = {c.id: c for u in units for c in u.changes}
        self._dependants: dict[str, list[_State]] = {}
        self._ready: deque[_State] = deque()
        self._delayed: list[tuple[float, int, _State]] = []
        self._sequence = 0
        self._created: set[str] = set()  # Graph ids of objects created in this apply
        # (kind, key) of creates a recent apply sent (the journal's word): the object may exist and still
        # be replicating, invisible to the plan's read. It is looked for, for the lag budget, before it is
        # created again: two security groups may share a mailNickname, so a second create would succeed.
        self._recent = recently_created
        for unit in units:
            self._add(unit)

    # ---- the loop ---------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> Result:
        """Send everything; with `stop` set, finish the requests in flight and return."""
        stop = stop or asyncio.Event()
        inflight: dict[asyncio.Task[dict[str, RawResponse]], list[tuple[_State, Request]]] = {}
        while True:
            now = time.monotonic()
            self._promote(now)
            wait: float | None = None
            if not stop.is_set() and self._ready and len(inflight) < self.parallelism:
                more_coming = bool(inflight or self._delayed or self._blocked())
                if len(self._ready) >= MAX_BATCH_STEPS or not inflight or not more_coming:
                    steps = self._take_steps()
                    writes = sum(1 for _, request in steps if request.method != "GET")
                    delay = self.pacer.delay(writes)
                    if delay > 0:
                        self._ready.extendleft(state for state, _ in reversed(steps))
                        wait = delay
                    elif steps:
                        self.pacer.take(writes)
                        task = asyncio.create_task(self._send(steps, self._journal_sent(steps)))
                        inflight[task] = steps
                        continue
                    else:
                        continue
            if not inflight and (stop.is_set() or not (self._ready or self._delayed)):
                break
            if self._delayed:
                until_next = max(0.0, self._delayed[0][0] - now)
                wait = until_next if wait is None else min(wait, until_next)
            if inflight:
                finished, _ = await asyncio.wait(inflight, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    self._settle(inflight.pop(task), task)
            elif stop.is_set():
                break
            else:
                await _sleep_or_stop(stop, wait or 0.0)
        self._finish(stop.is_set())
        return self.result

    def _take_steps(self) -> list[tuple[_State, Request]]:
        steps: list[tuple[_State, Request]] = []
        while self._ready and len(steps) < MAX_BATCH_STEPS:
            state = self._ready.popleft()
            request = self._next_request(state)
            if request is not None:
                steps.append((state, request))
        return steps

    def _journal_sent(self, steps: list[tuple[_State, Request]]) -> dict[str, str]:
        """Journal each write before it leaves, under the `client-request-id` it is sent with (Graph's audit
        records carry it as their correlationId): a write whose answer is lost, or that a killed process
        never heard back from, is still accounted for. Returns the ids by unit."""
        ids: dict[str, str] = {}
        for state, request in steps:
            if request.method == "GET":
                continue
            ids[state.unit.id] = request_id = str(uuid.uuid4())
            for change in state.unit.changes:
                self.journal.record(change, SENT, request_id)
        return ids

    async def _send(
        self, steps: list[tuple[_State, Request]], request_ids: dict[str, str]
    ) -> dict[str, RawResponse]:
        batch = [
            BatchStep(
                state.unit.id,
                r.method,
                r.url,
                r.body,
                {"client-request-id": request_ids[state.unit.id]} if state.unit.id in request_ids else None,
            )
            for state, r in steps
        ]
        return await self.client.batch(batch)

    def _settle(
        self, steps: list[tuple[_State, Request]], task: asyncio.Task[dict[str, RawResponse]]
    ) -> None:
        error = task.exception()
        if error is not None and not isinstance(error, GraphError):
            raise error
        if isinstance(error, GraphError) and not isinstance(error, GraphNoAnswer):
            # The envelope itself was answered with an error: each of its steps gets that answer.
            refused = RawResponse(error.status, {}, {"error": {"code": error.code, "message": error.message}})
            if self.retry.is_transient(error.status):
                for state, request in steps:
                    outcome = classify(state.unit.op, refused, request.method, request.url, self.retry)
                    self._answered(state, outcome, refused)
                return
            # Refused (credentials, permission): no step will do better.
            for state, _ in steps:
                self._fail(
                    state, Outcome(Verdict.FAILED, error.status, error.code, error.message, error.request_id)
                )
            return
        answers = task.result() if error is None else {}
        accepted = 0
        for state, request in steps:
            answer = answers.get(state.unit.id)
            if answer is None:
                self._uncertain(state)
                self._transient(state, transport_failure(str(error or "no answer for the step")))
                continue
            if request.method != "GET" and answer.status != 429:
                accepted += 1
            if state.lookup:
                self._looked_up(state, answer)
            else:
                outcome = classify(state.unit.op, answer, request.method, request.url, self.retry)
                self._answered(state, outcome, answer)
        self.pacer.accepted(accepted)

    # ---- verdicts ---------------------------------------------------------------------------------

    def _answered(self, state: _State, outcome: Outcome, answer: RawResponse) -> None:
        unit = state.unit
        verdict = outcome.verdict
        if verdict is Verdict.THROTTLED:
            self.pacer.throttled(outcome.retry_after, outcome.write_limited)
            state.throttled += 1
            if self.retry.gives_up(outcome.status, state.throttled):
                self._fail(state, outcome)
            else:
                self._later(state, self.retry.wait(state.throttled, outcome.retry_after), front=True)
        elif verdict is Verdict.TRANSIENT:
            if outcome.status == 504:  # the gateway gave up waiting: the write may have happened
                self._uncertain(state)
            self._transient(state, outcome)
        elif verdict is Verdict.LAG and self._may_lag(state):
            now = time.monotonic()
            state.first_lag = state.first_lag or now
            state.lag_attempts += 1
            self._later(state, self.retry.backoff(state.lag_attempts))
        elif verdict is Verdict.CONFLICT:
            state.lookup = "conflict"
            self._ready.appendleft(state)
        elif verdict in (Verdict.DONE, Verdict.ALREADY):
            self._succeeded(state, outcome, answer)
        elif can_split(unit):
            self._split(state)
        else:
            self._fail(state, outcome)

    def _uncertain(self, state: _State) -> None:
        if state.unit.op in ("create_user", "create_group") and state.lookup is None:
            state.lookup = "uncertain"

    def _transient(self, state: _State, outcome: Outcome) -> None:
        state.attempts += 1
        if self.retry.gives_up(outcome.status, state.attempts):
            self._fail(state, outcome)
        else:
            self._later(state, self.retry.wait(state.attempts, outcome.retry_after))

    def _may_lag(self, state: _State) -> bool:
        """Only a just-created object can be missing for replication; retry within the lag budget."""
        if state.first_lag is not None and time.monotonic() - state.first_lag > self.timing.lag_budget_s:
            return False
        for obj in referenced_keys(state.unit):
            try:
                if self.ids.get(obj) in self._created:
                    return True
            except UnresolvedId:
                continue
        return False

    def _succeeded(self, state: _State, outcome: Outcome, answer: RawResponse) -> None:
        unit = state.unit
        # Learnt first: the requests after an invitation write to the user it made.
        new_id = created_id(unit, answer.body)
        if new_id is not None:
            self._created_object(unit, new_id)
        count = len(build_requests(unit, self.ids, self.graph_url))
        if unit.step + 1 < count:
            unit.step += 1
            state.attempts = state.lag_attempts = 0
            self._ready.appendleft(state)
            return
        verdict = "applied" if outcome.verdict is Verdict.DONE else "already"
        for change in unit.changes:
            self._finished(change, verdict, outcome.request_id)

    def _created_object(self, unit: Unit, object_id: str) -> None:
        create = unit.changes[0]
        self.ids.set(subject_of(create), object_id)
        self._created.add(object_id)
        self.result.created_ids[create.id] = object_id
        if unit.op == "create_user" and self.passwords is not None and unit.password:
            self.passwords.write(subject_of(create)[1], unit.password)

    def _looked_up(self, state: _State, answer: RawResponse) -> None:
        """Settle a create of unknown outcome or in conflict: an object found is ours if it carries what
        the create sent; none found after an unknown outcome means the create must be sent again."""
        unit = state.unit
        create = unit.changes[0]
        outcome = classify("delete", answer, policy=self.retry)  # only its transport verdicts matter here
        found = _found_object(answer)
        if outcome.verdict in (Verdict.THROTTLED, Verdict.TRANSIENT):
            self._answered(state, outcome, answer)
            return
        if found is None and answer.status in (200, 404) and state.lookup == "uncertain":
            # Not visible yet may still mean created (replication lag): look a few more times before
            # sending the create again, since two security groups may share a mailNickname.
            state.first_lag = state.first_lag or time.monotonic()
            look_for_s = self.timing.uncertain_s if state.look_for_s is None else state.look_for_s
            if time.monotonic() - state.first_lag < look_for_s:
                state.lag_attempts += 1
                self._later(state, self.retry.backoff(state.lag_attempts))
            else:
                state.lookup, state.first_lag, state.lag_attempts, state.look_for_s = None, None, 0, None
                self._ready.appendleft(state)
            return
        if found is None:
            if answer.status in (200, 404) and self._lag_left(state):
                state.lag_attempts += 1
                self._later(state, self.retry.backoff(state.lag_attempts))
            else:
                self._fail(state, Outcome(Verdict.FAILED, answer.status, "ObjectConflict", _gone(create)))
            return
        sent = create.after if isinstance(create, Create) else {}
        differing = sorted(
            k for k, v in sent.items() if "@" not in k and k in found and not _same(k, found[k], v)
        )
        if differing:
            message = (
                f"another {create.kind} with this key already exists and differs from the plan "
                f"({', '.join(differing)}); run plan again"
            )
            self._fail(state, Outcome(Verdict.FAILED, 409, "ObjectConflict", message))
            return
        state.lookup = None
        self._created_object(unit, str(found["id"]))
        self._finished(create, "already", answer.headers.get("request-id", ""))
        if len(unit.changes) > 1:
            # Inline members of a group whose create answer was lost: add them again (idempotent).
            for extra in split_unit(unit, self._next_id(unit))[1:]:
                self._add(extra)

    def _lag_left(self, state: _State) -> bool:
        state.first_lag = state.first_lag or time.monotonic()
        return time.monotonic() - state.first_lag <= self.timing.lag_budget_s

    def _split(self, state: _State) -> None:
        for part in split_unit(state.unit, self._next_id(state.unit)):
            self._add(part)

    def _next_id(self, unit: Unit) -> str:
        self._sequence += 1
        return f"{unit.id}.{self._sequence}"

    def _fail(self, state: _State, outcome: Outcome) -> None:
        for change in state.unit.changes:
            self._finished(change, "failed", outcome.request_id, outcome.error)

    # ---- bookkeeping ------------------------------------------------------------------------------

    def _add(self, unit: Unit) -> None:
        own = {c.id for c in unit.changes}
        wanted = [*unit.after, *(d for c in unit.changes for d in c.depends_on)]
        deps = {d for d in wanted if d in self.changes and d not in own}
        pending = [d for d in deps if self.result.outcome.get(d) not in TERMINAL]
        state = _State(unit, waiting=len(pending))
        if unit.op in ("create_user", "create_group") and subject_of(unit.changes[0]) in self._recent:
            state.lookup, state.look_for_s = "uncertain", self.timing.lag_budget_s
        for dep in pending:
            self._dependants.setdefault(dep, []).append(state)
        if not pending:
            self._became_ready(state)

    def _became_ready(self, state: _State) -> None:
        unit = state.unit
        kept: list[Change] = []
        for change in unit.changes:
            broken = [d for d in change.depends_on if self.result.outcome.get(d) in ("failed", "skipped")]
            if broken:
                self._finished(
                    change, "skipped", reason=f"depends on {', '.join(sorted(broken))}, not applied"
                )
            elif self.result.outcome.get(change.id) not in TERMINAL:
                kept.append(change)
        if not kept:
            return
        if unit.op == "create_group" and kept[0] is not unit.changes[0]:
            return  # the create itself is gone, so are its inline members (skipped above with it)
        unit.changes = kept
        self._ready.append(state)

    def _finished(self, change: Change, outcome: str, request_id: str = "", reason: str = "") -> None:
        if self.result.outcome.get(change.id) in TERMINAL:
            return
        self.result.outcome[change.id] = outcome
        if reason:
            self.result.errors[change.id] = reason
        self.journal.record(change, outcome, request_id, reason)
        if self.on_progress:
            self.on_progress(1)
        for state in self._dependants.pop(change.id, []):
            state.waiting -= 1
            if state.waiting == 0:
                self._became_ready(state)

    def _next_request(self, state: _State) -> Request | None:
        unit = state.unit
        if state.lookup:
            return lookup_request(unit)
        if unit.op == "create_user" and unit.password is None:
            unit.password = generate_password()
        try:
            requests = build_requests(unit, self.ids, self.graph_url)
        except UnresolvedId as exc:
            self._fail(state, Outcome(Verdict.FAILED, 0, "UnresolvedReference", str(exc)))
            return None
        if unit.step >= len(requests):  # nothing to send (an update with nothing left to change)
            for change in unit.changes:
                self._finished(change, "already")
            return None
        return requests[unit.step]

    def _later(self, state: _State, delay: float, front: bool = False) -> None:
        self._sequence += 1
        order = -self._sequence if front else self._sequence
        heapq.heappush(self._delayed, (time.monotonic() + delay, order, state))

    def _promote(self, now: float) -> None:
        due: list[_State] = []
        while self._delayed and self._delayed[0][0] <= now:
            due.append(heapq.heappop(self._delayed)[2])
        self._ready.extendleft(reversed(due))

    def _blocked(self) -> bool:
        return any(self._dependants.values())

    def _finish(self, stopped: bool) -> None:
        self.result.interrupted = stopped and len(self.result.outcome) < len(self.changes)
        if stopped:
            return
        # Whatever is left waits on something that never finished: a dependency outside the plan.
        for change in self.changes.values():
            if change.id not in self.result.outcome:
                self._finished(change, "skipped", reason="its dependencies never finished")


def _same(attr: str, found: Any, sent: Any) -> bool:
    if attr in ("userPrincipalName", "mailNickname") and isinstance(found, str) and isinstance(sent, str):
        return found.lower() == sent.lower()  # keys compare case-insensitively in Entra ID
    return bool(found == sent)


def _found_object(answer: RawResponse) -> dict[str, Any] | None:
    body = answer.body
    if answer.status != 200 or not isinstance(body, dict):
        return None
    if "value" in body:
        values = body["value"]
        return values[0] if isinstance(values, list) and values and isinstance(values[0], dict) else None
    return body if "id" in body else None


def _gone(create: Change) -> str:
    return f"Graph said {create.kind} {create.subject.key} already exists, but it cannot be read"


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
