"""Azure Resource Manager's two answers for azure-cli: the cloud metadata endpoint and an empty subscription
list, with tokens for ARM's audience from the emulator's own token endpoint; kept out of Graph's counters."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import jwt
import pytest

ARM_SCOPE = "https://management.core.windows.net//.default"


def token(info: dict[str, Any], verify: ssl.SSLContext, scope: str) -> str:
    creds = info["apps"]["writer"]
    reply = httpx.post(
        f"{info['authority']}/{info['tenant_id']}/oauth2/v2.0/token",
        data={
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "grant_type": "client_credentials",
            "scope": scope,
        },
        verify=verify,
    )
    reply.raise_for_status()
    return str(reply.json()["access_token"])


@pytest.fixture
def arm(emulator_info: dict[str, Any], ca_context: ssl.SSLContext) -> httpx.Client:
    return httpx.Client(base_url=emulator_info["authority"], verify=ca_context)


def test_metadata_endpoints_point_every_endpoint_at_the_emulator(
    emulator_info: dict[str, Any], arm: httpx.Client
) -> None:
    reply = arm.get("/metadata/endpoints", params={"api-version": "2022-09-01"})
    assert reply.status_code == 200
    body = reply.json()
    origin = emulator_info["authority"]
    assert body["authentication"]["loginEndpoint"] == origin
    assert body["authentication"]["audiences"][0] == "https://management.core.windows.net/"
    assert body["resourceManager"] == body["microsoftGraphResourceId"] == f"{origin}/"
    assert isinstance(body["suffixes"], dict) and body["name"]
    # What `az cloud register --endpoint-resource-manager https://HOST/` asks for.
    assert arm.get(f"{origin}//metadata/endpoints?api-version=2022-09-01").status_code == 200


def test_arm_needs_an_api_version(arm: httpx.Client) -> None:
    reply = arm.get("/metadata/endpoints")
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "MissingApiVersionParameter"


def test_subscriptions_need_an_arm_token_and_are_empty(
    emulator_info: dict[str, Any], ca_context: ssl.SSLContext, arm: httpx.Client
) -> None:
    url = "/subscriptions?api-version=2022-12-01"
    assert arm.get(url).json()["error"]["code"] == "AuthenticationFailed"
    graph_token = token(emulator_info, ca_context, "https://graph.microsoft.com/.default")
    refused = arm.get(url, headers={"Authorization": f"Bearer {graph_token}"})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "InvalidAuthenticationToken"
    arm_token = token(emulator_info, ca_context, ARM_SCOPE)
    assert (
        jwt.decode(arm_token, options={"verify_signature": False})["aud"]
        == "https://management.core.windows.net/"
    )
    reply = arm.get(url, headers={"Authorization": f"Bearer {arm_token}"})
    assert (reply.status_code, reply.json()) == (200, {"value": []})


def test_graph_refuses_an_arm_token(emulator_info: dict[str, Any], ca_context: ssl.SSLContext) -> None:
    arm_token = token(emulator_info, ca_context, ARM_SCOPE)
    reply = httpx.get(
        f"{emulator_info['graph_url']}/users",
        headers={"Authorization": f"Bearer {arm_token}"},
        verify=ca_context,
    )
    assert reply.status_code == 401
    assert reply.json()["error"]["message"] == "Access token validation failure. Invalid audience."


def test_arm_calls_are_not_graph_requests(
    reset_emulator: dict[str, Any], ca_context: ssl.SSLContext, arm: httpx.Client, admin: httpx.Client
) -> None:
    arm_token = token(reset_emulator, ca_context, ARM_SCOPE)
    arm.get("/metadata/endpoints?api-version=2022-09-01")
    arm.get("/subscriptions?api-version=2022-12-01", headers={"Authorization": f"Bearer {arm_token}"})
    stats = admin.get("stats").json()
    assert (stats["requests"], stats["resource_units"]) == (0, 0)
