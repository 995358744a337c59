"""The emulator in-process, for `tenant: local`: the same ASGI app behind `httpx.ASGITransport`, no socket.

How a caller talks Graph to it, through the SDK's own pipeline (middleware, retries, auth):

    tenant = open_local_tenant()  # .entraform/local-tenant.db
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(transport=tenant.transport, base_url=tenant.info["graph_url"]))
    auth = AzureIdentityAuthenticationProvider(tenant.credential("writer"), scopes=[GRAPH_SCOPE])
    client = GraphServiceClient(request_adapter=GraphRequestAdapter(auth, client=http))
    ...
    tenant.close()

`credential()` mints tokens directly (no token endpoint, no TLS): it is an azure-core async token
credential, so kiota's `AzureIdentityAuthenticationProvider` takes it like any azure-identity one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from azure.core.credentials import AccessToken
from starlette.applications import Starlette

from reconciler.emulator.app import create_app
from reconciler.emulator.auth import TOKEN_LIFETIME_S
from reconciler.emulator.pipeline import Emulator

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
LOCAL_TENANT_DB = Path(".entraform/local-tenant.db")
# The real Graph address: requests never leave the process, and nextLinks point back at it.
LOCAL_ORIGIN = "https://graph.microsoft.com"


class LocalCredential:
    """An azure-core `AsyncTokenCredential` that asks the in-process emulator for tokens."""

    def __init__(self, emulator: Emulator, app_name: str) -> None:
        if app_name not in emulator.auth.apps:
            raise ValueError(f"no app {app_name!r} in the local tenant; known: {sorted(emulator.auth.apps)}")
        self.emulator = emulator
        self.app = emulator.auth.apps[app_name]

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        now = self.emulator.now()
        return AccessToken(self.emulator.auth.mint(self.app, now), int(now) + TOKEN_LIFETIME_S)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> LocalCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


@dataclass
class LocalTenant:
    emulator: Emulator
    app: Starlette
    transport: httpx.AsyncBaseTransport
    info: dict[str, Any]  # the info-file JSON the README documents, with the in-process addresses

    def credential(self, app_name: str = "writer") -> LocalCredential:
        return LocalCredential(self.emulator, app_name)

    def token(self, app_name: str = "writer") -> str:
        """A bearer token for `app_name` ("reader", "writer" or "admin"), for callers not using azure-core."""
        return self.emulator.auth.mint(self.emulator.auth.apps[app_name], self.emulator.now())

    def close(self) -> None:
        """Keep the counters and close the database (the objects are already written through)."""
        self.emulator.close()


def open_local_tenant(db_path: Path = LOCAL_TENANT_DB, seed: str = "demo") -> LocalTenant:
    """The local tenant stored in `db_path`, created and seeded with `seed` on first use."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    emulator = Emulator.open(str(db_path), seed)
    app = create_app(emulator)
    # A loopback client address, so that the admin API answers in-process callers too.
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 0))
    info = {
        "graph_url": f"{LOCAL_ORIGIN}/v1.0",
        "authority": LOCAL_ORIGIN,
        "tenant_id": emulator.store.tenant_id,
        "ca_bundle": None,
        "admin_url": f"{LOCAL_ORIGIN}/_emulator",
        "apps": {name: app.to_json() for name, app in emulator.auth.apps.items()},
    }
    return LocalTenant(emulator, app, transport, info)
