"""What one Graph answer means for the unit that asked: done, already done, retry, or failed (SPEC §5)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from reconciler.apply.operations import Op
from reconciler.graph.errors import (
    error_code,
    error_from_response,
    error_message,
    is_already_member,
    is_conflict,
    is_not_member,
    is_replication_lag,
    request_id,
)
from reconciler.graph.retry import DEFAULT_POLICY, NO_ANSWER, RetryPolicy
from reconciler.graph.wire import RawResponse


class Verdict(Enum):
    DONE = "applied"
    ALREADY = "already"  # idempotent success: already a member, not a member, already gone
    THROTTLED = "throttled"  # 429: retry after Retry-After
    TRANSIENT = "transient"  # 503/504: retry with backoff
    LAG = "lag"  # 404/400 on an object that may not have replicated yet
    CONFLICT = "conflict"  # a create whose key is taken: maybe our own earlier, lost, attempt
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    status: int
    code: str = ""
    message: str = ""
    request_id: str = ""
    retry_after: float | None = None
    write_limited: bool = False  # a 429 caused by the write quota (x-ms-throttle-information)

    @property
    def error(self) -> str:
        """Graph's code and message, as the summary names a failure."""
        return f"{self.status} {self.code}: {self.message}".rstrip(": ")


_CREATES: tuple[Op, ...] = ("create_user", "create_group")
_REMOVALS: tuple[Op, ...] = ("remove_ref", "clear_manager", "delete", "remove_role")


def classify(
    op: Op, response: RawResponse, method: str = "", path: str = "", policy: RetryPolicy = DEFAULT_POLICY
) -> Outcome:
    """The verdict on one Graph answer to `method path`, a request of a unit of kind `op`."""
    verdict = _verdict(op, response, policy)
    message = error_message(response)
    if response.status == 403 and method:
        # Name the permission the app lacks, as every other command does (SPEC §6).
        message = error_from_response(method, path, response).message
    return Outcome(
        verdict=verdict,
        status=response.status,
        code=error_code(response),
        message=message,
        request_id=request_id(response) or response.headers.get("client-request-id", ""),
        retry_after=response.retry_after,
        write_limited="writelimit" in response.headers.get("x-ms-throttle-information", "").lower(),
    )


def transport_failure(message: str) -> Outcome:
    """No answer at all (connection reset, timeout): the write may or may not have happened."""
    return Outcome(Verdict.TRANSIENT, NO_ANSWER, "NoResponse", message)


def _verdict(op: Op, response: RawResponse, policy: RetryPolicy) -> Verdict:
    if response.ok:
        return Verdict.DONE
    if response.status in policy.throttled:
        return Verdict.THROTTLED
    if policy.is_transient(response.status):
        return Verdict.TRANSIENT
    if op in _CREATES and is_conflict(response):
        return Verdict.CONFLICT
    if op == "assign_role" and is_conflict(response):
        return Verdict.ALREADY  # the principal holds the role at that scope already
    if op == "add_ref" and is_already_member(response):
        return Verdict.ALREADY
    if op == "remove_ref" and is_not_member(response):
        return Verdict.ALREADY
    if op in ("clear_manager", "delete", "remove_role") and response.status == 404:
        return Verdict.ALREADY
    if op == "restore" and response.status == 404:
        return Verdict.ALREADY  # no longer in deletedItems: restored already (a retry after a lost answer)
    if op == "license" and "already assigned" in error_message(response).lower():
        return Verdict.ALREADY
    if op not in _REMOVALS and is_replication_lag(response):
        return Verdict.LAG
    return Verdict.FAILED
