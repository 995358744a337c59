"""One tenant size, measured every way the benchmark compares: entraform's commands as a user runs them
and both baselines, on one served emulator (HTTPS, default throttling), at each round-trip latency.

Per latency, read-only runs first, each as a fresh process with the reader app and a full throttling
budget: `import` (its YAML, every object of the tenant, is the desired state of what follows), `plan`
cold (no cache) and warm (the cache it left, nothing changed), `drift` cold and warm, then baseline
(a) and (b). Onboardings last, once per latency (1 % of the tenant as new users, 5 groups and a license
each, `plan --out` then `apply FILE` with the writer app), so no read runs against a tenant that an
apply changed under the imported YAML.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.bench_apply import group_nicknames, write_state
from bench.sampling import Cost, Sample, take_sample
from bench.sdk_script import script_cost
from bench.served import admin_client, full_buckets, run_entraform, start_emulator, write_config
from bench.terraform_pattern import refresh_cost

Row = dict[str, Any]

ENTRAFORM = "entraform"
BASELINE_A = "terraform azuread refresh"
BASELINE_B = "msgraph-sdk script"
ONBOARD_SHARE = 100  # one new user per this many in the tenant
GROUPS_PER_USER = 5
# Exit statuses that are results, not failures: a plan with changes and drift found exit 2.
EXPECTED_EXIT = {"import": (0,), "plan": (0, 2), "drift": (0, 2), "apply": (0,)}


@dataclass(frozen=True)
class Tenant:
    """One served emulator at its current latency: its seed, info file, admin API and work folder."""

    seed: str
    info: dict[str, Any]
    admin: httpx.Client
    folder: Path
    latency: int
    sample_users: int  # how many users the baselines read at most (and the same share of groups)

    @property
    def users(self) -> int:
        return int(self.seed.split(":")[1])


def _row(tenant: Tenant, tool: str, run: str, cost: Cost, note: str = "") -> Row:
    return {
        "seed": tenant.seed,
        "users": tenant.users,
        "latency_ms": tenant.latency,
        "tool": tool,
        "run": run,
        "wall_s": round(cost.wall_s, 2),
        "http_requests": round(cost.http_requests),
        "resource_units": round(cost.resource_units),
        "throttled": round(cost.throttled),
        "peak_rss_mb": None,
        "exit": None,
        "note": note,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _entraform(tenant: Tenant, label: str, folder: Path, *args: str) -> Row:
    full_buckets(tenant.admin)
    tenant.admin.post("stats/reset").raise_for_status()
    run = run_entraform(folder, *args)
    stats = tenant.admin.get("stats").json()
    cost = Cost(run.wall_s, stats["http_requests"], stats["resource_units"], stats["throttled"])
    row = {**_row(tenant, ENTRAFORM, label, cost), "peak_rss_mb": round(run.peak_rss_mb), "exit": run.exit}
    if run.exit not in EXPECTED_EXIT[args[0]]:
        row["note"] = f"failed: {run.last_line()}"
    _print(row)
    return row


def _baseline(
    tenant: Tenant, tool: str, cost_of: Callable[[dict[str, Any], httpx.Client, Sample], Cost]
) -> Row:
    sample = take_sample(tenant.info, tenant.sample_users)
    full_buckets(tenant.admin)
    row = _row(tenant, tool, "full read", cost_of(tenant.info, tenant.admin, sample), sample.describe())
    _print(row)
    return row


def _print(row: Row) -> None:
    rss = f"{row['peak_rss_mb']:5} MB" if row["peak_rss_mb"] is not None else "    — MB"
    print(
        f"  {row['latency_ms']:3} ms  {row['tool'] + ' ' + row['run']:38} wall {row['wall_s']:8.2f} s  "
        f"http {row['http_requests']:7}  RU {row['resource_units']:8}  429 {row['throttled']:4}  RSS {rss}"
        + (f"  ({row['note']})" if row["note"] else ""),
        flush=True,
    )


def reads(tenant: Tenant) -> list[Row]:
    """Import, plan and drift cold and warm, and both baselines, at the tenant's latency."""
    state = tenant.folder / "state"
    imported = state if not state.exists() else tenant.folder / f"import-{tenant.latency}"
    rows = [_entraform(tenant, "import", tenant.folder, "import", "--out", str(imported))]
    if imported != state:
        shutil.rmtree(imported)
    for args in (("plan", "--detailed-exitcode"), ("drift", "--format", "json")):
        shutil.rmtree(tenant.folder / ".entraform" / "cache", ignore_errors=True)
        for label in ("cold", "warm"):
            rows.append(_entraform(tenant, f"{args[0]} {label}", tenant.folder, *args))
    rows.append(_baseline(tenant, BASELINE_A, refresh_cost))
    rows.append(_baseline(tenant, BASELINE_B, script_cost))
    return rows


def onboarding(tenant: Tenant) -> Row:
    """`apply FILE` of an onboarding of 1 % of the tenant; the plan that made FILE is not measured."""
    folder = tenant.folder / f"apply-{tenant.latency}"
    folder.mkdir()
    write_config(folder, tenant.info, "writer")
    users = max(1, tenant.users // ONBOARD_SHARE)
    tag = f"onboard{tenant.latency}x"
    write_state(folder, group_nicknames(tenant.info), users, GROUPS_PER_USER, tag=tag)
    planned = run_entraform(folder, "plan", "--out", "plan.json")
    if planned.exit != 0:
        raise SystemExit(f"the onboarding plan failed: {planned.stderr}")
    return _entraform(tenant, f"apply (onboard {users:,})", folder, "apply", "plan.json")


def bench_size(seed: str, latencies: list[int], sample_users: int) -> list[Row]:
    """Every row for one tenant size, on an emulator of its own in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="bench-"))
    server, info, ready_s = start_emulator(folder / "tenant.db", seed)
    print(f"{seed}: emulator seeded and ready in {ready_s:.1f} s", flush=True)
    rows: list[Row] = []
    try:
        write_config(folder, info, "reader")
        with admin_client(info) as admin:
            at = [Tenant(seed, info, admin, folder, latency, sample_users) for latency in latencies]
            for tenant in at:
                admin.put("config", json={"latency_ms": tenant.latency}).raise_for_status()
                rows += reads(tenant)
            for tenant in at:
                admin.put("config", json={"latency_ms": tenant.latency}).raise_for_status()
                rows.append(onboarding(tenant))
    finally:
        server.terminate()
        server.wait(timeout=120)
        shutil.rmtree(folder, ignore_errors=True)
    return rows
