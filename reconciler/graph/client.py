"""The Graph client: the official SDK's HTTP pipeline (auth, redirect middleware) with raw JSON.

Every request goes through kiota's `GraphRequestAdapter`, so tokens, CAE challenges and redirects are
the SDK's own. Retries are not: the SDK's retry handler is switched off on every request and
`graph.retry` says which layer retries what (`get` retries single reads itself). Responses are read as
raw bytes and parsed with `json`: SDK model objects cost ~8 ms each to build
(msgraph-sdk-python issue #584), far too slow for bulk reads.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import msgspec

from reconciler.errors import GraphError, GraphNoAnswer
from reconciler.graph.errors import error_code, error_from_response
from reconciler.graph.retry import DEFAULT_POLICY, RetryPolicy
from reconciler.graph.wire import MAX_BATCH_STEPS, BatchStep, RawResponse

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from kiota_abstractions.request_adapter import RequestAdapter

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# The defaults of the SDK's own client (kiota_http.KiotaClientFactory).
TIMEOUT = httpx.Timeout(100.0, connect=30.0)


class GraphClient:
    """A small typed async API over the SDK's request adapter; the only thing that speaks HTTP to Graph."""

    def __init__(
        self,
        adapter: RequestAdapter,
        base_url: str,
        closers: list[Callable[[], Awaitable[None]]] | None = None,
        retry: RetryPolicy = DEFAULT_POLICY,
        credential: AsyncTokenCredential | RenewingCredential | None = None,
    ) -> None:
        self._adapter = adapter
        self.base_url = base_url.rstrip("/")
        self._closers = closers or []
        self.retry = retry
        self._credential = credential
        self.requests_sent = 0  # HTTP requests, each $batch envelope one (what benchmarks report)

    async def token_claims(self) -> dict[str, Any]:
        """The claims of the access token (read, not verified: Graph verifies it); {} when it has none
        to read (an opaque token). Apply checks its `roles` before the first write and journals its app."""
        if self._credential is None:
            return {}
        from azure.core.exceptions import ClientAuthenticationError

        try:
            # As the SDK asks for its tokens (kiota enables CAE): one token, from one cache entry.
            token = (await self._credential.get_token(GRAPH_SCOPE, enable_cae=True)).token
        except ClientAuthenticationError as exc:
            raise GraphError(f"could not get a Graph token: {_first_line(str(exc))}") from None
        return jwt_claims(token)

    def url(self, path_or_url: str) -> str:
        """An absolute URL: nextLinks are used verbatim, paths are put under the base URL."""
        if path_or_url.startswith(("https://", "http://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def relative(self, path_or_url: str) -> str:
        """The URL as a `$batch` step wants it: relative to the base URL, starting with '/'."""
        if path_or_url.startswith(self.base_url):
            return path_or_url[len(self.base_url) :] or "/"
        if path_or_url.startswith(("https://", "http://")):
            parts = urlsplit(path_or_url)
            path = parts.path.removeprefix(urlsplit(self.base_url).path)
            return path + (f"?{parts.query}" if parts.query else "")
        return "/" + path_or_url.lstrip("/")

    async def send(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> RawResponse:
        """Send one request through the SDK pipeline; 4xx/5xx come back as they are, for the caller. A token
        Graph refused is renewed and the request sent again, once (`_renews_token`)."""
        answer = await self._send_once(method, path, body, headers)
        if self._renews_token(answer):
            answer = await self._send_once(method, path, body, headers)
        return answer

    async def _send_once(
        self, method: str, path: str, body: Any, headers: dict[str, str] | None
    ) -> RawResponse:
        from kiota_abstractions.method import Method
        from kiota_abstractions.native_response_handler import NativeResponseHandler
        from kiota_abstractions.request_information import RequestInformation
        from kiota_http.middleware.options import ResponseHandlerOption, RetryHandlerOption

        info = RequestInformation()
        info.http_method = Method(method.upper())
        info.url = self.url(path)
        info.headers.try_add("Accept", "application/json")
        for name, value in (headers or {}).items():
            info.headers.add(name, value)
        if body is not None:
            info.headers.try_add("Content-Type", "application/json")
            info.content = json.dumps(body).encode()
        # The native handler hands back the httpx response untouched: no SDK model, no raise on 4xx.
        # The SDK's retries are off: `graph.retry` gives each request one layer that retries it.
        no_retry = RetryHandlerOption(delay=0, max_retries=0, should_retry=False)
        info.add_request_options([ResponseHandlerOption(NativeResponseHandler()), no_retry])
        self.requests_sent += 1
        response = await self._transmit(info, method, path)
        content = response.content
        # An httpx response and its stream refer to each other: left to the cycle collector, the body
        # lives on until a full collection (160 MB of pages at once while 100,000 users are read).
        # The body is read, so the spent stream can go.
        response.stream = httpx.ByteStream(b"")
        return RawResponse(
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=_parse(content),
        )

    def _renews_token(self, answer: RawResponse) -> bool:
        """Whether Graph refused the token itself (401 InvalidAuthenticationToken: expired by Graph's clock
        though not by ours, or revoked), so that a new token is asked for and the request sent again once.
        Graph ran nothing on a 401, so sending it again cannot write twice."""
        if answer.status != 401 or not isinstance(self._credential, RenewingCredential):
            return False
        if error_code(answer) != "InvalidAuthenticationToken":
            return False
        self._credential.renew()
        return True

    async def get(self, path_or_url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        """GET raw JSON, retrying transient answers (`graph.retry`); any other error status raises a
        `GraphError` with one clear message."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.send("GET", path_or_url, headers=headers)
            except GraphNoAnswer:
                if self.retry.gives_up(0, attempt):
                    raise
                await asyncio.sleep(self.retry.wait(attempt, None))
                continue
            if not self.retry.is_transient(response.status) or self.retry.gives_up(response.status, attempt):
                break
            await asyncio.sleep(self.retry.wait(attempt, response.retry_after))
        if not response.ok:
            raise error_from_response("GET", self.relative(path_or_url), response)
        if not isinstance(response.body, dict):
            raise GraphError(f"Graph answered GET {self.relative(path_or_url)} with a body that is not JSON")
        return response.body

    async def batch(self, steps: list[BatchStep]) -> dict[str, RawResponse]:
        """One JSON `$batch` of at most 20 steps; the answers by step id (each step may have failed)."""
        if not 0 < len(steps) <= MAX_BATCH_STEPS:
            raise ValueError(f"a $batch holds 1 to {MAX_BATCH_STEPS} steps, not {len(steps)}")
        requests = [self._batch_item(step) for step in steps]
        response = await self.send("POST", "/$batch", body={"requests": requests})
        if not response.ok:
            raise error_from_response("POST", "/$batch", response)
        answers = response.body.get("responses", []) if isinstance(response.body, dict) else []
        result: dict[str, RawResponse] = {}
        for answer in answers:
            result[str(answer["id"])] = RawResponse(
                status=int(answer["status"]),
                headers={k.lower(): str(v) for k, v in (answer.get("headers") or {}).items()},
                body=answer.get("body"),
            )
        missing = [step.id for step in steps if step.id not in result]
        if missing:
            raise GraphError(f"Graph's $batch answer lacks the steps {', '.join(missing)}")
        return result

    def _batch_item(self, step: BatchStep) -> dict[str, Any]:
        item: dict[str, Any] = {"id": step.id, "method": step.method.upper(), "url": self.relative(step.url)}
        headers = dict(step.headers or {})
        if step.body is not None:
            headers.setdefault("Content-Type", "application/json")
            item["body"] = step.body
        if headers:
            item["headers"] = headers
        if step.depends_on:
            item["dependsOn"] = list(step.depends_on)
        return item

    async def _transmit(self, info: Any, method: str, path: str) -> httpx.Response:
        from azure.core.exceptions import ClientAuthenticationError

        try:
            response: httpx.Response | None = await self._adapter.send_primitive_async(info, "bytes", {})
        except ClientAuthenticationError as exc:
            raise GraphError(f"could not get a Graph token: {_first_line(str(exc))}") from None
        except httpx.ConnectError as exc:
            detail = _first_line(str(exc))
            if "CERTIFICATE" in detail:  # not a passing fault: the same certificate is refused next time
                hint = " (is ca_bundle set to the PEM that signed its certificate?)"
                raise GraphError(f"cannot connect to {self.base_url}: {detail}{hint}") from None
            raise GraphNoAnswer(f"cannot connect to {self.base_url}: {detail}") from None
        except httpx.TransportError as exc:
            raise GraphNoAnswer(
                f"{method} {self.relative(path)} failed: {type(exc).__name__}: {exc}"
            ) from None
        if response is None:
            raise GraphError(f"{method} {self.relative(path)} got no response")
        return response

    async def aclose(self) -> None:
        for close in self._closers:
            await close()


def _parse(content: bytes) -> Any:
    if not content:
        return None
    try:
        return msgspec.json.decode(content)  # twice as fast as json.loads on 1 MB pages of 999 users
    except msgspec.DecodeError:
        return content.decode("utf-8", "replace")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "no detail"


class RenewingCredential:
    """An azure-identity credential whose cached token can be set aside: after `renew()`, the next token is
    asked for with a claims challenge for a token issued from now on (the form Entra's own challenges
    take), which azure-identity never answers from its cache."""

    def __init__(self, inner: AsyncTokenCredential) -> None:
        self._inner = inner
        self._not_before: int | None = None

    def renew(self) -> None:
        self._not_before = int(time.time())

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> Any:
        if self._not_before is not None and not claims:
            nbf = {"essential": True, "value": str(self._not_before)}
            claims = json.dumps({"access_token": {"nbf": nbf}})
            self._not_before = None
        return await self._inner.get_token(
            *scopes, claims=claims, tenant_id=tenant_id, enable_cae=enable_cae, **kwargs
        )

    async def close(self) -> None:
        await self._inner.close()

    async def __aenter__(self) -> RenewingCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def adapter_client(
    credential: AsyncTokenCredential,
    http: httpx.AsyncClient,
    graph_url: str,
    closers: list[Callable[[], Awaitable[None]]],
) -> GraphClient:
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph.graph_request_adapter import GraphRequestAdapter, options
    from msgraph_core import GraphClientFactory

    pipeline = GraphClientFactory.create_with_default_middleware(client=http, options=options)
    renewing = RenewingCredential(credential)
    provider = AzureIdentityAuthenticationProvider(renewing, scopes=[GRAPH_SCOPE])
    adapter = GraphRequestAdapter(provider, pipeline)
    adapter.base_url = graph_url.rstrip("/")
    return GraphClient(adapter, graph_url, closers, credential=renewing)


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, or {} when the token is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}


def token_roles(claims: dict[str, Any]) -> frozenset[str] | None:
    """The application permissions of an app-only token (`roles`), or None when it does not say."""
    roles = claims.get("roles")
    if not isinstance(roles, list) or claims.get("scp"):
        return None  # delegated tokens carry scopes, not roles
    return frozenset(str(role) for role in roles)


def token_app(claims: dict[str, Any]) -> str:
    """The app (client id) a token was issued to: `appid` (v1 tokens) or `azp` (v2)."""
    return str(claims.get("appid") or claims.get("azp") or "")
