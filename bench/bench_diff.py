"""How long `diff` takes on a large tenant: USERS users, GROUPS groups, EDGES membership edges.

    .venv/bin/python -m bench.bench_diff [USERS] [GROUPS] [EDGES]   (default 100000 1000 1000000)

The desired state declares every user and group (members authoritative) with 1 % of the users'
jobTitles and 1 % of the edges changed, so the plan has work to find but is mostly "no change".
Prints the time of the diff alone and of the digests it includes.
"""

from __future__ import annotations

import random
import sys
import time

from reconciler.config import Config
from reconciler.desired.model import DesiredGroup, DesiredState, DesiredUser, MemberRef, Members
from reconciler.errors import Location
from reconciler.live import LiveGroup, LiveState, LiveUser
from reconciler.plan.diff import diff
from reconciler.plan.digest import desired_digest, live_digest


def build(users: int, groups: int, edges: int) -> tuple[DesiredState, LiveState]:
    rng = random.Random(7)
    here = Location("state/bench.yaml", 1, 1)
    live = LiveState(tenant_id="bench", verified_domains={"contoso.example"})
    desired = DesiredState()
    for n in range(users):
        upn = f"user{n}@contoso.example"
        live.users[f"u{n}"] = LiveUser(f"u{n}", upn, {"displayName": f"User {n}", "jobTitle": "Engineer"})
        title = "Staff Engineer" if n % 100 == 0 else "Engineer"
        desired.users[upn] = DesiredUser(upn, {"displayName": f"User {n}", "jobTitle": title}, here)
    per_group = edges // groups
    for g in range(groups):
        members = {f"u{rng.randrange(users)}" for _ in range(per_group)}
        live.groups[f"g{g}"] = LiveGroup(
            f"g{g}", f"grp-{g}", {"displayName": f"Group {g}"}, member_user_ids=members
        )
        wanted = sorted(members)[per_group // 100 :]  # 1 % of the edges removed
        refs = Members.of(MemberRef("user", f"user{m[1:]}@contoso.example") for m in wanted)
        desired.groups[f"grp-{g}"] = DesiredGroup(
            f"grp-{g}", {"displayName": f"Group {g}"}, here, members=refs
        )
    return desired, live


def main() -> None:
    users, groups, edges = (
        int(a) for a in (sys.argv[1:] + ["100000", "1000", "1000000"][len(sys.argv) - 1 :])
    )
    desired, live = build(users, groups, edges)
    start = time.perf_counter()
    desired_digest(desired)
    live_digest(live)
    digests = time.perf_counter() - start
    start = time.perf_counter()
    plan = diff(desired, live, Config())
    total = time.perf_counter() - start
    print(
        f"{users} users, {groups} groups, {edges} edges: diff {total:.2f} s "
        f"(of which digests {digests:.2f} s), {len(plan.changes)} changes"
    )


if __name__ == "__main__":
    main()
