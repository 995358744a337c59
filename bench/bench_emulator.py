"""Emulator speed: seeding a synthetic tenant, then paging every user over loopback HTTPS.

    .venv/bin/python -m bench.bench_emulator [--seed synthetic:100000:10000:1000000]

1. Seeding: `build_seed` + `Store.load_seed` into a fresh SQLite file (targets: ≤ 90 s for the default).
2. Serving: `entraform emulator serve` in its own process on that file (loading it is timed too).
3. Paging: GET /users?$top=999&$select=<10 properties> following every @odata.nextLink over HTTPS, with
   httpx and `json.loads` on each page, as the reconciler's bulk reads do (target: ≤ 10 s for 100,000).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.served import graph_client, start_emulator
from reconciler.emulator.seeds import build_seed
from reconciler.emulator.store import Store

SELECT = ",".join(
    [
        "id",
        "displayName",
        "userPrincipalName",
        "accountEnabled",
        "department",
        "jobTitle",
        "mail",
        "usageLocation",
        "employeeId",
        "givenName",
    ]
)


def seed(db: Path, name: str) -> float:
    started = time.perf_counter()
    store = Store.open(str(db))
    store.load_seed(build_seed(name))
    store.set_meta("emulator.seed", name)
    store.close()
    return time.perf_counter() - started


def page_users(info: dict[str, Any]) -> tuple[int, int, float]:
    users = pages = 0
    started = time.perf_counter()
    with graph_client(info, timeout=60) as graph:
        url: str | None = f"users?$top=999&$select={SELECT}"
        while url:
            response = graph.get(url)
            response.raise_for_status()
            body = json.loads(response.content)
            users += len(body["value"])
            pages += 1
            url = body.get("@odata.nextLink")
    return users, pages, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", default="synthetic:100000:10000:1000000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "tenant.db"
        seconds = seed(db, args.seed)
        print(f"seed {args.seed}: {seconds:.1f} s (target ≤ 90 s)")
        process, info, startup = start_emulator(db, args.seed, throttle=False)
        try:
            print(f"serve: loaded and listening after {startup:.1f} s")
            users, pages, paging = page_users(info)
            print(f"paging: {users} users in {pages} pages ($top=999, 10-property $select) in {paging:.2f} s")
            print("        over loopback HTTPS with httpx + json.loads (target ≤ 10 s for 100,000)")
        finally:
            process.terminate()
            process.wait(timeout=60)


if __name__ == "__main__":
    main()
