"""Resource-unit throttling (Graph docs: concepts/throttling, concepts/throttling-limits), the cost model,
and injected faults; on the emulator's clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from graph_calls import Tenant

from reconciler.emulator.context import RuntimeConfig, ThrottleConfig
from reconciler.emulator.faults import FaultRule
from reconciler.emulator.inprocess import LocalTenant
from reconciler.emulator.pipeline import request_cost
from reconciler.emulator.router import Route
from reconciler.emulator.throttle import Throttle, tier_ru_quota
from reconciler.emulator.types import GraphResponse

Local = Callable[[str], LocalTenant]


def _unused(*args: Any) -> GraphResponse:
    raise AssertionError("not called")


def route(cost: int = 1, write: bool = False) -> Route:
    return Route("GET", "/x", _unused, ("User.Read.All",), cost=cost, write=write)


@pytest.mark.parametrize(
    ("cost", "query", "expected"),
    [
        (2, {}, 2),
        (2, {"$select": "id"}, 1),
        (2, {"$select": "id", "$top": "5"}, 1),  # never below 1
        (3, {"$expand": "members"}, 4),
        (3, {"$top": "999"}, 3),
        (5, {"$top": "19", "$select": "id"}, 3),
    ],
)
def test_read_cost_modifiers(cost: int, query: dict[str, str], expected: int) -> None:
    assert request_cost(route(cost), query) == expected


def test_writes_cost_one_unit_whatever_the_query() -> None:
    assert request_cost(route(1, write=True), {"$select": "id"}) == 1


@pytest.mark.parametrize(("users", "quota"), [(0, 3500), (49, 3500), (50, 5000), (500, 5000), (501, 8000)])
def test_tenant_tiers(users: int, quota: int) -> None:
    assert tier_ru_quota(users) == quota


def charge(throttle: Throttle, now: float, ru: int = 1, writes: int = 0, app: str = "a") -> Any:
    return throttle.charge(
        app_id=app, tenant_id="t", ru=ru, writes=writes, ru_quota=10, write_quota=3, now=now
    )


def test_bucket_refills_and_retry_after_is_whole_seconds_until_budget_frees() -> None:
    throttle = Throttle()
    assert charge(throttle, 0.0, ru=8).allowed
    refused = charge(throttle, 0.0, ru=5)  # 2 left, 3 missing at 1 RU/s
    assert not refused.allowed
    assert refused.retry_after == 3
    assert refused.headers["Retry-After"] == "3"
    assert refused.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
    assert refused.headers["x-ms-throttle-scope"] == "Tenant_Application/ReadWrite/a/t"
    assert charge(throttle, 2.5, ru=5).allowed is False  # refused requests are not charged
    assert charge(throttle, 3.0, ru=5).allowed


def test_buckets_are_per_app() -> None:
    throttle = Throttle()
    assert charge(throttle, 0.0, ru=10, app="a").allowed
    assert not charge(throttle, 0.0, app="a").allowed
    assert charge(throttle, 0.0, app="b").allowed


def test_write_quota_is_separate_and_slow_to_refill() -> None:
    throttle = Throttle()
    for _ in range(3):
        assert charge(throttle, 0.0, writes=1).allowed
    refused = charge(throttle, 0.0, writes=1)
    assert refused.headers["x-ms-throttle-information"] == "WriteLimitExceeded"
    assert refused.retry_after == 50  # 3 writes per 150 s
    assert charge(throttle, 50.0, writes=1).allowed


def test_limit_percentage_header_above_eighty_percent() -> None:
    throttle = Throttle()
    assert "x-ms-throttle-limit-percentage" not in charge(throttle, 0.0, ru=8).headers
    assert charge(throttle, 0.0, ru=1).headers["x-ms-throttle-limit-percentage"] == "0.9"


def get_users(tenant: LocalTenant, n: int, query: str = "") -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        headers = {"Authorization": f"Bearer {tenant.token('reader')}"}
        async with httpx.AsyncClient(
            transport=tenant.transport, base_url="https://graph.microsoft.com"
        ) as client:
            return [await client.get(f"/v1.0/users{query}", headers=headers) for _ in range(n)]

    return asyncio.run(go())


def test_throttled_requests_get_a_graph_429(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    tenant.emulator.set_config(RuntimeConfig(throttle=ThrottleConfig(enabled=True, ru_per_10s=4)))
    first, second, third = get_users(tenant, 3)  # GET /users costs 2 RU
    assert [r.status_code for r in (first, second)] == [200, 200]
    assert first.headers["x-ms-resource-unit"] == "2"
    assert third.status_code == 429
    assert third.headers["Retry-After"].isdigit()
    assert third.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
    assert third.json()["error"]["code"] == "TooManyRequests"
    stats = tenant.emulator.stats
    assert (stats.throttled, stats.resource_units) == (1, 4)


def test_clock_offset_refills_the_bucket(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    config = RuntimeConfig(throttle=ThrottleConfig(enabled=True, ru_per_10s=2))
    tenant.emulator.set_config(config)
    assert [r.status_code for r in get_users(tenant, 2)] == [200, 429]
    tenant.emulator.set_config(RuntimeConfig(throttle=config.throttle, clock_offset_s=10))
    assert [r.status_code for r in get_users(tenant, 1)] == [200]


def test_throttling_is_off_unless_configured(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    replies = get_users(tenant, 3, "?$select=id")
    assert {r.status_code for r in replies} == {200}
    assert {r.headers["x-ms-resource-unit"] for r in replies} == {"1"}


def test_fault_rules_fire_by_route_and_rate_deterministically(local_tenant: Local) -> None:
    rules = [FaultRule(route=r"^GET /users$", status=503, rate=0.5, retry_after=2)]
    outcomes = []
    for _ in range(2):
        tenant = local_tenant("empty")
        tenant.emulator.set_config(RuntimeConfig(faults=rules, rng_seed=7))
        replies = get_users(tenant, 20)
        outcomes.append([r.status_code for r in replies])
        failed = [r for r in replies if r.status_code == 503]
        assert failed and failed[0].headers["Retry-After"] == "2"
        assert failed[0].json()["error"]["code"] == "serviceNotAvailable"
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 503}


def test_fault_rules_only_match_their_route(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    tenant.emulator.set_config(RuntimeConfig(faults=[FaultRule(route=r"^POST ", status=500)]))
    assert {r.status_code for r in get_users(tenant, 3)} == {200}


def test_batch_steps_are_throttled_one_by_one(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    tenant.emulator.set_config(RuntimeConfig(throttle=ThrottleConfig(enabled=True, ru_per_10s=3)))
    steps = [{"id": str(n), "method": "GET", "url": "/users?$select=id"} for n in range(1, 6)]

    async def go() -> httpx.Response:
        headers = {"Authorization": f"Bearer {tenant.token('reader')}"}
        async with httpx.AsyncClient(
            transport=tenant.transport, base_url="https://graph.microsoft.com"
        ) as client:
            return await client.post("/v1.0/$batch", json={"requests": steps}, headers=headers)

    reply = asyncio.run(go())
    assert reply.status_code == 200  # the envelope itself is free
    by_id = {item["id"]: item for item in reply.json()["responses"]}
    assert [by_id[str(n)]["status"] for n in range(1, 6)] == [200, 200, 200, 429, 429]
    throttled = by_id["4"]
    assert throttled["headers"]["Retry-After"] == "4"  # 1 RU at 0.3 RU/s
    assert throttled["body"]["error"]["innerError"]["status"] == "429"
    assert tenant.emulator.stats.by_route == {"POST /$batch": 1, "GET /users": 5}


def test_latency_is_added_before_each_graph_call(
    local_tenant: Local, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    # Only the emulator's own name for asyncio: a served emulator's loop on another thread sleeps as usual.
    monkeypatch.setattr("reconciler.emulator.pipeline.asyncio", SimpleNamespace(sleep=record))
    tenant = local_tenant("empty")
    tenant.emulator.set_config(RuntimeConfig(latency_ms=250))
    assert {r.status_code for r in get_users(tenant, 2)} == {200}
    assert waits == [0.25, 0.25]
    # A $batch is one round trip, however many steps it carries.
    steps = [{"id": str(n), "method": "GET", "url": "/users?$select=id"} for n in range(1, 6)]

    async def go() -> httpx.Response:
        headers = {"Authorization": f"Bearer {tenant.token('reader')}"}
        async with httpx.AsyncClient(
            transport=tenant.transport, base_url="https://graph.microsoft.com"
        ) as client:
            return await client.post("/v1.0/$batch", json={"requests": steps}, headers=headers)

    waits.clear()
    assert asyncio.run(go()).status_code == 200
    assert waits == [0.25]
    assert (tenant.emulator.stats.requests, tenant.emulator.stats.http_requests) == (2 + 6, 2 + 1)


def write(throttle: Throttle, app: str, tenant: str, now: float = 0.0) -> Any:
    return throttle.charge(app_id=app, tenant_id=tenant, ru=1, writes=1, ru_quota=100, write_quota=3, now=now)


def test_tenant_write_limit_is_shared_by_all_apps() -> None:
    throttle = Throttle(tenant_write_quota=4)
    assert all(write(throttle, "a", "t").allowed for _ in range(3))
    assert write(throttle, "b", "t").allowed  # b's own app+tenant bucket is still full
    refused = write(throttle, "b", "t")
    assert not refused.allowed
    assert refused.headers["x-ms-throttle-scope"] == "Tenant/Write/b/t"
    assert refused.headers["x-ms-throttle-information"] == "WriteLimitExceeded"
    assert refused.retry_after == 75  # 4 writes per 300 s
    assert write(throttle, "c", "other").allowed  # another tenant has its own budget
    assert write(throttle, "b", "t", now=75.0).allowed


def test_app_write_limit_is_shared_across_tenants() -> None:
    throttle = Throttle(app_write_quota=4)
    assert all(write(throttle, "a", "t1").allowed for _ in range(3))
    assert write(throttle, "a", "t2").allowed
    refused = write(throttle, "a", "t2")
    assert refused.headers["x-ms-throttle-scope"] == "Application/Write/a/t2"
    assert refused.headers["x-ms-throttle-information"] == "WriteLimitExceeded"
    assert write(throttle, "b", "t2").allowed  # another app has its own budget


def test_limit_percentage_reports_the_fullest_scope() -> None:
    throttle = Throttle(tenant_write_quota=10)
    for app in "abcdefgh":
        assert "x-ms-throttle-limit-percentage" not in write(throttle, app, "t").headers
    assert write(throttle, "i", "t").headers["x-ms-throttle-limit-percentage"] == "0.9"


def read(throttle: Throttle, priority: str, now: float = 0.0) -> Any:
    return throttle.charge(
        app_id="a", tenant_id="t", ru=1, writes=0, ru_quota=10, write_quota=3, now=now, priority=priority
    )


def test_low_priority_is_refused_above_eighty_percent_while_others_pass() -> None:
    throttle = Throttle()
    assert charge(throttle, 0.0, ru=8).allowed
    refused = read(throttle, "Low")
    assert not refused.allowed
    assert refused.retry_after == 1  # 1 RU/s brings the bucket back to 80 % once this RU is paid
    assert refused.headers["x-ms-throttle-scope"] == "Tenant_Application/ReadWrite/a/t"
    assert refused.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
    assert read(throttle, "Normal").allowed
    assert read(throttle, "High").allowed
    assert not read(throttle, "High").allowed  # High does not raise the limit
    assert not read(throttle, "low", now=1.0).allowed  # 90 % used after paying: still too full
    assert read(throttle, "low", now=3.0).allowed


def test_low_priority_writes_make_way_too() -> None:
    throttle = Throttle()
    for _ in range(2):
        assert throttle.charge(
            app_id="a", tenant_id="t", ru=1, writes=1, ru_quota=100, write_quota=3, now=0.0
        ).allowed
    refused = throttle.charge(
        app_id="a", tenant_id="t", ru=1, writes=1, ru_quota=100, write_quota=3, now=0.0, priority="Low"
    )
    assert refused.headers["x-ms-throttle-scope"] == "Tenant_Application/Write/a/t"
    assert write(throttle, "a", "t").allowed


@pytest.fixture
def demo() -> Iterator[Tenant]:
    tenant = Tenant("demo")
    yield tenant
    tenant.close()


def test_tenant_write_limit_gives_a_graph_429(demo: Tenant) -> None:
    demo.local.emulator.set_config(RuntimeConfig(throttle=ThrottleConfig(enabled=True)))
    demo.local.emulator.throttle = Throttle(tenant_write_quota=2)
    ada = demo.user_id("ada@contoso.example")
    replies = [demo.call("PATCH", f"users/{ada}", json={"jobTitle": f"T{n}"}) for n in range(3)]
    assert [r.status_code for r in replies] == [204, 204, 429]
    refused = replies[2]
    writer = demo.local.info["apps"]["writer"]["client_id"]
    assert refused.headers["x-ms-throttle-scope"] == f"Tenant/Write/{writer}/{demo.store.tenant_id}"
    assert refused.headers["x-ms-throttle-information"] == "WriteLimitExceeded"
    assert refused.headers["Retry-After"] == "150"
    assert refused.json()["error"]["code"] == "TooManyRequests"
    assert replies[1].headers["x-ms-throttle-limit-percentage"] == "1.0"


def test_throttle_priority_header_is_honoured(demo: Tenant) -> None:
    demo.local.emulator.set_config(RuntimeConfig(throttle=ThrottleConfig(enabled=True, ru_per_10s=10)))
    assert {demo.get("users?$select=id").status_code for _ in range(8)} == {200}  # 1 RU each
    low = demo.get("users?$select=id", headers={"x-ms-throttle-priority": "Low"})
    assert low.status_code == 429
    assert low.headers["Retry-After"] == "1"
    normal = demo.get("users?$select=id", headers={"x-ms-throttle-priority": "Normal"})
    assert normal.status_code == 200
    assert normal.headers["x-ms-throttle-limit-percentage"] == "0.9"
    assert demo.local.emulator.stats.throttled == 1


@pytest.mark.parametrize(("status", "code"), [(503, "serviceNotAvailable"), (504, "GatewayTimeout")])
def test_injected_server_faults_are_graph_errors_with_retry_after(
    demo: Tenant, status: int, code: str
) -> None:
    demo.local.emulator.set_config(
        RuntimeConfig(faults=[FaultRule(route=r"^GET /users$", status=status, retry_after=3)])
    )
    reply = demo.get("users", headers={"client-request-id": "c-1"})
    assert reply.status_code == status
    assert reply.headers["Retry-After"] == "3"
    error = reply.json()["error"]
    assert (error["code"], bool(error["message"])) == (code, True)
    assert error["innerError"]["request-id"] == reply.headers["request-id"]
    assert error["innerError"]["client-request-id"] == "c-1"
    assert set(error["innerError"]) >= {"date", "request-id", "client-request-id"}


def test_injected_faults_without_retry_after_send_none(demo: Tenant) -> None:
    demo.local.emulator.set_config(RuntimeConfig(faults=[FaultRule(route=r"^GET /users$", status=503)]))
    assert "Retry-After" not in demo.get("users").headers


def test_injected_429_in_a_batch_step_carries_retry_after(demo: Tenant) -> None:
    demo.local.emulator.set_config(
        RuntimeConfig(faults=[FaultRule(route=r"^GET /groups$", status=429, retry_after=5)])
    )
    steps = [
        {"id": "1", "method": "GET", "url": "/users?$select=id"},
        {"id": "2", "method": "GET", "url": "/groups"},
    ]
    by_id = {
        item["id"]: item for item in demo.call("POST", "$batch", json={"requests": steps}).json()["responses"]
    }
    assert by_id["1"]["status"] == 200
    assert by_id["2"]["status"] == 429
    assert by_id["2"]["headers"]["Retry-After"] == "5"
    assert by_id["2"]["body"]["error"]["code"] == "TooManyRequests"
    assert by_id["2"]["body"]["error"]["innerError"]["status"] == "429"
