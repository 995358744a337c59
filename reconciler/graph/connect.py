"""Opening a `GraphClient` for the configured tenant: the in-process local tenant, or Graph (real or
emulated) through azure-identity's credential for `auth.method`."""

from __future__ import annotations

import os
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from reconciler.config import Config
from reconciler.errors import ConfigError
from reconciler.graph.client import TIMEOUT, GraphClient, adapter_client

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

PUBLIC_AUTHORITY_HOST = "login.microsoftonline.com"


def open_client(config: Config, read_only: bool = False) -> GraphClient:
    """A client for the configured tenant: the in-process local tenant, or Graph (real or emulated).

    `read_only` picks the local tenant's reader app; a real tenant's permissions are the app's own.
    """
    if config.is_local:
        from reconciler.graph.local import open_local_client

        return open_local_client(config, read_only)
    credential = make_credential(config)
    verify = ssl.create_default_context(cafile=_ca_bundle(config)) if config.ca_bundle else True
    # Our own transport, closed by us: the SDK's wrapper around it does not close it.
    transport = httpx.AsyncHTTPTransport(verify=verify, http2=True)
    http = httpx.AsyncClient(transport=transport, base_url=config.graph_url.rstrip("/"), timeout=TIMEOUT)
    closers: list[Callable[[], Awaitable[None]]] = [http.aclose, transport.aclose, credential.close]
    return adapter_client(credential, http, config.graph_url, closers=closers)


def make_credential(config: Config) -> AsyncTokenCredential:
    """The azure-identity credential for `auth.method`, pointed at `authority` and trusting `ca_bundle`."""
    from azure.identity.aio import (
        AzureCliCredential,
        CertificateCredential,
        ClientSecretCredential,
        DefaultAzureCredential,
        WorkloadIdentityCredential,
    )

    auth = config.auth
    options: dict[str, Any] = {"authority": config.authority}
    if urlsplit(config.authority).hostname != PUBLIC_AUTHORITY_HOST:
        # MSAL would ask login.microsoftonline.com to vouch for any other host (instance discovery).
        options["disable_instance_discovery"] = True
    if config.ca_bundle:
        options["connection_verify"] = str(_ca_bundle(config))
    if auth.method == "client_secret":
        if not auth.client_id or not auth.client_secret:
            raise ConfigError("auth.method client_secret needs auth.client_id and auth.client_secret")
        return ClientSecretCredential(config.tenant, auth.client_id, auth.client_secret, **options)
    if auth.method == "default":
        return DefaultAzureCredential(**options)
    if auth.method == "certificate":
        if not auth.client_id or not auth.certificate_path:
            raise ConfigError("auth.method certificate needs auth.client_id and auth.certificate_path")
        certificate = config.path(auth.certificate_path)
        if not certificate.is_file():
            raise ConfigError(f"auth.certificate_path {auth.certificate_path}: no such file")
        if auth.certificate_password:
            options["password"] = auth.certificate_password
        try:
            return CertificateCredential(config.tenant, auth.client_id, str(certificate), **options)
        except ValueError as exc:  # azure-identity's word on an unreadable or non-RSA certificate
            raise ConfigError(f"auth.certificate_path {auth.certificate_path}: {exc}") from None
    if auth.method == "workload_identity":
        # GitHub Actions OIDC and Kubernetes write the federated token to a file; no secret in CI.
        token_file = auth.token_file or os.environ.get("AZURE_FEDERATED_TOKEN_FILE")
        client_id = auth.client_id or os.environ.get("AZURE_CLIENT_ID")
        if not token_file or not client_id:
            raise ConfigError(
                "auth.method workload_identity needs auth.client_id (or AZURE_CLIENT_ID) and "
                "auth.token_file (or AZURE_FEDERATED_TOKEN_FILE)"
            )
        return WorkloadIdentityCredential(
            tenant_id=config.tenant, client_id=client_id, token_file_path=token_file, **options
        )
    return AzureCliCredential(tenant_id=config.tenant)


def _ca_bundle(config: Config) -> Path:
    assert config.ca_bundle is not None  # nosec B101 # narrows the type: both callers check ca_bundle first
    path = Path(config.ca_bundle)
    path = path if path.is_absolute() else config.path(config.ca_bundle)
    if not path.is_file():
        raise ConfigError(f"ca_bundle {config.ca_bundle}: no such file")
    return path
