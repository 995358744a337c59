"""Peak memory (RSS) and start-up time of a served emulator holding a big synthetic tenant.

    .venv/bin/python -m bench.emulator_rss [--seed synthetic:100000:10000:1000000]

Starts `entraform emulator serve` in a subprocess on a fresh database, reads every user and group
through Graph paging ($top=999), then reports the server's peak RSS (VmHWM from /proc; Linux only).
A second start on the same database measures the restart (load from SQLite) instead of the seeding.

Measured 2026-11-22 on the 2-core build machine, seed synthetic:100000:10000:1000000:
  first start: ready in 19.1 s, peak RSS 684 MiB; 100,000 users + 10,000 groups read in 1.7 s
  restart:     ready in 9.9 s, peak RSS 717 MiB (database 211 MiB); same read in 1.7 s
  (restart peak was 887 MiB before the keys of objects loaded from SQLite were interned)
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.served import graph_client


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def read_all(info: dict[str, Any], collection: str) -> int:
    count = 0
    url: str | None = f"{collection}?$top=999"
    with graph_client(info) as graph:
        while url:
            page = graph.get(url).raise_for_status().json()
            count += len(page["value"])
            url = page.get("@odata.nextLink")
    return count


def run_once(db: Path, seed: str) -> None:
    info_file = db.with_suffix(".info.json")
    info_file.unlink(missing_ok=True)
    command = [sys.executable, "-c", "from reconciler.cli import main; main()", "emulator", "serve"]
    command += ["--port", "0", "--no-throttle", "--seed", seed]
    command += ["--db", str(db), "--info-file", str(info_file)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        if not line.startswith("Graph emulator ready"):
            raise RuntimeError(f"the emulator did not start: {line}{process.stderr.read()}")
        ready = time.perf_counter() - started
        rss_ready = peak_rss_mib(process.pid)
        info = json.loads(info_file.read_text())
        began = time.perf_counter()
        users, groups = read_all(info, "users"), read_all(info, "groups")
        read_s = time.perf_counter() - began
        print(
            f"  ready in {ready:.1f} s, peak RSS {rss_ready:.0f} MiB; read {users} users + {groups} groups "
            f"in {read_s:.1f} s; peak RSS after reads {peak_rss_mib(process.pid):.0f} MiB"
        )
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    finally:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", default="synthetic:100000:10000:1000000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "tenant.db"
        print(f"seed {args.seed}, first start (seeding):")
        run_once(db, args.seed)
        print(f"database {db.stat().st_size / 2**20:.0f} MiB; restart (loading from SQLite):")
        run_once(db, args.seed)


if __name__ == "__main__":
    main()
