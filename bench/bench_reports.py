"""Time `entraform report licenses` and `entraform show user` on a big tenant, as a user runs them.

    .venv/bin/python -m bench.bench_reports [--seed synthetic:100000:10000:1000000] [--latencies 0,200]
                                            [--runs 3] [--json FILE]

A served emulator (HTTPS, default throttling on) seeded with `--seed`, desired-state YAML declaring
every user and group (the importer's, so each reclaimable seat gets its file:line), then for each
`latency_ms` (the emulator's per-response delay, standing in for Graph's round trip) RUNS fresh
processes of each command, printed one line per run: wall time, peak RSS of the entraform process, HTTP
requests on the wire and `$batch` steps (the emulator's admin stats), 429s; then the medians.
`show user` shows the user with the longest manager chain among those in the most groups.
Targets (issue 14): `report licenses` ≤ 60 s and ≤ 1 GB peak RSS; `show user` ≤ 2 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.served import admin_client, graph_client, run_entraform, start_emulator, write_config
from reconciler.importer import export_state
from reconciler.live import LiveState
from reconciler.planning import read_tenant, run_sync


def measure(folder: Path, admin: Any, label: str, *args: str) -> dict[str, Any]:
    admin.post("stats/reset").raise_for_status()
    # Forked from a small interpreter, not from this process: Linux counts the parent's memory at the
    # fork into the child's peak, and this one holds a 100,000-user LiveState.
    run = run_entraform(folder, "--quiet", *args)
    if run.exit != 0:
        raise SystemExit(f"entraform {' '.join(args)} failed: {run.stderr}")
    wall, peak = run.wall_s, run.peak_rss_mb
    stats = admin.get("stats").json()
    row = {
        "command": label,
        "wall_s": round(wall, 2),
        "peak_rss_mib": round(peak),
        "http_requests": stats["http_requests"],
        "batch_steps": stats["requests"] - stats["http_requests"],
        "throttled": stats["throttled"],
    }
    print(
        f"  {label:16} wall {row['wall_s']:6.2f} s  peak RSS {row['peak_rss_mib']:5} MiB  "
        f"http {row['http_requests']:4} (+steps {row['batch_steps']:3})  429 {row['throttled']}"
    )
    return row


def showcase_user(live: LiveState) -> str:
    """Among the users in the most groups, the one with the longest manager chain."""
    groups_of: dict[str, int] = {}
    for group in live.groups.values():
        for member in group.member_user_ids:
            groups_of[member] = groups_of.get(member, 0) + 1

    def chain(user_id: str) -> int:
        depth, current = 0, live.users[user_id].manager_id
        while current is not None and depth < 25:
            depth, current = depth + 1, live.users[current].manager_id
        return depth

    busiest = sorted(groups_of, key=lambda u: -groups_of[u])[:200]
    return live.users[max(busiest, key=lambda u: (chain(u), groups_of[u], u))].upn


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", default="synthetic:100000:10000:1000000")
    parser.add_argument("--latencies", default="0,200")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", metavar="FILE", help="Also write the rows as JSON here.")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    server, info, ready_s = start_emulator(folder / "tenant.db", args.seed)
    rows: list[dict[str, Any]] = []
    try:
        print(f"{args.seed}: emulator ready in {ready_s:.1f} s")
        config = write_config(folder, info, "reader")
        live = run_sync(read_tenant(config, roles="all"))
        state = folder / "state"
        state.mkdir()
        for name, text in export_state(live).files.items():
            (state / name).write_text(text, encoding="utf-8")
        upn = showcase_user(live)
        del live
        with graph_client(info) as graph:
            graph.get("organization").raise_for_status()  # the reader app works before timing anything
        print(f"desired state: {len(list(state.iterdir()))} YAML files; show user {upn}")
        commands = {
            "report licenses": ("report", "licenses", "--format", "json"),
            "show user": ("show", "user", upn, "--format", "json"),
        }
        with admin_client(info) as admin:
            for latency in [int(x) for x in args.latencies.split(",")]:
                admin.put("config", json={"latency_ms": latency}).raise_for_status()
                print(f" latency_ms {latency}")
                for label, command in commands.items():
                    runs = [measure(folder, admin, label, *command) for _ in range(args.runs)]
                    median = {
                        key: statistics.median(r[key] for r in runs)
                        for key in ("wall_s", "peak_rss_mib", "http_requests", "batch_steps", "throttled")
                    }
                    print(
                        f"  {label:16} median wall {median['wall_s']:.2f} s, "
                        f"peak RSS {median['peak_rss_mib']:.0f} MiB, http {median['http_requests']:.0f}"
                    )
                    rows.append({"seed": args.seed, "latency_ms": latency, "command": label, **median})
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
