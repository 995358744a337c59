"""The types every part of the emulator speaks, and nothing else: a leaf that imports no other module of the
emulator (as `starlette/types.py` is for starlette).

An HTTP request, or one step of a `$batch`, becomes a `GraphRequest`; a route answers with a
`GraphResponse` or raises `GraphApiError`. `SeedData` is a whole tenant as the seeds build it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A Graph object (or any JSON object) as the emulator keeps it: Graph's camelCase names to JSON values.
Json = dict[str, Any]


@dataclass(frozen=True)
class AppIdentity:
    """The calling application, from a verified bearer token."""

    client_id: str
    name: str
    roles: frozenset[str]
    tenant_id: str
    display_name: str = ""


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
    # Directory audit records the handler's writes call for (audit.py), kept only if the request succeeds.
    audit: list[Json] = field(default_factory=list)


@dataclass
class GraphResponse:
    status: int
    body: Any = None  # JSON-able; a str is sent as text/plain (the `$count` segment)
    headers: dict[str, str] = field(default_factory=dict)
    # An injected "reset" fault: the HTTP edge drops the connection instead of sending this response.
    dropped: bool = False


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


@dataclass(frozen=True)
class SignInAges:
    """Seconds before seeding of a user's last interactive and non-interactive sign-ins (None: never)."""

    interactive_s: int | None
    non_interactive_s: int | None = None


@dataclass
class SeedData:
    """A whole tenant, as the seeds build it and `Store.load_seed` writes it in one transaction."""

    organization: Json
    skus: dict[str, Json]  # skuId -> subscribedSku without consumedUnits
    users: list[Json]
    groups: list[Json]
    members: list[tuple[str, str]]  # (group id, member id)
    owners: list[tuple[str, str]]
    managers: list[tuple[str, str]]  # (user id, manager id)
    licenses: list[tuple[str, str, list[str]]]  # (user id, skuId, disabledPlans): direct assignments
    # (roleDefinitionId, principalId, directoryScopeId): directory role assignments
    role_assignments: list[tuple[str, str, str]] = field(default_factory=list)
    # user id -> when they last signed in, before seeding (signins); a user not listed never signed in
    sign_ins: dict[str, SignInAges] = field(default_factory=dict)
