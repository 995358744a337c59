"""What the benchmarks share: a served emulator in a subprocess, a token-holding client, a config, and
`entraform` run as a user runs it (a fresh process, its own wall time and peak RSS).

Imported by the other modules of `bench/` (run from the repository root as `.venv/bin/python -m bench`
or `-m bench.NAME`); not part of the package.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


def bearer_token(info: dict[str, Any], app: str) -> str:
    """An access token of `app` (client credentials) from the emulator's token endpoint."""
    creds = info["apps"][app]
    reply = httpx.post(
        f"{info['authority']}/{info['tenant_id']}/oauth2/v2.0/token",
        data={
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "grant_type": "client_credentials",
            "scope": GRAPH_SCOPE,
        },
        verify=ssl.create_default_context(cafile=info["ca_bundle"]),
    )
    reply.raise_for_status()
    token: str = reply.json()["access_token"]
    return token


def graph_client(info: dict[str, Any], app: str = "reader", timeout: float = 120) -> httpx.Client:
    """An httpx client on the emulator's Graph URL holding a bearer token of `app` (client credentials)."""
    return httpx.Client(
        base_url=info["graph_url"] + "/",
        headers={"Authorization": f"Bearer {bearer_token(info, app)}"},
        verify=ssl.create_default_context(cafile=info["ca_bundle"]),
        timeout=timeout,
    )


def admin_client(info: dict[str, Any]) -> httpx.Client:
    return httpx.Client(
        base_url=info["admin_url"] + "/", verify=ssl.create_default_context(cafile=info["ca_bundle"])
    )


def full_buckets(admin: httpx.Client) -> None:
    """Give every app a full throttling budget again, as after a pause between two CI jobs: the
    emulator starts its buckets afresh whenever the throttle settings change, so switch them off and on."""
    enabled = admin.get("config").json()["throttle"]["enabled"]
    admin.put("config", json={"throttle": {"enabled": not enabled}}).raise_for_status()
    admin.put("config", json={"throttle": {"enabled": enabled}}).raise_for_status()


def write_config(folder: Path, info: dict[str, Any], app: str) -> Config:
    """`folder/entraform.yaml` for the emulator as `app`, its secret in BENCH_<APP>_SECRET, as a user
    would write it; returns it loaded."""
    creds = info["apps"][app]
    secret = f"BENCH_{app.upper()}_SECRET"
    os.environ[secret] = creds["client_secret"]
    path = folder / "entraform.yaml"
    path.write_text(
        f"tenant: {info['tenant_id']}\n"
        f"graph_url: {info['graph_url']}\n"
        f"authority: {info['authority']}\n"
        f"ca_bundle: {info['ca_bundle']}\n"
        "auth:\n"
        "  method: client_secret\n"
        f"  client_id: {creds['client_id']}\n"
        f"  client_secret: ${{{secret}}}\n"
        "state_dir: state\n"
    )
    return load_config(str(path))


@dataclass(frozen=True)
class Run:
    """One `entraform` process: wall and CPU seconds, exit status, peak RSS and what it printed."""

    wall_s: float
    cpu_s: float
    exit: int
    peak_rss_mb: float
    stdout: str
    stderr: str

    def last_line(self) -> str:
        lines = self.stdout.strip().splitlines() or self.stderr.strip().splitlines() or ["(no output)"]
        return lines[-1]


# Runs one command and writes its peak RSS (KiB) and CPU seconds to the file named first. Linux counts
# into a child's peak the memory of the process it was forked from, so the command is forked from this
# small interpreter, not from the benchmark (which holds the SDK, matplotlib and earlier results).
_MEASURE = """
import resource, subprocess, sys
status = subprocess.call(sys.argv[2:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as out:
    out.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(status)
"""


def run_entraform(folder: Path, *args: str) -> Run:
    """`entraform --config folder/entraform.yaml ARGS…` in a fresh process, run in `folder`."""
    command = [str(ENTRAFORM), "--config", str(folder / "entraform.yaml"), *args]
    with tempfile.TemporaryDirectory() as scratch:
        usage_file = Path(scratch) / "usage"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(usage_file), *command], capture_output=True, cwd=folder
        )
        wall = time.perf_counter() - started
        peak_kib, cpu_s = usage_file.read_text().split()
    return Run(
        wall_s=wall,
        cpu_s=float(cpu_s),
        exit=done.returncode,
        peak_rss_mb=int(peak_kib) / 1024,  # KiB on Linux
        stdout=done.stdout.decode(),
        stderr=done.stderr.decode(),
    )
