"""The Graph client through the real SDK pipeline (auth, retry middleware) against an in-test handler."""

from __future__ import annotations

import asyncio
import gc
import json

import httpx
import pytest
from graph_fakes import BASE, StaticCredential, client_for, error, reply

from reconciler.errors import GraphError
from reconciler.graph.wire import BatchStep


def test_get_returns_raw_json_with_token_and_graph_scope() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return reply(200, {"value": [{"id": "u1"}]})

    credential = StaticCredential()
    client = client_for(handler, credential)
    body = asyncio.run(client.get("/users?$select=id&$top=999"))
    assert body == {"value": [{"id": "u1"}]}
    assert seen[0].headers["authorization"] == "Bearer token"
    assert str(seen[0].url) == f"{BASE}/users?$select=id&$top=999"
    assert credential.scopes == [("https://graph.microsoft.com/.default",)]


def test_get_follows_absolute_links_verbatim() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return reply(200, {"value": []})

    asyncio.run(client_for(handler).get("https://127.0.0.1:8443/v1.0/users?$skiptoken=abc"))
    assert seen == ["https://127.0.0.1:8443/v1.0/users?$skiptoken=abc"]


def test_throttled_get_is_retried_by_the_sdk_after_retry_after() -> None:
    answers = [
        reply(429, error(429, "TooManyRequests", "slow down"), {"Retry-After": "0"}),
        reply(200, {"value": []}),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    # Retry-After 0 falls back to the SDK's backoff (~3.5 s); with 0.001 s the retry is immediate.
    answers[0].headers["Retry-After"] = "0.001"
    assert asyncio.run(client_for(handler).get("/users")) == {"value": []}
    assert answers == []


def test_send_does_not_raise_on_4xx() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content) == {"displayName": "X"}
        assert request.headers["content-type"] == "application/json"
        return reply(404, error(404, "Request_ResourceNotFound", "Resource 'x' does not exist"))

    response = asyncio.run(client_for(handler).send("PATCH", "/users/x", {"displayName": "X"}))
    assert response.status == 404
    assert response.body["error"]["code"] == "Request_ResourceNotFound"


def test_get_names_the_missing_permission() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return reply(
            403,
            error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
        )

    with pytest.raises(GraphError) as caught:
        asyncio.run(client_for(handler).get("/groups/delta?$select=members"))
    assert "GroupMember.Read.All" in caught.value.message
    assert caught.value.status == 403
    assert caught.value.request_id == "req-1"


def test_batch_sends_relative_urls_and_depends_on_and_parses_step_bodies() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1.0/$batch"
        sent = json.loads(request.content)["requests"]
        assert sent == [
            {"id": "a", "method": "GET", "url": "/groups/g1/members?$select=id"},
            {
                "id": "b",
                "method": "PATCH",
                "url": "/users/u1",
                "body": {"jobTitle": "CTO"},
                "headers": {"Content-Type": "application/json"},
                "dependsOn": ["a"],
            },
        ]
        return reply(
            200,
            {
                "responses": [
                    {"id": "b", "status": 204, "headers": {}},
                    {
                        "id": "a",
                        "status": 429,
                        "headers": {"Retry-After": "3"},
                        "body": error(429, "TooManyRequests", ""),
                    },
                ]
            },
        )

    steps = [
        BatchStep("a", "GET", f"{BASE}/groups/g1/members?$select=id"),
        BatchStep("b", "PATCH", "/users/u1", body={"jobTitle": "CTO"}, depends_on=("a",)),
    ]
    answers = asyncio.run(client_for(handler).batch(steps))
    assert answers["a"].status == 429
    assert answers["a"].retry_after == 3.0
    assert answers["b"].ok and answers["b"].body is None


def test_batch_refuses_more_than_twenty_steps() -> None:
    client = client_for(lambda request: reply(200, {}))
    with pytest.raises(ValueError):
        asyncio.run(client.batch([BatchStep(str(n), "GET", "/users") for n in range(21)]))


def test_unreachable_graph_is_one_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(GraphError, match=r"cannot connect to https://graph\.microsoft\.com/v1\.0"):
        asyncio.run(client_for(handler).get("/users"))


def test_an_answered_response_is_freed_without_the_cycle_collector() -> None:
    # httpx ties a response and its stream in a reference cycle: kept until a full collection, the
    # bodies of a 100,000-user read were 160 MB at once.
    def handler(request: httpx.Request) -> httpx.Response:
        return reply(200, {"value": [{"id": "u1"}]})

    client = client_for(handler)
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            assert asyncio.run(client.get("/users")) == {"value": [{"id": "u1"}]}
        kept = [item for item in gc.get_objects() if isinstance(item, httpx.Response)]
    finally:
        gc.enable()
    assert kept == []
