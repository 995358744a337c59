"""`auth.method` → the azure-identity credential, with clear errors for what is missing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from azure.identity.aio import (
    AzureCliCredential,
    CertificateCredential,
    ClientSecretCredential,
    WorkloadIdentityCredential,
)

from reconciler.config import AuthConfig, Config
from reconciler.errors import ConfigError
from reconciler.graph.connect import make_credential

TENANT = "11111111-2222-3333-4444-555555555555"


def _config(tmp_path: Path, **auth: str) -> Config:
    return Config(tenant=TENANT, auth=AuthConfig.model_validate(auth), base_dir=str(tmp_path))


def _close(credential: object) -> None:
    asyncio.run(credential.close())  # type: ignore[attr-defined]


def test_client_secret(tmp_path: Path) -> None:
    credential = make_credential(
        _config(tmp_path, method="client_secret", client_id="app", client_secret="s")
    )
    assert isinstance(credential, ClientSecretCredential)
    _close(credential)


def test_certificate_reads_the_pem_relative_to_the_config(tmp_path: Path) -> None:
    import trustme

    ca = trustme.CA(key_type=trustme.KeyType.RSA)
    cert = ca.issue_cert("app.example", key_type=trustme.KeyType.RSA)
    pem = tmp_path / "app.pem"
    pem.write_bytes(cert.private_key_pem.bytes() + cert.cert_chain_pems[0].bytes())
    credential = make_credential(
        _config(tmp_path, method="certificate", client_id="app", certificate_path="app.pem")
    )
    assert isinstance(credential, CertificateCredential)
    _close(credential)


def test_certificate_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"auth.certificate_path nope.pem: no such file"):
        make_credential(_config(tmp_path, method="certificate", client_id="app", certificate_path="nope.pem"))


def test_workload_identity_takes_the_token_file_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tmp_path / "oidc-token"
    token.write_text("eyJ...")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token))
    monkeypatch.setenv("AZURE_CLIENT_ID", "app")
    credential = make_credential(_config(tmp_path, method="workload_identity"))
    assert isinstance(credential, WorkloadIdentityCredential)
    _close(credential)


def test_workload_identity_without_a_token_file_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_FEDERATED_TOKEN_FILE", raising=False)
    with pytest.raises(ConfigError, match=r"auth.token_file \(or AZURE_FEDERATED_TOKEN_FILE\)"):
        make_credential(_config(tmp_path, method="workload_identity", client_id="app"))


def test_azure_cli(tmp_path: Path) -> None:
    credential = make_credential(_config(tmp_path, method="azure_cli"))
    assert isinstance(credential, AzureCliCredential)
    _close(credential)


def test_certificate_that_is_not_a_pem_is_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "app.pem").write_text("not a certificate")
    with pytest.raises(ConfigError, match=r"^auth.certificate_path app.pem: "):
        make_credential(_config(tmp_path, method="certificate", client_id="app", certificate_path="app.pem"))
