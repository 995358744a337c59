"""`run_batches`: envelopes of 20, dependency chains kept whole, throttled steps re-queued."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from graph_fakes import StaticCredential, client_for, reply

from reconciler.errors import GraphError
from reconciler.graph.batching import pack, run_batches
from reconciler.graph.retry import RetryPolicy
from reconciler.graph.wire import BatchStep


def _steps(n: int) -> list[BatchStep]:
    return [BatchStep(str(i), "GET", f"/groups/g{i}/members") for i in range(n)]


def test_pack_fills_envelopes_of_twenty() -> None:
    assert [len(e) for e in pack(_steps(45))] == [20, 20, 5]


def test_pack_keeps_dependency_chains_in_one_envelope() -> None:
    steps = _steps(19)
    steps += [BatchStep("c1", "POST", "/users"), BatchStep("c2", "POST", "/x", depends_on=("c1",))]
    envelopes = pack(steps)
    assert [s.id for s in envelopes[1]] == ["c1", "c2"]
    with pytest.raises(ValueError):
        pack([BatchStep(str(i), "GET", "/u", depends_on=(str(i - 1),) if i else ()) for i in range(21)])


def test_throttled_steps_are_requeued_after_retry_after() -> None:
    envelopes: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        ids = [r["id"] for r in json.loads(request.content)["requests"]]
        envelopes.append(ids)
        first_time = len(envelopes) <= 2
        responses = [
            {"id": i, "status": 429, "headers": {"Retry-After": "0"}}
            if first_time and int(i) % 10 == 0
            else {"id": i, "status": 200, "body": {"value": [{"id": f"m{i}"}]}}
            for i in ids
        ]
        return reply(200, {"responses": responses})

    answers = asyncio.run(run_batches(client_for(handler), _steps(25), concurrency=1))
    assert sorted(envelopes[-1]) == ["0", "10", "20"]
    assert all(a.status == 200 for a in answers.values()) and len(answers) == 25


def test_attempts_are_bounded() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        ids = [r["id"] for r in json.loads(request.content)["requests"]]
        return reply(
            200, {"responses": [{"id": i, "status": 503, "headers": {"Retry-After": "0"}} for i in ids]}
        )

    client = client_for(handler)
    client.retry = RetryPolicy(attempts=3, base_s=0)
    answers = asyncio.run(run_batches(client, _steps(2)))
    assert len(calls) == 3 and answers["0"].status == 503


def test_an_envelope_that_gets_no_answer_is_sent_again() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadError("connection reset by peer")
        ids = [r["id"] for r in json.loads(request.content)["requests"]]
        return reply(200, {"responses": [{"id": i, "status": 200, "body": {"value": []}} for i in ids]})

    client = client_for(handler)
    client.retry = RetryPolicy(base_s=0)
    answers = asyncio.run(run_batches(client, _steps(3)))
    assert len(calls) == 2 and {a.status for a in answers.values()} == {200}


def test_an_envelope_refused_for_good_is_not_sent_again() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return reply(403, {"error": {"code": "Authorization_RequestDenied", "message": "Insufficient"}})

    with pytest.raises(GraphError, match="403"):
        asyncio.run(run_batches(client_for(handler), _steps(3)))
    assert len(calls) == 1


def test_a_refused_token_is_renewed_once_then_the_refusal_stands() -> None:
    """Graph's 401 means it ran nothing: a new token (asked for with a claims challenge, which the
    credential never answers from its cache) and one more send; a second 401 is the answer."""
    calls: list[str] = []
    credential = StaticCredential()

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers["authorization"])
        return reply(401, {"error": {"code": "InvalidAuthenticationToken", "message": "expired"}})

    with pytest.raises(GraphError, match="refused the credentials"):
        asyncio.run(run_batches(client_for(handler, credential), _steps(3)))
    assert len(calls) == 2
    renewed = [json.loads(c) for c in credential.claims if c]
    assert len(renewed) == 1 and renewed[0]["access_token"]["nbf"]["essential"] is True


def test_the_sdk_retries_nothing_so_no_request_is_retried_twice() -> None:
    """A 503 envelope is sent by run_batches' policy alone: as many times as it allows, not 4× that."""
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return reply(503, {"error": {"code": "serviceNotAvailable", "message": "busy"}}, {"Retry-After": "0"})

    client = client_for(handler)
    client.retry = RetryPolicy(attempts=2, base_s=0)
    answers = asyncio.run(run_batches(client, _steps(1)))
    assert len(calls) == 2 and answers["0"].status == 503


def test_dependants_of_a_throttled_step_are_retried_without_a_done_dependency() -> None:
    rounds: list[list[dict[str, object]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)["requests"]
        rounds.append(sent)
        if len(rounds) == 1:
            statuses = {"a": 204, "b": 429, "c": 424}
            return reply(
                200,
                {
                    "responses": [
                        {"id": r["id"], "status": statuses[r["id"]], "headers": {"Retry-After": "0"}}
                        for r in sent
                    ]
                },
            )
        return reply(200, {"responses": [{"id": r["id"], "status": 204} for r in sent]})

    steps = [
        BatchStep("a", "POST", "/x"),
        BatchStep("b", "POST", "/y", depends_on=("a",)),
        BatchStep("c", "POST", "/z", depends_on=("b",)),
    ]
    answers = asyncio.run(run_batches(client_for(handler), steps))
    assert [(r["id"], r.get("dependsOn")) for r in rounds[1]] == [("b", None), ("c", ["b"])]
    assert {k: v.status for k, v in answers.items()} == {"a": 204, "b": 204, "c": 204}
