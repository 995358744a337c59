"""Time `entraform drift` cold and warm, with and without a realistic round trip, as a CI job runs it.

    .venv/bin/python -m bench.bench_drift [--sizes 10000:1000:50000,100000:10000:1000000]
                                          [--latencies 0,200] [--changes 50]

For each synthetic tenant size: a served emulator (HTTPS, default throttling on), desired-state YAML
declaring every user and group (the importer's), then for each `latency_ms`:
1. cold: `drift` with no cache (the full read, then the audit log of what differs);
2. warm: `drift` again, nothing changed (the delta cache answers);
3. after CHANGES out-of-band changes made with the writer app (jobTitles), `drift` warm again: it must
   name exactly them, with the writer app as who changed them.
Each run is a fresh `entraform drift` process; printed per run: wall time, HTTP requests on the wire and
`$batch` steps (from the emulator's admin stats), resource units, 429s, exit status and items found.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench.served import Run, admin_client, graph_client, run_entraform, start_emulator, write_config
from reconciler.importer import export_state
from reconciler.planning import read_tenant, run_sync


def drift(folder: Path) -> tuple[Run, dict[str, Any]]:
    run = run_entraform(folder, "drift", "--format", "json")
    if run.exit not in (0, 2):
        raise SystemExit(f"drift failed: {run.stderr}")
    return run, json.loads(run.stdout)


def change_titles(info: dict[str, Any], count: int, tag: str) -> dict[str, str | None]:
    """`count` out-of-band jobTitle changes by the writer app; the ids changed and their old titles."""
    with graph_client(info, "writer") as graph:
        users = graph.get("users?$select=id,jobTitle&$top=999").json()["value"][:count]
        for user in users:
            graph.patch(
                f"users/{user['id']}", json={"jobTitle": f"Changed out of band {tag}"}
            ).raise_for_status()
    return {u["id"]: u.get("jobTitle") for u in users}


def restore_titles(info: dict[str, Any], titles: dict[str, str | None]) -> None:
    """Put the titles back, so the next latency round starts from a tenant that matches git."""
    with graph_client(info, "writer") as graph:
        for user_id, title in titles.items():
            graph.patch(f"users/{user_id}", json={"jobTitle": title}).raise_for_status()


def measure(folder: Path, admin: Any, label: str) -> dict[str, Any]:
    admin.post("stats/reset").raise_for_status()
    run, report = drift(folder)
    stats = admin.get("stats").json()
    row = {
        "run": label,
        "wall_s": round(run.wall_s, 2),
        "http_requests": stats.get("http_requests", stats["requests"]),
        "requests_incl_steps": stats["requests"],
        "resource_units": stats["resource_units"],
        "throttled": stats["throttled"],
        "exit": run.exit,
        "peak_rss_mb": round(run.peak_rss_mb),
        "items": report["summary"]["items"],
        "changed_in_tenant": report["summary"]["changed_in_tenant"],
    }
    print(
        f"  {label:28} wall {row['wall_s']:6.2f} s  http {row['http_requests']:4}  "
        f"(+steps {row['requests_incl_steps'] - row['http_requests']:3})  RU {row['resource_units']:5}  "
        f"429 {row['throttled']}  exit {run.exit}  items {row['items']} "
        f"({row['changed_in_tenant']} by the tenant)"
    )
    return row


def bench_size(seed: str, latencies: list[int], changes: int) -> list[dict[str, Any]]:
    folder = Path(tempfile.mkdtemp(prefix="bench-drift-"))
    server, info, _ = start_emulator(folder / "tenant.db", seed)
    rows: list[dict[str, Any]] = []
    try:
        config = write_config(folder, info, "reader")
        state = folder / "state"
        state.mkdir()
        for name, text in export_state(run_sync(read_tenant(config, roles="all"))).files.items():
            (state / name).write_text(text, encoding="utf-8")
        print(f"{seed}: {len(list(state.iterdir()))} YAML files")
        with admin_client(info) as admin:
            for latency in latencies:
                admin.put("config", json={"latency_ms": latency}).raise_for_status()
                shutil.rmtree(folder / ".entraform" / "cache", ignore_errors=True)
                print(f" latency_ms {latency}")
                for label in ("cold", "warm, no change"):
                    rows.append({"seed": seed, "latency_ms": latency, **measure(folder, admin, label)})
                titles = change_titles(info, changes, f"at {latency} ms")
                after = measure(folder, admin, f"warm, {changes} changes")
                rows.append({"seed": seed, "latency_ms": latency, **after})
                restore_titles(info, titles)
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000:1000:50000,100000:10000:1000000")
    parser.add_argument("--latencies", default="0,200")
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--json", metavar="FILE", help="Also write the rows as JSON here.")
    args = parser.parse_args()
    latencies = [int(x) for x in args.latencies.split(",")]
    rows = [
        row
        for size in args.sizes.split(",")
        for row in bench_size(f"synthetic:{size}", latencies, args.changes)
    ]
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
