"""JSON $batch: limits, ids, dependsOn/depends_on, relative and absolute URLs, 424, per-step throttling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from graph_calls import Tenant

from reconciler.emulator.context import ThrottleConfig

GRAPH = "https://graph.microsoft.com/v1.0"


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    t = Tenant("demo")
    yield t
    t.close()


def batch(tenant: Tenant, requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    response = tenant.call("POST", "$batch", json={"requests": requests})
    assert response.status_code == 200, response.text
    return {r["id"]: r for r in response.json()["responses"]}


def test_relative_and_absolute_urls_and_headers(tenant: Tenant) -> None:
    out = batch(
        tenant,
        [
            {"id": "1", "method": "GET", "url": "/users/ada@contoso.example?$select=id,jobTitle"},
            {"id": "2", "method": "GET", "url": "users?$top=2&$select=id"},
            {"id": "3", "method": "GET", "url": f"{GRAPH}/groups?$select=id"},
            {"id": "4", "method": "GET", "url": "/users/$count", "headers": {"ConsistencyLevel": "eventual"}},
        ],
    )
    assert out["1"]["status"] == 200 and out["1"]["body"]["jobTitle"] == "Staff Engineer"
    assert len(out["2"]["body"]["value"]) == 2 and out["2"]["body"]["@odata.nextLink"].startswith(GRAPH)
    assert out["3"]["status"] == 200
    assert out["4"]["body"] == str(len(tenant.store.users))


def test_writes_and_failing_steps_carry_error_bodies(tenant: Tenant) -> None:
    group = tenant.group_id("grp-people")
    ada = tenant.user_id("ada@contoso.example")
    ref = {"@odata.id": f"{GRAPH}/directoryObjects/{ada}"}
    json_headers = {"Content-Type": "application/json"}
    out = batch(
        tenant,
        [
            {
                "id": "a",
                "method": "POST",
                "url": f"/groups/{group}/members/$ref",
                "headers": json_headers,
                "body": ref,
            },
            {
                "id": "b",
                "method": "POST",
                "url": f"/groups/{group}/members/$ref",
                "headers": json_headers,
                "body": ref,
                "dependsOn": ["a"],
            },
            {
                "id": "c",
                "method": "PATCH",
                "url": "/users/nobody@contoso.example",
                "headers": json_headers,
                "body": {},
            },
        ],
    )
    assert out["a"]["status"] == 204 and "body" not in out["a"]
    assert out["b"]["status"] == 400 and out["b"]["body"]["error"]["code"] == "Request_BadRequest"
    assert out["c"]["status"] == 404


@pytest.mark.parametrize("key", ["dependsOn", "depends_on"])
def test_failed_dependency_gives_424(tenant: Tenant, key: str) -> None:
    out = batch(
        tenant,
        [
            {"id": "1", "method": "GET", "url": "/users/nobody@contoso.example"},
            {"id": "2", "method": "GET", "url": "/users/ada@contoso.example", key: ["1"]},
            {"id": "3", "method": "GET", "url": "/users/ada@contoso.example", key: ["2"]},
        ],
    )
    assert [out[i]["status"] for i in "123"] == [404, 424, 424]


def test_envelope_errors(tenant: Tenant) -> None:
    step = {"method": "GET", "url": "/users?$select=id"}
    too_many = [{"id": str(n), **step} for n in range(21)]
    assert tenant.call("POST", "$batch", json={"requests": too_many}).status_code == 400
    duplicate = [{"id": "A", **step}, {"id": "a", **step}]
    assert tenant.call("POST", "$batch", json={"requests": duplicate}).status_code == 400
    forward = [{"id": "1", "dependsOn": ["2"], **step}, {"id": "2", **step}]
    assert tenant.call("POST", "$batch", json={"requests": forward}).status_code == 400
    no_content_type = [{"id": "1", "method": "PATCH", "url": "/users/ada@contoso.example", "body": {}}]
    assert tenant.call("POST", "$batch", json={"requests": no_content_type}).status_code == 400
    assert tenant.call("POST", "$batch", json={"nope": []}).status_code == 400


def test_steps_are_authorised_individually(tenant: Tenant) -> None:
    response = tenant.call(
        "POST",
        "$batch",
        json={"requests": [{"id": "1", "method": "DELETE", "url": "/users/ada@contoso.example"}]},
        app="reader",
    )
    assert response.json()["responses"][0]["status"] == 403


def test_steps_are_throttled_individually(tenant: Tenant) -> None:
    tenant.config.throttle = ThrottleConfig(enabled=True, ru_per_10s=5)
    steps = [{"id": str(n), "method": "GET", "url": "/users?$select=id"} for n in range(8)]
    response = tenant.call("POST", "$batch", json={"requests": steps})
    statuses = [r["status"] for r in response.json()["responses"]]
    assert 200 in statuses and 429 in statuses
    throttled = next(r for r in response.json()["responses"] if r["status"] == 429)
    assert "Retry-After" in throttled["headers"] or "retry-after" in throttled["headers"]
