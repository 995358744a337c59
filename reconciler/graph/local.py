"""`tenant: local`: the emulator in-process (no socket) behind the same SDK pipeline as a real tenant."""

from __future__ import annotations

import httpx

from reconciler.config import Config
from reconciler.graph.client import GraphClient, adapter_client

LOCAL_DB = ".entraform/local-tenant.db"


def open_local_client(config: Config, read_only: bool) -> GraphClient:
    """A client on the embedded tenant in `.entraform/local-tenant.db`, seeded with the demo on first use."""
    from reconciler.emulator.inprocess import open_local_tenant

    tenant = open_local_tenant(config.path(LOCAL_DB))
    http = httpx.AsyncClient(transport=tenant.transport, base_url=tenant.info["graph_url"])
    credential = tenant.credential("reader" if read_only else "admin")

    async def close_tenant() -> None:
        tenant.close()

    return adapter_client(credential, http, tenant.info["graph_url"], closers=[http.aclose, close_tenant])
