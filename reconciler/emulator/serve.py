"""Serving the emulator over (loopback) HTTPS with uvicorn: in the foreground for `entraform emulator
serve`, or on a background thread for tests.

The listening socket is bound before uvicorn starts, so port 0 works and the real port is known; the
info file is written only after uvicorn accepts connections, so a caller may wait for it to appear.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import socket
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from reconciler.emulator.app import create_app
from reconciler.emulator.pipeline import Emulator
from reconciler.emulator.tls import TlsFiles, ensure_certificates, tls_files_for

# msgraph_core never closes its keep-alive connections (msgraph-core 1.5, observed): without a short grace
# period a stop would wait ~30 s for them.
GRACEFUL_SHUTDOWN_S = 1


@dataclass(frozen=True)
class ServeOptions:
    db: str
    host: str = "127.0.0.1"
    port: int = 0
    seed: str = "demo"
    info_file: Path | None = None
    tls: bool = True
    throttle: bool = True


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on host:port (port 0: any free port); OSError when it cannot bind."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP; with proto 0, Nagle and the
    # client's delayed ACK held every response for ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def emulator_info(emulator: Emulator, scheme: str, host: str, port: int, ca: Path | None) -> dict[str, Any]:
    """The info-file JSON (documented in the README): what clients need to reach and trust the emulator."""
    url_host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    if ":" in url_host:
        url_host = f"[{url_host}]"
    origin = f"{scheme}://{url_host}:{port}"
    return {
        "graph_url": f"{origin}/v1.0",
        "authority": origin,
        "tenant_id": emulator.store.tenant_id,
        "ca_bundle": str(ca.resolve()) if ca is not None else None,
        "admin_url": f"{origin}/_emulator",
        "apps": {name: app.to_json() for name, app in emulator.auth.apps.items()},
    }


def write_info_file(path: Path, info: dict[str, Any]) -> None:
    """Write atomically: whoever waits for the file never reads half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as out:
        json.dump(info, out, indent=2)
    os.replace(tmp, path)


class _Server(uvicorn.Server):
    """uvicorn's server, with a hook for the moment it starts accepting connections."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.on_started()


class EmulatorServer:
    """One emulator behind uvicorn on a bound socket; `info` is known as soon as it is constructed."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.emulator = Emulator.open(options.db, options.seed)
        config = self.emulator.config
        self.emulator.set_config(
            dataclasses.replace(
                config, throttle=dataclasses.replace(config.throttle, enabled=options.throttle)
            )
        )
        self.tls: TlsFiles | None = None
        if options.tls:
            self.tls = ensure_certificates(tls_files_for(options.db))
        self.sock = bind_socket(options.host, options.port)
        port = self.sock.getsockname()[1]
        scheme = "https" if self.tls else "http"
        self.info = emulator_info(
            self.emulator, scheme, options.host, port, self.tls.ca if self.tls else None
        )
        self.started = threading.Event()
        uvicorn_config = uvicorn.Config(
            create_app(self.emulator),
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            ssl_certfile=str(self.tls.cert) if self.tls else None,
            ssl_keyfile=str(self.tls.key) if self.tls else None,
        )
        self.server = _Server(uvicorn_config, self._on_started)
        self._thread: threading.Thread | None = None
        self._announce: Callable[[dict[str, Any]], None] | None = None

    def _on_started(self) -> None:
        if self.options.info_file is not None:
            write_info_file(self.options.info_file, self.info)
        if self._announce is not None:
            self._announce(self.info)
        self.started.set()

    def run(self, announce: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Serve until SIGINT/SIGTERM (in the main thread) or `stop()`.

        Once connections are accepted, the info file is written and `announce(info)` called.
        """
        self._announce = announce
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.started.set()  # whoever waits must not hang when uvicorn failed to start
            self.emulator.close()

    def start_in_thread(self) -> None:
        """Serve on a daemon thread; returns once connections are accepted."""
        self._thread = threading.Thread(target=self.run, name="entraform-emulator", daemon=True)
        self._thread.start()
        self.started.wait()
        if not self.server.started:
            raise RuntimeError("the emulator's server failed to start (see the log above)")

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join()
