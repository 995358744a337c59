"""The emulator's token endpoint and token checks (Entra docs: v2-oauth2-client-creds-grant-flow,
access-token-claims-reference), in-process."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from reconciler.emulator.auth import READER_ROLES, WRITER_ROLES
from reconciler.emulator.context import RuntimeConfig
from reconciler.emulator.inprocess import LocalTenant, open_local_tenant

Local = Callable[[str], LocalTenant]
SCOPE = "https://graph.microsoft.com/.default"


def token_form(tenant: LocalTenant, app: str = "writer", **overrides: str) -> dict[str, str]:
    creds = tenant.info["apps"][app]
    form = {
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
        "grant_type": "client_credentials",
        "scope": SCOPE,
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v}


def post(tenant: LocalTenant, path: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=tenant.transport, base_url="https://login.example") as client:
            return await client.post(path, **kwargs)

    return asyncio.run(go())


def graph(tenant: LocalTenant, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=tenant.transport, base_url="https://graph.microsoft.com"
        ) as client:
            return await client.request(method, f"/v1.0{path}", headers=headers, **kwargs)

    return asyncio.run(go())


def token_path(tenant: LocalTenant) -> str:
    return f"/{tenant.info['tenant_id']}/oauth2/v2.0/token"


def test_client_credentials_issue_a_signed_app_token(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    reply = post(tenant, token_path(tenant), data=token_form(tenant, "reader"))
    assert reply.status_code == 200
    body = reply.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["tid"] == tenant.info["tenant_id"]
    assert claims["appid"] == tenant.info["apps"]["reader"]["client_id"]
    assert claims["roles"] == list(READER_ROLES)
    assert claims["exp"] - claims["iat"] == 3599


def test_secret_in_http_basic_auth_and_any_default_scope(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    creds = tenant.info["apps"]["writer"]
    basic = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode()).decode()
    form = {"grant_type": "client_credentials", "scope": "https://127.0.0.1/.default"}
    reply = post(tenant, token_path(tenant), data=form, headers={"Authorization": f"Basic {basic}"})
    assert reply.status_code == 200
    claims = jwt.decode(reply.json()["access_token"], options={"verify_signature": False})
    assert claims["roles"] == list(WRITER_ROLES)


@pytest.mark.parametrize(
    ("overrides", "status", "error", "code"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
        ({"client_secret": ""}, 401, "invalid_client", 7000216),
        ({"client_id": "00000000-0000-0000-0000-000000000000"}, 400, "unauthorized_client", 700016),
        ({"scope": "User.Read.All"}, 400, "invalid_scope", 1002012),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
        ({"scope": ""}, 400, "invalid_request", 900144),
    ],
)
def test_token_errors_are_aadsts_shaped(
    local_tenant: Local, overrides: dict[str, str], status: int, error: str, code: int
) -> None:
    tenant = local_tenant("empty")
    reply = post(tenant, token_path(tenant), data=token_form(tenant, **overrides))
    assert reply.status_code == status
    body = reply.json()
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")


def test_unknown_tenant_and_garbage_never_give_a_5xx(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    reply = post(tenant, "/not-a-tenant/oauth2/v2.0/token", data=token_form(tenant))
    assert (reply.status_code, reply.json()["error_codes"]) == (400, [90002])
    reply = post(tenant, token_path(tenant), content=b"\xff\x00garbage&&==")
    assert reply.status_code == 400


def test_openid_configuration_points_at_the_token_endpoint(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    tid = tenant.info["tenant_id"]

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=tenant.transport, base_url="https://127.0.0.1:8443") as client:
            return await client.get(f"/{tid}/v2.0/.well-known/openid-configuration")

    body = asyncio.run(go()).json()
    assert body["token_endpoint"] == f"https://127.0.0.1:8443/{tid}/oauth2/v2.0/token"
    assert body["authorization_endpoint"] == f"https://127.0.0.1:8443/{tid}/oauth2/v2.0/authorize"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "Access token is empty."),
        ("not.a.jwt", "Access token validation failure. Invalid signature."),
    ],
)
def test_graph_refuses_missing_or_bad_tokens(local_tenant: Local, token: str | None, message: str) -> None:
    tenant = local_tenant("empty")
    reply = graph(tenant, "GET", "/users", token)
    assert reply.status_code == 401
    error = reply.json()["error"]
    assert (error["code"], error["message"]) == ("InvalidAuthenticationToken", message)
    assert error["innerError"]["request-id"] == reply.headers["request-id"]


def test_forged_and_foreign_audience_tokens_are_refused(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    claims = jwt.decode(tenant.token("writer"), options={"verify_signature": False})
    forged = jwt.encode(claims, b"another key with enough bytes for HS256", algorithm="HS256")
    assert graph(tenant, "GET", "/users", forged).status_code == 401
    key = tenant.emulator.auth.key
    foreign = jwt.encode({**claims, "aud": "https://management.azure.com"}, key, algorithm="HS256")
    reply = graph(tenant, "GET", "/users", foreign)
    assert reply.json()["error"]["message"] == "Access token validation failure. Invalid audience."


def test_tokens_of_another_issuer_or_tenant_are_refused_even_when_signed_with_our_key(
    local_tenant: Local,
) -> None:
    tenant = local_tenant("empty")
    claims = jwt.decode(tenant.token("writer"), options={"verify_signature": False})
    key = tenant.emulator.auth.key
    refused = "Access token validation failure. Invalid issuer or signature."
    for other in ({"iss": "https://sts.windows.net/another-tenant/"}, {"tid": "another-tenant"}):
        token = jwt.encode({**claims, **other}, key, algorithm="HS256")
        reply = graph(tenant, "GET", "/users", token)
        assert (reply.status_code, reply.json()["error"]["message"]) == (401, refused)


def test_tokens_expire_on_the_emulators_clock(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    token = tenant.token("reader")
    assert graph(tenant, "GET", "/users", token).status_code == 200
    tenant.emulator.set_config(RuntimeConfig(clock_offset_s=3600))
    reply = graph(tenant, "GET", "/users", token)
    assert reply.status_code == 401
    assert reply.json()["error"]["message"] == "Lifetime validation failed, the token is expired."


def test_missing_role_gives_403_authorization_request_denied(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    body = {
        "accountEnabled": True,
        "displayName": "Ada",
        "mailNickname": "ada",
        "userPrincipalName": "ada@contoso.example",
        "passwordProfile": {"password": "xWwvJ]6NMw+bWH-d", "forceChangePasswordNextSignIn": True},
    }
    reply = graph(tenant, "POST", "/users", tenant.token("reader"), json=body)
    assert reply.status_code == 403
    error = reply.json()["error"]
    assert error["code"] == "Authorization_RequestDenied"
    assert error["message"] == "Insufficient privileges to complete the operation."
    assert graph(tenant, "POST", "/users", tenant.token("writer"), json=body).status_code == 201


def test_secrets_and_signing_key_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "tenant.db"
    first = open_local_tenant(db, "empty")
    token, apps = first.token("reader"), first.info["apps"]
    first.close()
    second = open_local_tenant(db, "empty")
    try:
        assert second.info["apps"] == apps
        assert second.emulator.auth.verify(f"Bearer {token}", second.emulator.now()).name == "reader"
    finally:
        second.close()


def test_a_tenant_saved_before_the_admin_app_gets_it_and_the_new_permissions(tmp_path: Path) -> None:
    """A database written when the built-in apps were reader and writer with fewer permissions: opened
    again, reader and writer keep their client ids and secrets and gain today's permissions, and admin
    (writer plus RoleManagement.ReadWrite.Directory) is added."""
    db = tmp_path / "old.db"
    first = open_local_tenant(db, "empty")
    apps = first.emulator.auth.apps
    old = {
        "reader": {**apps["reader"].to_json(), "roles": ["User.Read.All"]},
        "writer": {**apps["writer"].to_json(), "roles": ["User.Read.All", "User.ReadWrite.All"]},
    }
    for saved in old.values():
        del saved["display_name"]
    first.emulator.store.set_meta("emulator.apps", json.dumps(old))
    first.close()
    second = open_local_tenant(db, "empty")
    try:
        apps = second.info["apps"]
        assert set(apps) == {"reader", "writer", "admin"}
        for name in ("reader", "writer"):
            assert (apps[name]["client_id"], apps[name]["client_secret"]) == (
                old[name]["client_id"],
                old[name]["client_secret"],
            )
        assert apps["reader"]["roles"] == list(READER_ROLES)
        assert apps["writer"]["roles"] == list(WRITER_ROLES)
        assert apps["admin"]["roles"] == [*WRITER_ROLES, "RoleManagement.ReadWrite.Directory"]
        assert {a["display_name"] for a in apps.values()} == {
            "entraform reader",
            "entraform writer",
            "entraform admin",
        }
        assert json.loads(second.emulator.store.get_meta("emulator.apps") or "{}") == apps
    finally:
        second.close()


def test_tenant_may_be_named_by_a_verified_domain(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    reply = post(tenant, "/contoso.example/oauth2/v2.0/token", data=token_form(tenant))
    assert reply.status_code == 200
