"""In-process emulator fixtures (no socket): `local_tenant(seed)` opens a fresh in-memory tenant behind
`httpx.ASGITransport` (`tenant.transport`, `tenant.token(app)`; `tenant.emulator`: store and config)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

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
