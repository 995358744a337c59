"""Serving over loopback HTTPS: info file, TLS, persistence across restarts, the CLI and its signals."""

from __future__ import annotations

import asyncio
import json
import signal
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.emulator.inprocess import open_local_tenant
from reconciler.emulator.serve import EmulatorServer, ServeOptions, is_loopback_host

NEW_USER = {
    "accountEnabled": True,
    "displayName": "Katherine Johnson",
    "mailNickname": "katherine",
    "userPrincipalName": "katherine@contoso.example",
    "passwordProfile": {"password": "xWwvJ]6NMw+bWH-d", "forceChangePasswordNextSignIn": True},
}


def token(info: dict[str, Any], app: str, verify: ssl.SSLContext) -> str:
    creds = info["apps"][app]
    form = {
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
        "grant_type": "client_credentials",
        "scope": "https://graph.microsoft.com/.default",
    }
    reply = httpx.post(f"{info['authority']}/{info['tenant_id']}/oauth2/v2.0/token", data=form, verify=verify)
    return str(reply.json()["access_token"])


def served(tmp_path: Path, **options: Any) -> EmulatorServer:
    defaults: dict[str, Any] = {"db": str(tmp_path / "tenant.db"), "port": 0, "seed": "empty"}
    server = EmulatorServer(ServeOptions(**{**defaults, **options}))
    server.start_in_thread()
    return server


def test_info_file_appears_once_serving_and_describes_the_emulator(tmp_path: Path) -> None:
    info_file = tmp_path / "info.json"
    server = EmulatorServer(
        ServeOptions(db=str(tmp_path / "t.db"), port=0, seed="empty", info_file=info_file)
    )
    assert not info_file.exists()
    server.start_in_thread()
    try:
        info = json.loads(info_file.read_text())
        assert info == server.info
        assert set(info) == {"graph_url", "authority", "tenant_id", "ca_bundle", "admin_url", "apps"}
        assert info["graph_url"].startswith("https://127.0.0.1:") and info["graph_url"].endswith("/v1.0")
        assert set(info["apps"]) == {"reader", "writer", "admin"}
        verify = ssl.create_default_context(cafile=info["ca_bundle"])
        stats = httpx.get(info["admin_url"] + "/stats", verify=verify)
        assert stats.json()["requests"] == 0
    finally:
        server.stop()


def test_tls_is_trusted_only_through_the_emulators_ca(tmp_path: Path) -> None:
    server = served(tmp_path)
    try:
        url = server.info["admin_url"] + "/config"
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(url)
        with pytest.raises(httpx.HTTPError):
            httpx.get(url.replace("https://", "http://"))
        assert httpx.get(url, verify=ssl.create_default_context(cafile=server.info["ca_bundle"])).is_success
    finally:
        server.stop()


def test_plain_http_when_tls_is_off(tmp_path: Path) -> None:
    server = served(tmp_path, tls=False)
    try:
        assert server.info["ca_bundle"] is None
        assert httpx.get(server.info["admin_url"] + "/stats").is_success
    finally:
        server.stop()


def test_restart_keeps_objects_counters_apps_certificate_and_tokens(tmp_path: Path) -> None:
    first = served(tmp_path)
    info = first.info
    verify = ssl.create_default_context(cafile=info["ca_bundle"])
    ca_pem = Path(info["ca_bundle"]).read_bytes()
    bearer = {"Authorization": f"Bearer {token(info, 'writer', verify)}"}
    created = httpx.post(f"{info['graph_url']}/users", json=NEW_USER, headers=bearer, verify=verify)
    assert created.status_code == 201
    first.stop()

    second = served(tmp_path)
    try:
        again = second.info
        assert again["apps"] == info["apps"] and again["tenant_id"] == info["tenant_id"]
        assert Path(again["ca_bundle"]).read_bytes() == ca_pem
        verify = ssl.create_default_context(cafile=again["ca_bundle"])
        user = httpx.get(f"{again['graph_url']}/users/{created.json()['id']}", headers=bearer, verify=verify)
        assert user.json()["userPrincipalName"] == NEW_USER["userPrincipalName"]
        stats = httpx.get(again["admin_url"] + "/stats", verify=verify).json()
        assert stats["by_route"] == {"GET /users/{id}": 1, "POST /users": 1}
        assert (stats["writes"], stats["token_requests"]) == (1, 1)
    finally:
        second.stop()


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "example.com"])
def test_serve_refuses_a_non_loopback_host(host: str) -> None:
    result = CliRunner().invoke(main, ["emulator", "serve", "--host", host])
    assert result.exit_code == 1
    assert f"error: refusing to listen on {host}" in result.output
    assert "--allow-remote" in result.output


def test_loopback_hosts() -> None:
    assert all(is_loopback_host(h) for h in ("127.0.0.1", "127.5.0.1", "::1", "localhost"))
    assert not any(is_loopback_host(h) for h in ("0.0.0.0", "::", "192.168.1.1", "emulator.local"))


def test_serve_command_runs_until_sigterm_and_stops_cleanly(tmp_path: Path) -> None:
    info_file = tmp_path / "info.json"
    command = [sys.executable, "-c", "from reconciler.cli import main; main()", "emulator", "serve"]
    command += ["--port", "0", "--seed", "empty"]
    command += ["--db", str(tmp_path / "t.db"), "--info-file", str(info_file)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        assert process.stderr.readline().startswith("Graph emulator ready")  # printed once accepting
        info = json.loads(info_file.read_text())
        verify = ssl.create_default_context(cafile=info["ca_bundle"])
        config = httpx.get(info["admin_url"] + "/config", verify=verify).json()
        assert config["throttle"]["enabled"] is True  # `serve` throttles by default
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()


def test_local_tenant_is_seeded_on_first_use_only_and_mints_tokens_in_process(tmp_path: Path) -> None:
    db = tmp_path / ".entraform" / "local-tenant.db"
    first = open_local_tenant(db)
    seeded = len(first.emulator.store.users)
    user_id = next(iter(first.emulator.store.users))
    first.emulator.store.delete(user_id, soft=False, deleted_at="2026-01-01T00:00:00Z")
    first.close()

    second = open_local_tenant(db)
    try:
        assert len(second.emulator.store.users) == seeded - 1  # kept, not seeded again
        token = asyncio.run(second.credential("reader").get_token("https://graph.microsoft.com/.default"))
        app = second.emulator.auth.verify(f"Bearer {token.token}", second.emulator.now())
        assert app.name == "reader" and "User.ReadWrite.All" not in app.roles
        assert second.credential("admin").app.name == "admin"
        with pytest.raises(ValueError, match="no app 'auditor'"):
            second.credential("auditor")
    finally:
        second.close()
