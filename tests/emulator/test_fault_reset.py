"""The "reset" fault over a real socket: the write is applied, then the connection drops before the answer,
so the client cannot know; the audit log still records the write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

Http = Callable[[str], httpx.Client]

NEW_USER = {
    "accountEnabled": True,
    "displayName": "Reset Test",
    "mailNickname": "reset.test",
    "userPrincipalName": "reset.test@contoso.example",
    "passwordProfile": {"password": "xWwvJ]6NMw+bWH-d", "forceChangePasswordNextSignIn": True},
}


def test_a_reset_write_is_applied_but_never_answered(
    reset_emulator: dict[str, Any], admin: httpx.Client, graph_http: Http
) -> None:
    writer = graph_http("writer")
    admin.put("config", json={"faults": [{"route": "^POST /users$", "kind": "reset"}]}).raise_for_status()
    with pytest.raises(httpx.RemoteProtocolError):
        writer.post(
            "users", json=NEW_USER, headers={"client-request-id": "11111111-2222-4333-8444-555555555555"}
        )
    admin.put("config", json={"faults": []}).raise_for_status()
    found = writer.get("users/reset.test@contoso.example")
    assert found.status_code == 200
    audits = graph_http("reader").get("auditLogs/directoryAudits").json()["value"]
    assert [a["correlationId"] for a in audits if a["activityDisplayName"] == "Add user"] == [
        "11111111-2222-4333-8444-555555555555"
    ]


def test_a_reset_batch_applies_its_steps_and_steps_never_reset(
    reset_emulator: dict[str, Any], admin: httpx.Client, graph_http: Http
) -> None:
    writer = graph_http("writer")
    # A reset rule on the steps' route does not fire inside a $batch: only what is on the wire resets.
    faults = [{"route": "^POST /users$", "kind": "reset"}]
    admin.put("config", json={"faults": faults}).raise_for_status()
    step = {"id": "1", "method": "POST", "url": "/users", "body": NEW_USER}
    step["headers"] = {"Content-Type": "application/json"}
    assert writer.post("$batch", json={"requests": [step]}).json()["responses"][0]["status"] == 201
    admin.put("config", json={"faults": [{"route": r"^POST /\$batch$", "kind": "reset"}]}).raise_for_status()
    second = {**step, "body": {**NEW_USER, "userPrincipalName": "reset.two@contoso.example"}}
    with pytest.raises(httpx.RemoteProtocolError):
        writer.post("$batch", json={"requests": [second]})
    admin.put("config", json={"faults": []}).raise_for_status()
    assert writer.get("users/reset.two@contoso.example").status_code == 200


def test_reset_is_a_known_fault_kind_and_others_are_refused(admin: httpx.Client) -> None:
    reply = admin.put("config", json={"faults": [{"route": "^GET ", "kind": "hang"}]})
    assert reply.status_code == 400
    assert "kind must be one of ['error', 'reset']" in reply.json()["error"]["message"]
