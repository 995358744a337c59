"""Synchronous Graph calls against an in-process emulator tenant, for the route tests."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from reconciler.emulator.inprocess import LocalTenant, open_local_tenant


class Tenant:
    """A fresh in-memory tenant and a `call` that sends one request as app "writer" (or another)."""

    def __init__(self, seed: str = "demo") -> None:
        from pathlib import Path

        self.local: LocalTenant = open_local_tenant(Path(":memory:"), seed)
        self.tokens: dict[str, str] = {}

    @property
    def store(self) -> Any:
        return self.local.emulator.store

    @property
    def config(self) -> Any:
        return self.local.emulator.config

    def call(
        self,
        method: str,
        url: str,
        json: Any = None,
        headers: dict[str, str] | None = None,
        app: str = "writer",
    ) -> httpx.Response:
        if app not in self.tokens:
            self.tokens[app] = self.local.token(app)
        sent = {"Authorization": f"Bearer {self.tokens[app]}", **(headers or {})}

        async def send() -> httpx.Response:
            async with httpx.AsyncClient(
                transport=self.local.transport, base_url=self.local.info["graph_url"] + "/"
            ) as client:
                return await client.request(method, url, json=json, headers=sent)

        return asyncio.run(send())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.call("GET", url, **kwargs)

    def user_id(self, upn: str) -> str:
        return str(self.store.upn_index[upn.lower()])

    def group_id(self, nickname: str) -> str:
        return next(g["id"] for g in self.store.groups.values() if g["mailNickname"] == nickname)

    def close(self) -> None:
        self.local.close()


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]
