"""The emulator's own certificate authority and loopback server certificate, kept beside the database.

Clients trust the emulator through the CA file (`ca_bundle` in the info file); reusing the files on
restart keeps that trust valid across runs.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class TlsFiles:
    ca: Path  # the CA certificate clients trust
    cert: Path  # the server certificate followed by the CA's
    key: Path  # the server's private key


def tls_files_for(db_path: str) -> TlsFiles:
    """Where the PEM files of the database at `db_path` live (a new temporary directory for `:memory:`)."""
    base = (
        Path(tempfile.mkdtemp(prefix="entraform-emulator-")) / "emulator"
        if db_path == ":memory:"
        else Path(db_path)
    )
    return TlsFiles(
        ca=base.with_name(base.name + ".ca.pem"),
        cert=base.with_name(base.name + ".cert.pem"),
        key=base.with_name(base.name + ".key.pem"),
    )


def ensure_certificates(files: TlsFiles) -> TlsFiles:
    """Create the CA and server certificate unless all three files already exist."""
    if files.ca.exists() and files.cert.exists() and files.key.exists():
        return files
    files.ca.parent.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="entraform Graph emulator")
    leaf = ca.issue_cert(*LOOPBACK_NAMES, common_name="entraform emulator")
    ca.cert_pem.write_to_path(str(files.ca))
    with files.cert.open("wb") as out:
        for blob in leaf.cert_chain_pems:
            out.write(blob.bytes())
    # The key file is created owner-only before any secret goes in.
    fd = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(leaf.private_key_pem.bytes())
    return files
