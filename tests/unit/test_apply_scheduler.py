"""The scheduler against a scripted in-memory Graph: order, batching, retries, skips, conflicts, stop."""

from __future__ import annotations

import asyncio
import csv
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from builders import change

from reconciler.apply.journal import Journal, recent_creates
from reconciler.apply.operations import Ids, group_units
from reconciler.apply.pacing import WritePacer
from reconciler.apply.passwords import PasswordFile
from reconciler.apply.scheduler import Result, Scheduler, Timing
from reconciler.errors import GraphError, GraphNoAnswer
from reconciler.graph.retry import RetryPolicy
from reconciler.graph.wire import BatchStep, RawResponse
from reconciler.plan.model import Change

GRAPH = "https://graph.microsoft.com/v1.0"
Script = Callable[[BatchStep, int], RawResponse | None]  # (step, how many times this URL+method was seen)


class FakeGraph:
    """Answers every write with success (creates get ids) unless the script says otherwise."""

    def __init__(self, script: Script | None = None) -> None:
        self.script = script
        self.envelopes: list[list[BatchStep]] = []
        self.seen: dict[tuple[str, str], int] = {}
        self.created: dict[str, str] = {}  # upn/nickname -> id

    async def batch(self, steps: list[BatchStep]) -> dict[str, RawResponse]:
        assert len(steps) <= 20
        self.envelopes.append(steps)
        answers: dict[str, RawResponse] = {}
        for step in steps:
            seen = self.seen[(step.method, step.url)] = self.seen.get((step.method, step.url), 0) + 1
            scripted = self.script(step, seen) if self.script else None
            answers[step.id] = scripted or self.default(step)
        return answers

    def default(self, step: BatchStep) -> RawResponse:
        if step.method == "POST" and step.url in ("/users", "/groups"):
            key = step.body["userPrincipalName"] if step.url == "/users" else step.body["mailNickname"]
            self.created[key] = f"id-{key}"
            return RawResponse(201, {}, {"id": f"id-{key}", **step.body})
        return RawResponse(204)

    @property
    def steps(self) -> list[BatchStep]:
        return [s for envelope in self.envelopes for s in envelope]


def user(cid: str, upn: str) -> Change:
    return change(id=cid, action="create", kind="user", key=upn, after={"displayName": upn})


def member(cid: str, upn: str, dep: str, group: str = "grp-a") -> Change:
    return change(
        id=cid,
        action="add_member",
        kind="membership",
        group=group,
        member=upn,
        object_id=f"g-{group}",
        depends_on=[dep],
    )


def run(
    changes: list[Change],
    graph: FakeGraph,
    tmp_path: Path,
    *,
    passwords: bool = False,
    stop: asyncio.Event | None = None,
    parallelism: int = 4,
    recent: frozenset[tuple[str, str]] = frozenset(),
) -> Result:
    async def go() -> Result:
        with Journal(tmp_path / "journal.jsonl") as journal:
            file = PasswordFile(tmp_path / "pw.csv") if passwords else None
            if file:
                file.__enter__()
            scheduler = Scheduler(
                group_units(changes),
                graph,
                Ids(),
                graph_url=GRAPH,
                journal=journal,
                passwords=file,
                parallelism=parallelism,
                timing=Timing(lag_budget_s=5, uncertain_s=0.02),
                retry=RetryPolicy(base_s=0.001, rng=random.Random(1)),
                recently_created=recent,
            )
            result = await scheduler.run(stop)
            if file:
                file.__exit__()
            return result

    return asyncio.run(go())


def journal_lines(tmp_path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in (tmp_path / "journal.jsonl").read_text().splitlines()]


def test_onboarding_is_a_few_full_batches_and_ids_flow_to_dependants(tmp_path: Path) -> None:
    users = [user(f"c{i:03d}", f"u{i}@c.example") for i in range(60)]
    adds = [member(f"m{i:03d}", f"u{i}@c.example", f"c{i:03d}") for i in range(60)]
    graph = FakeGraph()
    result = run(users + adds, graph, tmp_path)
    assert set(result.outcome.values()) == {"applied"}
    assert [len(e) for e in graph.envelopes] == [20, 20, 20, 3]
    patches = [s for s in graph.steps if s.method == "PATCH"]
    binds = [ref for s in patches for ref in s.body["members@odata.bind"]]
    assert binds and all(ref.startswith(GRAPH + "/directoryObjects/id-u") for ref in binds)
    assert len(binds) == 60
    lines = journal_lines(tmp_path)
    assert {line["outcome"] for line in lines} == {"sent", "applied"}
    # Each write is journaled before it leaves, under the client-request-id it carries.
    sent_ids = {line["request_id"] for line in lines if line["outcome"] == "sent"}
    assert sent_ids == {s.headers["client-request-id"] for s in graph.steps if s.headers}
    assert len(sent_ids) == len([s for s in graph.steps if s.method != "GET"])


