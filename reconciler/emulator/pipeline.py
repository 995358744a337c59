"""The contract between the emulator's HTTP edge and its Graph routes.

An HTTP request (or one step of a `$batch`) becomes a `GraphRequest`; `Emulator.handle` matches it to a
`Route`, checks the token's roles, charges resource units (throttling), injects configured faults and
latency, then calls the route's handler, which returns a `GraphResponse` or raises `GraphApiError`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.emulator.context import EmulatorContext


@dataclass(frozen=True)
class AppIdentity:
    """The calling application, from a verified bearer token."""

    client_id: str
    name: str
    roles: frozenset[str]
    tenant_id: str


@dataclass
class GraphRequest:
    method: str  # upper-case
    path: str  # without the "/v1.0" prefix, "//" collapsed, e.g. "/users/{id}/manager/$ref"
    query: dict[str, str]  # percent-decoded query options, e.g. {"$select": "id,displayName"}
    headers: dict[str, str]  # names lower-cased
    body: Any  # parsed JSON, or None
    base_url: str  # scheme://host[:port]/v1.0 as the client reached us (for nextLink, @odata.context)
    app: AppIdentity | None = None
    request_id: str = ""
    in_batch: bool = False


@dataclass
class GraphResponse:
    status: int
    body: Any = None  # JSON-able; a str is sent as text/plain (the `$count` segment)
    headers: dict[str, str] = field(default_factory=dict)


class GraphApiError(Exception):
    """A Graph error response: `{"error": {"code", "message", "innerError", "details"?}}`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


# `$batch` is the one async handler: it awaits `ctx.dispatch` for each step.
Handler = Callable[
    ["EmulatorContext", GraphRequest, dict[str, str]], GraphResponse | Awaitable[GraphResponse]
]


@dataclass(frozen=True)
class Route:
    """One Graph operation.

    `template` uses `{name}` for path parameters ("/groups/{id}/members/{member_id}/$ref") and is the
    key of the admin `stats.by_route` counters ("POST /groups/{id}/members/$ref").
    `permissions`: the token must hold at least one of these roles (least privileged first).
    `cost`: base resource units (Graph docs: concepts/throttling-limits); writes cost 1 RU + 1 write; 0 is
    free and never throttled (the `$batch` envelope, whose steps are charged one by one).
    """

    method: str
    template: str
    handler: Handler
    permissions: tuple[str, ...]
    cost: int = 1
    write: bool = False
