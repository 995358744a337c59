"""Time `entraform plan` as a user runs it, against a served emulator with its default throttling on.

    .venv/bin/python -m bench.bench_plan [--seed synthetic:10000:1000:50000] [--keep DIR]

Seeds an emulator (HTTPS, own CA), writes desired-state YAML for every user and group of the tenant
(from the importer, with a few edits so the plan has changes to show), then runs
`entraform --config … plan` in a fresh process with the emulator's read-only "reader" app and prints:
wall time, HTTP requests, resource units, throttled requests (from the emulator's admin stats) and
the plan process's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from pathlib import Path

from bench.served import admin_client, run_entraform, start_emulator, write_config
from reconciler.config import Config
from reconciler.graph.connect import open_client
from reconciler.importer import export_state
from reconciler.live import LiveState
from reconciler.live_read import read_live

EDITS = 50  # users whose jobTitle the YAML changes, and memberships it drops


async def read(config: Config) -> LiveState:
    client = open_client(config)
    try:
        return await read_live(client)
    finally:
        await client.aclose()


def write_state(live: LiveState, folder: Path) -> None:
    """Every user and group as the importer writes them, then a few edits for the plan to show."""
    for user in sorted(live.users.values(), key=lambda u: u.key)[:EDITS]:
        user.attrs["jobTitle"] = "Benchmarked"
    edited = 0
    for group in live.groups.values():
        if "Unified" in (group.attrs.get("groupTypes") or []):
            # Microsoft 365 groups cannot nest groups; the YAML must not declare what Graph refuses.
            group.member_group_ids.clear()
    for group in sorted(live.groups.values(), key=lambda g: g.key):
        if group.member_user_ids and edited < EDITS:
            group.member_user_ids.discard(sorted(group.member_user_ids)[0])
            edited += 1
    state = folder / "state"
    state.mkdir(exist_ok=True)
    for name, text in export_state(live).files.items():
        (state / name).write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", default="synthetic:10000:1000:50000")
    parser.add_argument(
        "--keep", metavar="DIR", help="Work in DIR and keep it (default: a temporary folder)."
    )
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-plan-"))
    folder.mkdir(parents=True, exist_ok=True)
    server, info, _ = start_emulator(folder / "tenant.db", args.seed)
    try:
        config = write_config(folder, info, "reader")
        write_state(asyncio.run(read(config)), folder)
        with admin_client(info) as admin:
            settings = admin.get("config").json()
            admin.post("stats/reset").raise_for_status()
            run = run_entraform(folder, "plan", "--detailed-exitcode")
            stats = admin.get("stats").json()
    finally:
        server.terminate()
        server.wait(timeout=60)
    envelopes = stats["by_route"].get("POST /$batch", 0)
    print(
        f"seed                 {args.seed}  (throttling {'on' if settings['throttle']['enabled'] else 'off'})"
    )
    print(f"plan                 exit {run.exit}: {run.last_line()}")
    load = os.getloadavg()[0]
    print(f"wall time            {run.wall_s:.2f} s  (plan CPU {run.cpu_s:.2f} s; load average {load:.1f})")
    print(
        f"HTTP requests        {stats['requests']}"
        + (f" (incl. steps of {envelopes} $batch)" if envelopes else "")
    )
    print(f"token requests       {stats.get('token_requests', 0)}")
    print(f"resource units       {stats['resource_units']}")
    print(f"throttled requests   {stats['throttled']}")
    print(f"peak RSS             {run.peak_rss_mb:.0f} MB")
    print(f"by route             {json.dumps(stats['by_route'], sort_keys=True)}")


if __name__ == "__main__":
    main()