def test_a_failed_create_skips_its_dependants_only(tmp_path: Path) -> None:
    def script(step: BatchStep, seen: int) -> RawResponse | None:
        if step.url == "/users" and step.body["userPrincipalName"] == "bad@c.example":
            return RawResponse(400, {}, {"error": {"code": "Request_BadRequest", "message": "Invalid UPN"}})
        return None

    changes = [
        user("c1", "bad@c.example"),
        user("c2", "ok@c.example"),
        member("c3", "bad@c.example", "c1"),
        member("c4", "ok@c.example", "c2"),
    ]
    result = run(changes, FakeGraph(script), tmp_path)
    assert result.outcome == {"c1": "failed", "c2": "applied", "c3": "skipped", "c4": "applied"}
    assert result.errors["c1"] == "400 Request_BadRequest: Invalid UPN"
    assert result.errors["c3"] == "depends on c1, not applied"


def test_throttled_and_unavailable_steps_are_sent_again(tmp_path: Path) -> None:
    def script(step: BatchStep, seen: int) -> RawResponse | None:
        if step.url.endswith("/members/$ref") and seen == 1:
            return RawResponse(
                429, {"retry-after": "0"}, {"error": {"code": "TooManyRequests", "message": ""}}
            )
        if step.url == "/users" and seen <= 2:
            return RawResponse(503, {}, None)
        return None

    changes = [user("c1", "a@c.example"), member("c2", "a@c.example", "c1")]
    graph = FakeGraph(script)
    result = run(changes, graph, tmp_path)
    assert result.outcome == {"c1": "applied", "c2": "applied"}
    assert [s.url for s in graph.steps] == ["/users"] * 3 + ["/groups/g-grp-a/members/$ref"] * 2


def test_replication_lag_is_retried_only_for_objects_created_in_this_apply(tmp_path: Path) -> None:
    lag = {
        "error": {
            "code": "Request_BadRequest",
            "message": "The source resource object or one of the objects being referenced don't exist.",
        }
    }

    def script(step: BatchStep, seen: int) -> RawResponse | None:
        if step.url.endswith("/$ref") and seen <= 3:
            return RawResponse(400, {}, lag)
        return None

    old = change(
        id="c3",
        action="add_member",
        kind="membership",
        group="grp-b",
        member="old@c.example",
        object_id="g-grp-b",
        target_id="id-old",
    )
    changes = [user("c1", "new@c.example"), member("c2", "new@c.example", "c1"), old]
    result = run(changes, FakeGraph(script), tmp_path)
    assert result.outcome == {"c1": "applied", "c2": "applied", "c3": "failed"}


class LosingGraph(FakeGraph):
    """Does the work of the first envelope, then loses its answer (a timeout)."""

    async def batch(self, steps: list[BatchStep]) -> dict[str, RawResponse]:
        answers = await super().batch(steps)
        if len(self.envelopes) == 1:
            raise GraphNoAnswer("POST /$batch failed: ReadTimeout")
        return answers


def test_a_create_whose_answer_was_lost_is_found_by_reading_it(tmp_path: Path) -> None:
    def script(step: BatchStep, seen: int) -> RawResponse | None:
        if step.method == "GET":
            return RawResponse(200, {}, {"id": "id-a@c.example", "displayName": "a@c.example"})
        return None

    graph = LosingGraph(script)
    result = run(
        [user("c1", "a@c.example"), member("c2", "a@c.example", "c1")], graph, tmp_path, passwords=True
    )
    assert result.outcome == {"c1": "already", "c2": "applied"}
    assert [s.method for s in graph.steps] == ["POST", "GET", "POST"]
    assert graph.steps[1].url == "/users/a@c.example?$select=id,displayName"
    rows = list(csv.reader((tmp_path / "pw.csv").open()))
    sent = graph.steps[0].body["passwordProfile"]["password"]
    assert rows == [["userPrincipalName", "password"], ["a@c.example", sent]]
    assert (tmp_path / "pw.csv").stat().st_mode & 0o777 == 0o600
    assert sent not in (tmp_path / "journal.jsonl").read_text()


def test_a_create_a_recent_apply_sent_is_looked_for_through_the_lag_before_it_is_sent(
    tmp_path: Path,
) -> None:
    """The object exists but is still replicating (two lookups find nothing): it is found, not made twice."""

    def script(step: BatchStep, seen: int) -> RawResponse | None:
        if step.method == "GET":
            found = [{"id": "id-grp-a", "displayName": "A", "mailNickname": "grp-a"}] if seen > 2 else []
            return RawResponse(200, {}, {"value": found})
        return None

    create = change(id="c1", action="create", kind="group", key="grp-a", after={"displayName": "A"})
    graph = FakeGraph(script)
    result = run([create], graph, tmp_path, recent=frozenset({("group", "grp-a")}))
    assert result.outcome == {"c1": "already"} and result.created_ids == {"c1": "id-grp-a"}
    assert [s.method for s in graph.steps] == ["GET", "GET", "GET"]


