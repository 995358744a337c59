"""Compare the two ways of reading group members, on a served emulator with its default throttling on.

    .venv/bin/python bench/bench_read.py [--seed synthetic:10000:1000:50000]

- delta: `/groups/delta?$select=…,members` (every group and its members, a few pages);
- batch: `/groups` then one `/groups/{id}/members?$select=id&$top=999` step per group, 20 per `$batch`.

Both run the whole `read_live` (users, SKUs, domains and owners too) and must give the same `LiveState`.
HTTP requests are counted on the client (the emulator's own counter includes `$batch` steps); resource
units and throttled requests come from the emulator's admin stats.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from served import admin_client, start_emulator, write_config

from reconciler.config import Config
from reconciler.graph.client import open_client
from reconciler.live import LiveState
from reconciler.live_read import MembersRead, read_live


async def read(config: Config, members: MembersRead) -> tuple[LiveState, int]:
    client = open_client(config)
    try:
        return await read_live(client, members=members), client.requests_sent
    finally:
        await client.aclose()


MEMBER_READS: tuple[MembersRead, ...] = ("delta", "batch")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", default="synthetic:10000:1000:50000")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-read-"))
    server, info, _ = start_emulator(folder / "tenant.db", args.seed)
    results: dict[MembersRead, LiveState] = {}
    try:
        config = write_config(folder, info, "reader")
        with admin_client(info) as admin:
            asyncio.run(read(config, "delta"))  # warm the emulator's caches once, unmeasured
            for members in MEMBER_READS:
                admin.post("stats/reset").raise_for_status()
                started = time.perf_counter()
                results[members], sent = asyncio.run(read(config, members))
                wall = time.perf_counter() - started
                stats = admin.get("stats").json()
                print(
                    f"{members:5}  wall {wall:5.2f} s  HTTP requests {sent:4}  "
                    f"resource units {stats['resource_units']:5}  throttled {stats['throttled']}  "
                    f"by route {stats['by_route']}"
                )
    finally:
        server.terminate()
        server.wait(timeout=60)
    same = results["delta"] == results["batch"]
    print(f"same LiveState: {same}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
