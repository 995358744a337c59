"""How long loading + validating the desired state and pre-flight take on a large tenant.

    .venv/bin/python -m bench.bench_validate [--users 100000] [--groups 1000] [--files 20] [--runs 3]
                                             [--keep DIR]

1. Writes (deterministically, into a temporary folder) a YAML tree like the shipped `state/`: USERS
   users in FILES files (displayName, names, jobTitle, department, employeeId, city, country,
   usageLocation, a manager and a license; `--files 1` is the importer's layout) and GROUPS groups
   (owners, 50 user members each, some nested groups) in `groups.yaml`; then times `load_desired` in
   this process (median of RUNS) and prints the peak RSS the first load reached.
2. Times `preflight` on the tenant of `bench_diff.build` (USERS users, GROUPS groups, 10 edges per
   user) with licensed groups and users and SKUs, so that seat counting has work to do.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.bench_diff import build
from reconciler.config import Config
from reconciler.desired.loader import load_desired
from reconciler.live import LiveLicense, LiveSku, ServicePlan
from reconciler.plan.diff import diff
from reconciler.plan.preflight import preflight

DEPARTMENTS = 20
E3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"
E5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"
YAMMER = "7547a3fe-08ee-4ccb-b430-5077c5041653"
CITIES = [("Seattle", "United States", "US"), ("London", "United Kingdom", "GB"), ("Paris", "France", "FR")]
TITLES = ["Engineer", "Senior Engineer", "Staff Engineer", "Manager", "Analyst", "Designer"]


def upn(n: int) -> str:
    return f"user{n}@contoso.example"


def user_yaml(n: int, rng: random.Random) -> str:
    city, country, usage = CITIES[n % len(CITIES)]
    lines = [
        f"  - userPrincipalName: {upn(n)}",
        f"    displayName: User {n}",
        "    givenName: User",
        f"    surname: Number {n}",
        f"    jobTitle: {rng.choice(TITLES)}",
        f"    department: Department {n % DEPARTMENTS}",
        f'    employeeId: "E{n:06d}"',
        "    employeeType: Employee",
        f"    officeLocation: {city} HQ",
        f"    city: {city}",
        f"    country: {country}",
        f"    usageLocation: {usage}",
    ]
    if n:
        lines.append(f"    manager: {upn(n // 10)}")
    if n % 2:
        lines += [
            "    licenses:",
            "      - sku: ENTERPRISEPACK",
            "        disabledPlans: [YAMMER_ENTERPRISE]",
        ]
    else:
        lines += ["    licenses:", "      - sku: SPE_E5"]
    return "\n".join(lines) + "\n\n"


def group_yaml(g: int, users: int, groups: int, rng: random.Random) -> str:
    lines = [
        f"  - mailNickname: grp-{g}",
        f"    displayName: Group {g}",
        f"    description: Benchmark group number {g}",
        "    securityEnabled: true",
        "    mailEnabled: false",
        f"    owners: [{upn(rng.randrange(users))}]",
        "    members:",
    ]
    members = sorted(rng.sample(range(users), min(50, users)))
    lines += [f"      - {upn(m)}" for m in members]
    if g + 1 < groups and g % 10 == 0:  # nesting only points forward: no cycles
        lines.append(f"      - group: grp-{rng.randrange(g + 1, groups)}")
    return "\n".join(lines) + "\n\n"


def write_tree(folder: Path, users: int, groups: int, files: int) -> Path:
    rng = random.Random(42)
    state = folder / "state"
    (state / "people").mkdir(parents=True, exist_ok=True)
    for f in range(files):
        body = "".join(user_yaml(n, rng) for n in range(f, users, files))
        (state / "people" / f"people-{f:02d}.yaml").write_text(f"users:\n{body}", encoding="utf-8")
    body = "".join(group_yaml(g, users, groups, rng) for g in range(groups))
    (state / "groups.yaml").write_text(f"groups:\n{body}", encoding="utf-8")
    return state


def timed(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    """Median wall and CPU seconds of `work` (CPU time too: a shared machine's wall clock wavers)."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_load(folder: Path, users: int, groups: int, files: int, runs: int) -> None:
    state = write_tree(folder, users, groups, files)
    config = Config(state_dir=str(state))
    size = sum(p.stat().st_size for p in state.rglob("*.yaml")) / 1e6
    before = peak_mb()
    desired = load_desired(config)
    after = peak_mb()
    counts = f"{len(desired.users)} users, {len(desired.groups)} groups"
    del desired  # the timed runs start from the same heap as the first
    wall, cpu = timed(runs, lambda: load_desired(config))
    print(
        f"load_desired   {counts} ({size:.0f} MB of YAML): {wall:.2f} s wall, {cpu:.2f} s CPU "
        f"(median of {runs}); peak RSS {after:.0f} MB ({before:.0f} MB before loading)"
    )


def bench_preflight(users: int, groups: int, runs: int) -> None:
    desired, live = build(users, groups, users * 10)
    plans = [ServicePlan(YAMMER, "YAMMER_ENTERPRISE")]
    live.skus = {
        E3: LiveSku(E3, "ENTERPRISEPACK", users, users // 2, plans),
        E5: LiveSku(E5, "SPE_E5", users, users // 2),
    }
    for n, user in enumerate(live.users.values()):
        if n % 3 == 0:
            user.direct_licenses[E5] = LiveLicense(E5, frozenset())
    for n, group in enumerate(live.groups.values()):
        if n % 4 == 0:
            group.licenses[E3] = LiveLicense(E3, frozenset({YAMMER}))
    plan = diff(desired, live, Config())
    wall, cpu = timed(runs, lambda: preflight(plan, desired, live))
    print(
        f"preflight      {users} users, {groups} groups, {len(plan.changes)} changes: "
        f"{wall:.2f} s wall, {cpu:.2f} s CPU (median of {runs})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=1_000)
    parser.add_argument("--files", type=int, default=20, help="Files the users are spread over.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="Write the YAML tree to DIR and keep it.")
    args = parser.parse_args()
    if args.keep:
        bench_load(Path(args.keep), args.users, args.groups, args.files, args.runs)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-validate-") as folder:
            bench_load(Path(folder), args.users, args.groups, args.files, args.runs)
    bench_preflight(args.users, args.groups, args.runs)


if __name__ == "__main__":
    main()
