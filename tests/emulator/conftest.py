"""In-process emulator fixtures (no socket): `local_tenant(seed)` opens a fresh in-memory tenant behind
`httpx.ASGITransport`; `local_http(tenant, app)` is an async httpx client on its Graph v1.0 with a token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.emulator.inprocess import LocalTenant, open_local_tenant


@pytest.fixture
def local_tenant() -> Iterator[Callable[[str], LocalTenant]]:
    tenants: list[LocalTenant] = []

    def make(seed: str = "demo") -> LocalTenant:
        tenant = open_local_tenant(Path(":memory:"), seed)
        tenants.append(tenant)
        return tenant

    yield make
    for tenant in tenants:
        tenant.close()


def local_http(tenant: LocalTenant, app: str | None = "writer") -> httpx.AsyncClient:
    """An async client on the tenant's `/v1.0/` (app None: no token); use it inside one event loop."""
    headers = {"Authorization": f"Bearer {tenant.token(app)}"} if app else {}
    return httpx.AsyncClient(
        transport=tenant.transport, base_url=tenant.info["graph_url"] + "/", headers=headers
    )


@pytest.fixture
def local_http_factory() -> Callable[[LocalTenant, str | None], httpx.AsyncClient]:
    return local_http
