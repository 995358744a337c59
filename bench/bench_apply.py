"""Time `entraform apply` of an onboarding against a served emulator with its default throttling on.

    .venv/bin/python -m bench.bench_apply [--users 1000] [--groups-per-user 5] [--write-quota N] [--keep DIR]

Seeds an emulator (HTTPS, own CA) with a synthetic tenant, writes desired-state YAML that onboards
`--users` new users, each into `--groups-per-user` existing groups (`membersMode: append`) and with an
EMSPREMIUM license, saves the plan (`plan --out`), then applies the saved plan as the "writer" app,
in process, the way `entraform apply FILE` does (stale check included). Prints wall time, HTTP
requests on the wire (counted at the httpx transport; token requests apart), the emulator's counters
(requests incl. `$batch` steps, resource units, writes, 429s) and what became of the changes.

`--write-quota N` sets the emulator's write quota to N writes / 150 s so that the quota is what limits
the apply; the bench then also prints the sustained write rate against that quota. The quota bucket
starts full, so the ideal time for W writes is (W - N) / (N / 150 s).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.served import admin_client, graph_client, start_emulator, write_config
from reconciler.apply.run import ApplyOptions, checked_plan, execute, summary_lines
from reconciler.plan import planfile

SEED = "synthetic:3000:50:5000"  # 3,100 EMSPREMIUM seats, about 1,100 taken through group 0


class WireCounter:
    """Counts the HTTP requests the Graph client puts on the wire (retries included)."""

    def __init__(self) -> None:
        self.count = 0
        self._send = httpx.AsyncClient.send

    def install(self) -> None:
        counter = self
        original = self._send

        async def send(client: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> httpx.Response:
            counter.count += 1
            return await original(client, request, **kwargs)

        httpx.AsyncClient.send = send  # type: ignore[method-assign]


def write_state(
    folder: Path, group_nicknames: list[str], users: int, groups_per_user: int, tag: str = "onboard"
) -> None:
    """New users TAG00000@…, each in `groups_per_user` groups (round robin) with one license."""
    people = [
        {
            "userPrincipalName": f"{tag}{n:05d}@contoso.example",
            "displayName": f"Onboarded Person {n}",
            "department": "Onboarding",
            "usageLocation": "US",
            "licenses": [{"sku": "EMSPREMIUM"}],
        }
        for n in range(users)
    ]
    members: dict[str, list[str]] = {nick: [] for nick in group_nicknames}
    for n in range(users):
        for k in range(groups_per_user):
            nick = group_nicknames[(n + k * 7) % len(group_nicknames)]
            members[nick].append(f"{tag}{n:05d}@contoso.example")
    groups = [
        {"mailNickname": nick, "membersMode": "append", "members": m} for nick, m in members.items() if m
    ]
    state = folder / "state"
    state.mkdir(exist_ok=True)
    (state / "onboarding.yaml").write_text(
        yaml.safe_dump({"users": people, "groups": groups}, sort_keys=False)
    )


def group_nicknames(info: dict[str, Any]) -> list[str]:
    with graph_client(info) as graph:
        reply = graph.get("groups?$select=mailNickname,groupTypes&$top=999")
    reply.raise_for_status()
    return sorted(g["mailNickname"] for g in reply.json()["value"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--groups-per-user", type=int, default=5)
    parser.add_argument("--write-quota", type=int, help="Writes per 150 s (default: Graph's 3,000).")
    parser.add_argument("--parallelism", type=int, default=4)
    parser.add_argument(
        "--keep", metavar="DIR", help="Work in DIR and keep it (default: a temporary folder)."
    )
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-apply-")).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    server, info, _ = start_emulator(folder / "tenant.db", SEED)
    try:
        config = write_config(folder, info, "writer")
        write_state(folder, group_nicknames(info), args.users, args.groups_per_user)
        os.chdir(folder)
        plan = checked_plan(config, None).plan
        planfile.save(plan, folder / "plan.json")
        with admin_client(info) as admin:
            if args.write_quota:
                admin.put(
                    "config", json={"throttle": {"writes_per_150s": args.write_quota}}
                ).raise_for_status()
            settings = admin.get("config").json()
            admin.post("stats/reset").raise_for_status()
            wire = WireCounter()
            wire.install()
            started = time.perf_counter()
            planned = checked_plan(config, str(folder / "plan.json"))
            read_requests, read_done = wire.count, time.perf_counter()
            options = ApplyOptions(journal=folder / "journal.jsonl", parallelism=args.parallelism)
            result = execute(config, planned.plan, planned.live, options)
            finished = time.perf_counter()
            stats = admin.get("stats").json()
    finally:
        server.terminate()
        server.wait(timeout=60)
    write_s = finished - read_done
    summary = planfile.summary(planned.plan)
    throttle = settings["throttle"]
    quota = throttle["writes_per_150s"] or 3000
    state = "on" if throttle["enabled"] else "off"
    print(f"seed                 {SEED}  (throttling {state}, {quota} writes/150 s)")
    print(f"onboarding           {json.dumps({k: v for k, v in summary.items() if v})}")
    print(
        f"wall time            {finished - started:.2f} s  "
        f"(stale check {read_done - started:.2f} s, writes {write_s:.2f} s)"
    )
    print(
        f"HTTP requests        {wire.count}  "
        f"({read_requests} for the stale check's read, {wire.count - read_requests} to apply)"
    )
    print(f"emulator requests    {stats['requests']} (each $batch step counts, besides its envelope)")
    print(f"token requests       {stats.get('token_requests', 0)}")
    print(f"resource units       {stats['resource_units']}")
    print(f"writes               {stats['writes']}  ({stats['writes'] / write_s:.1f}/s over the write phase)")
    print(f"429s received        {stats['throttled']}")
    if args.write_quota:
        ideal = max(0.0, (stats["writes"] - quota) / (quota / 150.0))
        print(
            f"write quota use      {ideal / write_s:.0%} of the quota's rate "
            f"(ideal {ideal:.1f} s for {stats['writes']} writes from a full bucket, took {write_s:.1f} s)"
        )
    for line in summary_lines(planned.plan, result):
        print(line)


if __name__ == "__main__":
    main()
