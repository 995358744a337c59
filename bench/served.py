"""What the benchmarks share: a served emulator in a subprocess, a token-holding client, a config.

Imported by the sibling scripts in `bench/` (run as `.venv/bin/python bench/NAME.py`, so this folder is
on `sys.path`); not part of the package.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from reconciler.config import Config, load_config

ENTRAFORM = Path(sys.executable).with_name("entraform")
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def start_emulator(
    db: Path, seed: str, *, throttle: bool = True
) -> tuple[subprocess.Popen[bytes], dict[str, Any], float]:
    """`entraform emulator serve` on `db` (seeded with `seed` when new): the process, its info, and the
    seconds until it accepted connections (it writes the info file only then)."""
    info_file = db.with_suffix(".info.json")
    info_file.unlink(missing_ok=True)
    log = db.with_suffix(".log")
    command = [str(ENTRAFORM), "emulator", "serve", "--port", "0", "--db", str(db), "--seed", seed]
    command += ["--info-file", str(info_file), *([] if throttle else ["--no-throttle"])]
    started = time.perf_counter()
    with open(log, "wb") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 300
    while not info_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"the emulator did not start; see {log}")
        time.sleep(0.05)
    return process, json.loads(info_file.read_text()), time.perf_counter() - started


def graph_client(info: dict[str, Any], app: str = "reader", timeout: float = 120) -> httpx.Client:
    """An httpx client on the emulator's Graph URL holding a bearer token of `app` (client credentials)."""
    verify = ssl.create_default_context(cafile=info["ca_bundle"])
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
    token = reply.json()["access_token"]
    return httpx.Client(
        base_url=info["graph_url"] + "/",
        headers={"Authorization": f"Bearer {token}"},
        verify=verify,
        timeout=timeout,
    )


def admin_client(info: dict[str, Any]) -> httpx.Client:
    return httpx.Client(
        base_url=info["admin_url"] + "/", verify=ssl.create_default_context(cafile=info["ca_bundle"])
    )


def write_config(folder: Path, info: dict[str, Any], app: str) -> Config:
    """`folder/entraform.yaml` for the emulator as `app`, its secret in BENCH_CLIENT_SECRET, as a user
    would write it; returns it loaded."""
    creds = info["apps"][app]
    os.environ["BENCH_CLIENT_SECRET"] = creds["client_secret"]
    path = folder / "entraform.yaml"
    path.write_text(
        f"tenant: {info['tenant_id']}\n"
        f"graph_url: {info['graph_url']}\n"
        f"authority: {info['authority']}\n"
        f"ca_bundle: {info['ca_bundle']}\n"
        "auth:\n"
        "  method: client_secret\n"
        f"  client_id: {creds['client_id']}\n"
        "  client_secret: ${BENCH_CLIENT_SECRET}\n"
        "state_dir: state\n"
    )
    return load_config(str(path))