def test_a_recent_create_not_found_within_the_lag_budget_is_sent(tmp_path: Path) -> None:
    def script(step: BatchStep, seen: int) -> RawResponse | None:
        return RawResponse(200, {}, {"value": []}) if step.method == "GET" else None

    create = change(id="c1", action="create", kind="group", key="grp-a", after={"displayName": "A"})
    graph = FakeGraph(script)
    result = run([create], graph, tmp_path, recent=frozenset({("group", "grp-a")}))
    assert result.outcome == {"c1": "applied"}
    assert graph.steps[-1].method == "POST" and {s.method for s in graph.steps[:-1]} == {"GET"}


def test_the_journal_names_the_creates_sent_since_a_time(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    lines = [
        {"time": "2026-01-01T10:00:00.000+00:00", "action": "create", "kind": "group", "key": "old"},
        {"time": "2026-01-01T10:05:00.000+00:00", "action": "create", "kind": "group", "key": "grp-a"},
        {"time": "2026-01-01T10:05:01.000+00:00", "action": "create", "kind": "user", "key": "u@c.example"},
        {"time": "2026-01-01T10:05:02.000+00:00", "action": "create", "kind": "user", "key": "x@c.example"},
        {"time": "2026-01-01T10:05:02.000+00:00", "action": "update", "kind": "user", "key": "y@c.example"},
    ]
    outcomes = ["applied", "sent", "already", "failed", "applied"]
    text = "".join(
        json.dumps({**line, "outcome": outcome, "tenant": "t"}) + "\n"
        for line, outcome in zip(lines, outcomes, strict=True)
    )
    path.write_text(text + '{"time": "2026-01-01T10:06\n')  # a line a killed apply left half-written
    since = datetime(2026, 1, 1, 10, 1, tzinfo=UTC)
    assert recent_creates(path, "t", since) == {("group", "grp-a"), ("user", "u@c.example")}
    assert recent_creates(path, "another tenant", since) == frozenset()
    assert recent_creates(tmp_path / "none.jsonl", "t", since) == frozenset()


def test_a_lost_create_that_did_not_happen_is_sent_again_with_the_same_password(tmp_path: Path) -> None:
    class DroppingGraph(FakeGraph):
        async def batch(self, steps: list[BatchStep]) -> dict[str, RawResponse]:
            if not self.envelopes:
                self.envelopes.append(steps)
                raise GraphNoAnswer("POST /$batch failed: ConnectError")
            return await super().batch(steps)

    def script(step: BatchStep, seen: int) -> RawResponse | None:
        if step.method == "GET":
            return RawResponse(
                404, {}, {"error": {"code": "Request_ResourceNotFound", "message": "no such user"}}
            )
        return None

    graph = DroppingGraph(script)
    result = run([user("c1", "a@c.example")], graph, tmp_path)
    assert result.outcome == {"c1": "applied"}
    methods = [s.method for s in graph.steps]
    assert methods[0] == "POST" and methods[-1] == "POST" and set(methods[1:-1]) == {"GET"}
    assert graph.steps[0].body["passwordProfile"] == graph.steps[-1].body["passwordProfile"]


def test_a_create_in_conflict_with_its_own_earlier_attempt_is_settled_by_reading(tmp_path: Path) -> None:
    def script(step: BatchStep, seen: int) -> RawResponse | None:
        if step.url == "/users":
            message = "Another object with the same value for property userPrincipalName already exists."
            body = {
                "error": {
                    "code": "Request_BadRequest",
                    "message": message,
                    "details": [{"code": "ObjectConflict"}],
                }
            }
            return RawResponse(400, {}, body)
        if step.method == "GET":
            return RawResponse(200, {}, {"id": "id-a@c.example", "displayName": "a@c.example"})
        return None

    graph = FakeGraph(script)
    assert run([user("c1", "a@c.example")], graph, tmp_path).outcome == {"c1": "already"}
    assert [s.method for s in graph.steps] == ["POST", "GET"]


def test_a_conflict_with_a_different_object_fails(tmp_path: Path) -> None:
    def script(step: BatchStep, seen: int) -> RawResponse | None:
        if step.url == "/users":
            return RawResponse(
                409, {}, {"error": {"code": "Request_MultipleObjectsWithSameKeyValue", "message": "x"}}
            )
        if step.method == "GET":
            return RawResponse(200, {}, {"id": "other", "displayName": "Someone Else"})
        return None

    result = run([user("c1", "a@c.example")], FakeGraph(script), tmp_path)
    assert result.outcome == {"c1": "failed"}
    assert "differs from the plan (displayName)" in result.errors["c1"]


def test_a_bulk_add_that_fails_as_a_whole_falls_back_to_single_adds(tmp_path: Path) -> None:
    already = (
        "One or more added object references already exist for the following modified properties: 'members'."
    )

    def script(step: BatchStep, seen: int) -> RawResponse | None:
        if step.method == "PATCH":
            return RawResponse(400, {}, {"error": {"code": "Request_BadRequest", "message": already}})
        if step.url.endswith("/members/$ref") and step.body["@odata.id"].endswith("id-u1@c.example"):
            return RawResponse(400, {}, {"error": {"code": "Request_BadRequest", "message": already}})
        return None

    users = [user(f"c{i}", f"u{i}@c.example") for i in range(3)]
    adds = [member(f"m{i}", f"u{i}@c.example", f"c{i}") for i in range(3)]
    graph = FakeGraph(script)
    result = run(users + adds, graph, tmp_path)
    assert [result.outcome[f"m{i}"] for i in range(3)] == ["applied", "already", "applied"]
    assert [s.method for s in graph.steps].count("PATCH") == 1


def test_stop_lets_requests_in_flight_finish_and_sends_nothing_more(tmp_path: Path) -> None:
    stop = asyncio.Event()

    class StoppingGraph(FakeGraph):
        async def batch(self, steps: list[BatchStep]) -> dict[str, RawResponse]:
            stop.set()  # Ctrl-C arrives while the first envelope is in flight
            return await super().batch(steps)

    users = [user(f"c{i:02d}", f"u{i}@c.example") for i in range(30)]
    graph = StoppingGraph()
    result = run(users, graph, tmp_path, stop=stop, parallelism=1)
    assert result.interrupted
    assert len(graph.envelopes) == 1
    assert list(result.outcome.values()) == ["applied"] * 20
    assert [line["outcome"] for line in journal_lines(tmp_path)] == ["sent"] * 20 + ["applied"] * 20


def test_disable_revokes_then_patches_in_sequence(tmp_path: Path) -> None:
    disable = change(
        id="c1", action="disable", kind="user", key="b@c.example", object_id="u9", revoke_sessions=True
    )
    graph = FakeGraph()
    assert run([disable], graph, tmp_path).outcome == {"c1": "applied"}
    assert [(s.method, s.url) for s in graph.steps] == [
        ("POST", "/users/u9/revokeSignInSessions"),
        ("PATCH", "/users/u9"),
    ]


def test_writes_wait_for_the_pacer(tmp_path: Path) -> None:
    pacer = WritePacer(quota=3000)
    pacer.throttled(retry_after=0.05, write_limited=False)

    async def go() -> Result:
        with Journal(tmp_path / "j.jsonl") as journal:
            scheduler = Scheduler(
                group_units([user("c1", "a@c.example")]),
                FakeGraph(),
                Ids(),
                graph_url=GRAPH,
                journal=journal,
                pacer=pacer,
            )
            loop = asyncio.get_running_loop()
            start = loop.time()
            result = await scheduler.run()
            assert loop.time() - start >= 0.04
            return result

    assert asyncio.run(go()).outcome == {"c1": "applied"}


def test_a_refused_envelope_fails_its_steps_at_once(tmp_path: Path) -> None:
    class RefusingGraph(FakeGraph):
        async def batch(self, steps: list[BatchStep]) -> dict[str, RawResponse]:
            self.envelopes.append(steps)
            raise GraphError("Graph refused the credentials", status=401, code="InvalidAuthenticationToken")

    graph = RefusingGraph()
    result = run([user("c1", "a@c.example"), member("c2", "a@c.example", "c1")], graph, tmp_path)
    assert result.outcome == {"c1": "failed", "c2": "skipped"}
    assert len(graph.envelopes) == 1
    assert "refused the credentials" in result.errors["c1"]


def test_an_owner_is_removed_only_after_the_new_owner_is_added(tmp_path: Path) -> None:
    remove = change(
        id="c1",
        action="remove_owner",
        kind="owner",
        group="grp-a",
        owner="old@c.example",
        object_id="g1",
        target_id="old",
    )
    add = change(
        id="c2",
        action="add_owner",
        kind="owner",
        group="grp-a",
        owner="new@c.example",
        object_id="g1",
        target_id="new",
    )
    graph = FakeGraph()
    assert run([remove, add], graph, tmp_path).outcome == {"c1": "applied", "c2": "applied"}
    assert [[s.method for s in e] for e in graph.envelopes] == [["POST"], ["DELETE"]]
