"""Fixtures shared by every suite: a served Graph emulator over loopback HTTPS and real Graph clients.

- `emulator_info`: the info-file JSON of SPEC §8 for a session-wide emulator (demo tenant, throttling
  off), served by uvicorn on a background thread on a free port.
- `reset_emulator`: puts that tenant back to its seed and the runtime config to its defaults; use it
  in every test that writes or changes the config.
- `admin`: an `httpx.Client` on `/_emulator/` (relative paths: `admin.get("stats")`).
- `graph_http(app)`: an `httpx.Client` on `…/v1.0/` holding a bearer token of app "reader"/"writer".
- `graph_client(app)`: the real `GraphServiceClient` (azure-identity `ClientSecretCredential` and kiota's
  `AzureIdentityAuthenticationProvider`), pointed at the emulator. Build it inside the event loop that
  uses it (its httpx client binds to the first loop it runs in): one `asyncio.run` per test.
- `graph_client_for(info, app)`: the same from an info dict of your own (e.g. a wrong secret).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from reconciler.emulator.context import RuntimeConfig
from reconciler.emulator.serve import EmulatorServer, ServeOptions

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    folder = tmp_path_factory.mktemp("emulator")
    options = ServeOptions(
        db=str(folder / "tenant.db"),
        port=0,
        seed="demo",
        throttle=False,
        info_file=folder / "info.json",
    )
    server = EmulatorServer(options)
    server.start_in_thread()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def emulator_info(emulator_server: EmulatorServer) -> dict[str, Any]:
    return emulator_server.info


@pytest.fixture(scope="session")
def ca_context(emulator_info: dict[str, Any]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=emulator_info["ca_bundle"])


@pytest.fixture
def admin(emulator_info: dict[str, Any], ca_context: ssl.SSLContext) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator_info["admin_url"] + "/", verify=ca_context) as client:
        yield client


@pytest.fixture
def reset_emulator(emulator_info: dict[str, Any], admin: httpx.Client) -> dict[str, Any]:
    """The demo tenant back, config back to defaults (throttling off), counters zeroed.

    Reseeds rather than resets: a test may have switched the shared emulator to another seed.
    """
    admin.post("seed", json={"seed": "demo"}).raise_for_status()
    admin.put("config", json=RuntimeConfig().to_json()).raise_for_status()
    admin.post("stats/reset").raise_for_status()
    return emulator_info


def fetch_token(info: dict[str, Any], app: str, verify: ssl.SSLContext) -> str:
    """A token from the emulator's token endpoint, as the client-credentials flow gets it."""
    creds = info["apps"][app]
    reply = httpx.post(
        f"{info['authority']}/{info['tenant_id']}/oauth2/v2.0/token",
        data={
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "grant_type": "client_credentials",
            "scope": GRAPH_SCOPE,
        },
        verify=verify,
    )
    reply.raise_for_status()
    return str(reply.json()["access_token"])


@pytest.fixture
def graph_http(
    emulator_info: dict[str, Any], ca_context: ssl.SSLContext
) -> Iterator[Callable[[str], httpx.Client]]:
    clients: list[httpx.Client] = []

    def make(app: str = "writer") -> httpx.Client:
        token = fetch_token(emulator_info, app, ca_context)
        client = httpx.Client(
            base_url=emulator_info["graph_url"] + "/",
            headers={"Authorization": f"Bearer {token}"},
            verify=ca_context,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def make_graph_client(info: dict[str, Any], app: str = "writer") -> Any:
    """The real msgraph-sdk client for app "reader" or "writer", over loopback HTTPS."""
    from azure.identity import ClientSecretCredential
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph_core import GraphClientFactory

    creds = info["apps"][app]
    credential = ClientSecretCredential(
        info["tenant_id"],
        creds["client_id"],
        creds["client_secret"],
        authority=info["authority"],
        disable_instance_discovery=True,
        connection_verify=info["ca_bundle"],
    )
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(
            base_url=info["graph_url"], verify=ssl.create_default_context(cafile=info["ca_bundle"])
        )
    )
    auth = AzureIdentityAuthenticationProvider(credential, scopes=[GRAPH_SCOPE])
    return GraphServiceClient(request_adapter=GraphRequestAdapter(auth, client=http))


@pytest.fixture
def graph_client_for() -> Callable[[dict[str, Any], str], Any]:
    """`make(info, app)`: a Graph client from any info dict (e.g. one with a wrong secret)."""
    return make_graph_client


@pytest.fixture
def graph_client(emulator_info: dict[str, Any]) -> Callable[[str], Any]:
    def make(app: str = "writer") -> Any:
        return make_graph_client(emulator_info, app)

    return make
