"""Graph answers → verdicts: idempotent successes, retries, conflicts, lag, failures."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.apply.operations import Op
from reconciler.apply.outcomes import Verdict, classify
from reconciler.graph.wire import RawResponse


def answer(status: int, code: str = "", message: str = "", **extra: Any) -> RawResponse:
    body = {"error": {"code": code, "message": message, "innerError": {"request-id": "r-1"}, **extra}}
    return RawResponse(status, {}, body if code else None)


ALREADY_MEMBER = (
    "One or more added object references already exist for the following modified properties: 'members'."
)
NOT_MEMBER = (
    "One or more removed object references do not exist for the following modified properties: 'members'."
)
LAG = "The source resource object or one of the objects being referenced don't exist."
DUPLICATE = "Another object with the same value for property userPrincipalName already exists."


@pytest.mark.parametrize(
    ("op", "response", "verdict"),
    [
        ("create_user", RawResponse(201, {}, {"id": "u1"}), Verdict.DONE),
        ("license", RawResponse(202), Verdict.DONE),
        ("add_ref", answer(400, "Request_BadRequest", ALREADY_MEMBER), Verdict.ALREADY),
        ("bind_members", answer(400, "Request_BadRequest", ALREADY_MEMBER), Verdict.FAILED),
        ("remove_ref", answer(400, "Request_BadRequest", NOT_MEMBER), Verdict.ALREADY),
        (
            "remove_ref",
            answer(404, "Request_ResourceNotFound", "Resource 'x' does not exist"),
            Verdict.ALREADY,
        ),
        ("delete", answer(404, "Request_ResourceNotFound", "gone"), Verdict.ALREADY),
        ("clear_manager", answer(404, "Request_ResourceNotFound", "no manager"), Verdict.ALREADY),
        ("license", answer(400, "Request_BadRequest", "License is already assigned."), Verdict.ALREADY),
        ("add_ref", answer(400, "Request_BadRequest", LAG), Verdict.LAG),
        ("set_manager", answer(404, "Request_ResourceNotFound", "Resource 'x' does not exist"), Verdict.LAG),
        (
            "create_user",
            answer(400, "Request_BadRequest", DUPLICATE, details=[{"code": "ObjectConflict"}]),
            Verdict.CONFLICT,
        ),
        ("patch", answer(400, "Request_BadRequest", DUPLICATE), Verdict.FAILED),
        ("create_group", answer(400, "Request_BadRequest", "Invalid value for mailNickname"), Verdict.FAILED),
        ("patch", answer(403, "Authorization_RequestDenied", "Insufficient privileges"), Verdict.FAILED),
        ("patch", answer(503, "ServiceUnavailable", "later"), Verdict.TRANSIENT),
        ("patch", answer(504, "GatewayTimeout", "later"), Verdict.TRANSIENT),
    ],
)
def test_verdicts(op: Op, response: RawResponse, verdict: Verdict) -> None:
    assert classify(op, response).verdict is verdict


def test_a_429_carries_retry_after_and_whether_the_write_quota_said_no() -> None:
    headers = {"retry-after": "3", "x-ms-throttle-information": "WriteLimitExceeded"}
    outcome = classify("add_ref", RawResponse(429, headers, None))
    assert (outcome.verdict, outcome.retry_after, outcome.write_limited) == (Verdict.THROTTLED, 3.0, True)


def test_a_failure_names_graphs_code_message_and_request_id() -> None:
    outcome = classify("patch", answer(403, "Authorization_RequestDenied", "Insufficient privileges"))
    assert outcome.error == "403 Authorization_RequestDenied: Insufficient privileges"
    assert outcome.request_id == "r-1"


def test_a_missing_permission_is_named() -> None:
    response = answer(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )
    outcome = classify("create_user", response, "POST", "/users")
    assert outcome.verdict is Verdict.FAILED
    assert "User.ReadWrite.All" in outcome.message
