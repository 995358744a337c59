"""The `demo` seed: Contoso as it is today, a little behind the desired state in `state/`.

The tenant is data, `demo_tenant.yaml` (Graph-shaped: how it reads is said at its top). Its people and
groups are copied from `state/` (by hand: the emulator never reads `state/`) with exactly these
differences, so `entraform plan` against it has something to do:

1. Two joiners not created yet: margaret@ (Product Engineering) and zrinka@ (Marketing contractor).
2. A leaver still enabled: lynne@ has left (desired `accountEnabled: false`) but can still sign in.
3. Someone who moved department: ben@ still has department "Sales" (desired: Marketing).
4. A license whose disabled plans differ: debra@'s ENTERPRISEPACK disables only YAMMER_ENTERPRISE
   (desired: YAMMER_ENTERPRISE and SWAY).
5. A group member added by hand: joni@ is a member of grp-finance.
6. A break-glass admin nobody declared: breakglass@contoso.example (its Global Administrator role is
   declared in state/roles.yaml, so that the role stays as it is).
7. A directory role granted by hand: lynne@, the leaver, was made User Administrator; state/roles.yaml
   names only grp-entra-admins for that role.

Directory roles: breakglass@ holds Global Administrator, the role-assignable groups grp-entra-admins and
grp-helpdesk-admins hold User Administrator and Helpdesk Administrator, lynne@ holds User Administrator.

Besides, the tenant holds what `state/` leaves unmanaged: every user copied from it has a mailbox (`mail`
is the userPrincipalName) and the companyName "Contoso Ltd". tests/emulator/test_demo_tenant.py proves the
data equals `state/` but for all this.

Sign-ins: most people signed in within the last month, four have been dormant for over 90 days (one of
them lynne@, the leaver) and three never signed in (the YAML's header names them).

grp-all-employees is a dynamic group: its members are not listed but computed from its rule, as Entra does,
when the seed is loaded (and kept up to date after every write).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import uuid
from importlib import resources
from typing import Any

import yaml

from reconciler.emulator.objects import new_group, new_user
from reconciler.emulator.signins import DAY_S
from reconciler.emulator.tenant import CREATED, DOMAINS, empty_seed
from reconciler.emulator.types import Json, SeedData, SignInAges

DATA = "demo_tenant.yaml"


@functools.cache
def _document() -> dict[str, list[Json]]:
    text = resources.files(__package__).joinpath(DATA).read_text(encoding="utf-8")
    document: Any = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return {
        "users": list(document["users"]),
        "groups": list(document["groups"]),
        "roleAssignments": list(document.get("roleAssignments") or []),
    }


def demo_seed() -> SeedData:
    document = copy.deepcopy(_document())  # the store keeps the objects it is given
    ids = {u["userPrincipalName"]: u["id"] for u in document["users"]}
    ids |= {g["mailNickname"]: g["id"] for g in document["groups"]}
    users: list[Json] = []
    managers: list[tuple[str, str]] = []
    licenses: list[tuple[str, str, list[str]]] = []
    sign_ins: dict[str, SignInAges] = {}
    for props in document["users"]:
        user_id, manager = props.pop("id"), props.pop("manager", None)
        if "signInActivity" in props:
            sign_ins[user_id] = _ages(user_id, props.pop("signInActivity"))
        licenses += [
            (user_id, lic["skuId"], lic["disabledPlans"]) for lic in props.pop("assignedLicenses", [])
        ]
        if manager is not None:
            managers.append((user_id, ids[manager]))
        users.append(new_user(user_id, CREATED, props))
    groups: list[Json] = []
    members: list[tuple[str, str]] = []
    owners: list[tuple[str, str]] = []
    for props in document["groups"]:
        group_id = props.pop("id")
        members += [(group_id, ids[member]) for member in props.pop("members", [])]
        owners += [(group_id, ids[owner]) for owner in props.pop("owners", [])]
        groups.append(new_group(group_id, CREATED, DOMAINS[0], props))
    roles = [
        (a["roleDefinitionId"], ids[a["principal"]], a["directoryScopeId"])
        for a in document["roleAssignments"]
    ]
    return dataclasses.replace(
        empty_seed(),
        users=users,
        groups=groups,
        members=members,
        owners=owners,
        managers=managers,
        licenses=licenses,
        role_assignments=roles,
        sign_ins=sign_ins,
    )


def _ages(user_id: str, days: dict[str, int]) -> SignInAges:
    """Days ago as seconds, at a time of day of the user's own (within ten hours after that many days),
    so that sign-ins do not all fall on the same second and stay within the day they are counted in."""
    within_day = uuid.UUID(user_id).int % 36_000

    def ago(key: str) -> int | None:
        return days[key] * DAY_S + within_day if key in days else None

    return SignInAges(ago("lastSignInDaysAgo"), ago("lastNonInteractiveSignInDaysAgo"))
