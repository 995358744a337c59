"""In-process emulator fixtures (no socket): `local_tenant(seed)` opens a fresh in-memory tenant behind
`httpx.ASGITransport` (`tenant.transport`, `tenant.token(app)`; `tenant.emulator`: store and config).
And `narrow`: an app of the served emulator without Directory.Read.All and AuditLog.Read.All."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


# entraform's reads without Directory.Read.All or AuditLog.Read.All: what the built-in reader held before it
# read roles and the audit log, for the tests of what those two permissions grant.
NARROW_ROLES = ("User.Read.All", "GroupMember.Read.All", "Organization.Read.All")


@pytest.fixture
def narrow(emulator_server: Any) -> Iterator[str]:
    """An app "narrow" of the served emulator holding NARROW_ROLES; `graph_http("narrow")` and
    `graph_client("narrow")` work for it. Its name is yielded."""
    from reconciler.emulator.auth import AppRegistration

    app = AppRegistration("narrow", "00000000-0000-4000-8000-00000000a11e", "narrow-secret", NARROW_ROLES)
    emulator_server.emulator.auth.apps["narrow"] = app
    emulator_server.info["apps"]["narrow"] = app.to_json()
    yield "narrow"
    del emulator_server.emulator.auth.apps["narrow"]
    del emulator_server.info["apps"]["narrow"]
