"""Injected failures (off unless configured): `FaultRule`s matched against "METHOD /path".

A rule of kind "error" answers its `status` instead of running the request. A rule of kind "reset" runs
the request (a write is applied) and then drops the connection before the response is sent, as a
network or front-door failure does: the client cannot know whether its write happened. It applies to
requests on the wire only (a `$batch` envelope, not its steps).

The rules draw from the emulator's seeded RNG, so a test that sets `rng_seed` sees the same failures on
every run.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Literal

from reconciler.emulator.types import GraphApiError

FaultKind = Literal["error", "reset"]
FAULT_KINDS: tuple[FaultKind, ...] = ("error", "reset")


@dataclass
class FaultRule:
    route: str  # regex matched against "METHOD /path" (path without /v1.0)
    status: int = 503
    rate: float = 1.0
    retry_after: int | None = None
    kind: FaultKind = "error"


# What Graph's front door answers with for each status, when a fault rule asks for it.
_ERRORS = {
    429: ("TooManyRequests", "Please retry again later."),
    500: ("InternalServerError", "An internal server error occurred."),
    502: ("BadGateway", "The service is temporarily unavailable."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry later."),
    504: ("GatewayTimeout", "The request timed out."),
}


def validate_rule(rule: FaultRule) -> None:
    """Raise ValueError with a message fit for the admin API when a rule cannot work."""
    try:
        re.compile(rule.route)
    except re.error as exc:
        raise ValueError(f"faults: route {rule.route!r} is not a valid regular expression: {exc}") from exc
    if not 400 <= rule.status <= 599:
        raise ValueError(f"faults: status {rule.status} is not a 4xx or 5xx status")
    if not 0.0 <= rule.rate <= 1.0:
        raise ValueError(f"faults: rate {rule.rate} must be between 0 and 1")
    if rule.kind not in FAULT_KINDS:
        raise ValueError(f"faults: kind {rule.kind!r} is not one of {list(FAULT_KINDS)}")
    if rule.retry_after is not None and rule.retry_after < 0:
        raise ValueError(f"faults: retry_after {rule.retry_after} must be 0 or more seconds")


def firing_rule(
    rules: list[FaultRule], rng: random.Random, method: str, path: str, on_wire: bool
) -> FaultRule | None:
    """The first rule that matches the request and fires, if any (reset rules only for `on_wire`)."""
    target = f"{method} {path}"
    for rule in rules:
        if rule.kind == "reset" and not on_wire:
            continue
        if not re.search(rule.route, target):
            continue
        if rng.random() >= rule.rate:
            continue
        return rule
    return None


def fault_error(rule: FaultRule) -> GraphApiError:
    """What an "error" rule answers."""
    code, message = _ERRORS.get(rule.status, ("UnknownError", "Injected fault."))
    headers = {} if rule.retry_after is None else {"Retry-After": str(rule.retry_after)}
    return GraphApiError(rule.status, code, message, headers=headers)
