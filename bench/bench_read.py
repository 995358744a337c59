"""Compare the two ways of reading group members, on a served emulator with its default throttling on.

    .venv/bin/python -m bench.bench_read [--seed synthetic:10000:1000:50000]

- delta: `/groups/delta?$select=…,members` (every group and its members, a few pages), as `read_live`
  reads them;
- batch: `/groups` then one `/groups/{id}/members?$select=id&$top=999` step per group, 20 per `$batch`.

Both must give the same groups with the same members.
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

from bench.served import admin_client, start_emulator, write_config
from reconciler.config import Config
from reconciler.graph.client import GraphClient
from reconciler.graph.connect import open_client
from reconciler.graph.reads import PAGE_SIZE, pages, read_all, read_many
from reconciler.live import LiveGroup
from reconciler.live_read import GROUPS_DELTA_PATH, GROUPS_PATH, DeltaGroups, add_members, group_from_json


async def by_delta(client: GraphClient) -> dict[str, LiveGroup]:
    merged = DeltaGroups()
    async for page in pages(client, GROUPS_DELTA_PATH, delta=True):
        merged.add(page)
    return merged.groups


async def by_batch(client: GraphClient) -> dict[str, LiveGroup]:
    listed = await read_all(client, GROUPS_PATH)
    paths = {g["id"]: f"/groups/{g['id']}/members?$select=id&$top={PAGE_SIZE}" for g in listed}
    members = await read_many(client, paths)
    groups = {g["id"]: group_from_json(g) for g in listed}
    for group_id, group in groups.items():
        add_members(group, members[group_id])
    return groups


READS = {"delta": by_delta, "batch": by_batch}


async def read(config: Config, how: str) -> tuple[dict[str, LiveGroup], int]:
    client = open_client(config)
    try:
        return await READS[how](client), client.requests_sent
    finally:
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", default="synthetic:10000:1000:50000")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-read-"))
    server, info, _ = start_emulator(folder / "tenant.db", args.seed)
    results: dict[str, dict[str, LiveGroup]] = {}
    try:
        config = write_config(folder, info, "reader")
        with admin_client(info) as admin:
            asyncio.run(read(config, "delta"))  # warm the emulator's caches once, unmeasured
            for members in READS:
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
    print(f"same groups and members: {same}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
