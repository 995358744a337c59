"""A `GraphClient` wired to an in-test handler through the real SDK pipeline (no socket)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from azure.core.credentials import AccessToken

from reconciler.graph.client import GraphClient, adapter_client

BASE = "https://graph.microsoft.com/v1.0"
Handler = Callable[[httpx.Request], httpx.Response]


class StaticCredential:
    """An async credential handing out one token; records the scopes and claims it was asked for."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []
        self.claims: list[str | None] = []

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        self.claims.append(kwargs.get("claims"))
        return AccessToken("token", int(time.time()) + 3600)

    async def close(self) -> None:
        return None


def client_for(handler: Handler, credential: StaticCredential | None = None) -> GraphClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url=BASE)
    return adapter_client(credential or StaticCredential(), http, BASE, closers=[http.aclose])  # type: ignore[arg-type]


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    content = json.dumps(body).encode() if body is not None else b""
    return httpx.Response(
        status, content=content, headers={"content-type": "application/json", **(headers or {})}
    )


def error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {"request-id": "req-1"}}}
