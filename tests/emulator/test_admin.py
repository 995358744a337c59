"""The admin API under `/_emulator/` (documented in the README), in-process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from reconciler.emulator.context import RuntimeConfig
from reconciler.emulator.inprocess import LocalTenant

Local = Callable[[str], LocalTenant]

NEW_USER = {
    "accountEnabled": True,
    "displayName": "Grace Hopper",
    "mailNickname": "grace",
    "userPrincipalName": "grace@contoso.example",
    "passwordProfile": {"password": "xWwvJ]6NMw+bWH-d", "forceChangePasswordNextSignIn": True},
}


def call(
    tenant: LocalTenant,
    method: str,
    path: str,
    app: str | None = None,
    client_host: str = "127.0.0.1",
    **kwargs: Any,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {tenant.token(app)}"} if app else {}
    transport = httpx.ASGITransport(app=tenant.app, client=(client_host, 1234))

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1:8443") as client:
            return await client.request(method, path, headers=headers, **kwargs)

    return asyncio.run(go())


def test_stats_count_requests_by_route_template_and_token_requests_apart(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    created = call(tenant, "POST", "/v1.0/users", "writer", json=NEW_USER).json()
    call(tenant, "GET", f"/v1.0/users/{created['id']}", "reader")
    call(tenant, "GET", "/v1.0/users?$select=id", "reader")
    call(tenant, "GET", "/v1.0/users", None)  # 401: counted as a request, no resource units
    call(tenant, "POST", f"/{tenant.info['tenant_id']}/oauth2/v2.0/token", data={"grant_type": "x"})
    stats = call(tenant, "GET", "/_emulator/stats").json()
    assert stats == {
        "requests": 4,
        "http_requests": 4,
        "resource_units": 3,
        "throttled": 0,
        "faults": 0,
        "writes": 1,
        "by_route": {"GET /users": 2, "GET /users/{id}": 1, "POST /users": 1},
        "token_requests": 1,
    }
    assert call(tenant, "POST", "/_emulator/stats/reset").json()["requests"] == 0
    assert call(tenant, "GET", "/_emulator/stats").json()["by_route"] == {}


def test_config_put_merges_partial_updates(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    assert call(tenant, "GET", "/_emulator/config").json() == RuntimeConfig().to_json()
    call(tenant, "PUT", "/_emulator/config", json={"throttle": {"enabled": True}, "lag_ms": 250})
    fault = {"route": "^PATCH ", "status": 503, "rate": 0.25, "retry_after": 1}
    reply = call(
        tenant, "PUT", "/_emulator/config", json={"throttle": {"ru_per_10s": 100}, "faults": [fault]}
    )
    assert reply.status_code == 200
    config = call(tenant, "GET", "/_emulator/config").json()
    assert config["throttle"] == {"enabled": True, "ru_per_10s": 100, "writes_per_150s": None}
    assert (config["lag_ms"], config["faults"]) == (250, [{**fault, "kind": "error"}])
    assert tenant.emulator.ctx.config.lag_ms == 250  # what the routes read


def test_bad_config_is_refused_with_the_reason(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    for body, words in [
        ({"lag": 5}, "unknown config key(s) ['lag']"),
        ({"throttle": {"ru_per_10s": 0}}, "throttle.ru_per_10s must be a positive integer"),
        ({"faults": [{"route": "("}]}, "not a valid regular expression"),
        ({"faults": [{"route": "x", "rate": 2}]}, "rate 2.0 must be between 0 and 1"),
        ({"latency_ms": "fast"}, "latency_ms must be an integer"),
    ]:
        reply = call(tenant, "PUT", "/_emulator/config", json=body)
        assert reply.status_code == 400
        assert words in reply.json()["error"]["message"]
    assert call(tenant, "GET", "/_emulator/config").json() == RuntimeConfig().to_json()


def test_reset_restores_the_seed_and_seed_switches_tenant(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    assert call(tenant, "POST", "/v1.0/users", "writer", json=NEW_USER).status_code == 201
    assert len(tenant.emulator.store.users) == 1
    assert call(tenant, "POST", "/_emulator/reset").json() == {"seed": "empty"}
    assert tenant.emulator.store.users == {}
    reply = call(tenant, "POST", "/_emulator/seed", json={"seed": "synthetic:30:3:40"})
    assert reply.json() == {"seed": "synthetic:30:3:40"}
    assert len(tenant.emulator.store.users) == 30
    call(tenant, "POST", "/_emulator/reset")
    assert len(tenant.emulator.store.users) == 30
    reply = call(tenant, "POST", "/_emulator/seed", json={"seed": "bogus"})
    assert reply.status_code == 400
    assert "unknown seed 'bogus'" in reply.json()["error"]["message"]


def test_patch_user_marks_it_synced_from_on_premises(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    user = call(tenant, "POST", "/v1.0/users", "writer", json=NEW_USER).json()
    reply = call(tenant, "PATCH", f"/_emulator/users/{user['id']}", json={"onPremisesSyncEnabled": True})
    assert reply.status_code == 204
    assert tenant.emulator.store.users[user["id"]]["onPremisesSyncEnabled"] is True
    missing = call(tenant, "PATCH", "/_emulator/users/nobody", json={"onPremisesSyncEnabled": True})
    assert missing.status_code == 404
    bad = call(tenant, "PATCH", f"/_emulator/users/{user['id']}", json={"accountEnabled": False})
    assert bad.status_code == 400


def test_admin_api_answers_loopback_clients_only(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    for path in ("/_emulator/stats", "/_emulator/config"):
        reply = call(tenant, "GET", path, client_host="10.1.2.3")
        assert reply.status_code == 403
    assert call(tenant, "POST", "/_emulator/reset", client_host="192.168.0.9").status_code == 403
    assert call(tenant, "GET", "/_emulator/stats", client_host="::1").status_code == 200
