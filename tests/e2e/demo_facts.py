"""What the demo tenant holds, read from its data (the emulator's demo_tenant.yaml) with plain YAML, so
that the e2e tests of `show` and `report` check the CLI's answers against the seed, not against itself."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from reconciler.emulator import roledefs, skus

DAY_S = 86_400
SKU_NAMES = {sku_id: name for name, (sku_id, _plans) in skus.CATALOGUE.items()}


@dataclass
class Demo:
    users: dict[str, dict[str, Any]]  # by UPN
    groups: dict[str, dict[str, Any]]  # by mailNickname
    roles: list[tuple[str, str]] = field(default_factory=list)  # (role displayName, principal UPN or NICK)

    # ---- people --------------------------------------------------------------------------------

    def manager_chain(self, upn: str) -> list[str]:
        chain = []
        while (manager := self.users[upn].get("manager")) is not None:
            chain.append(manager)
            upn = manager
        return chain

    def direct_reports(self, upn: str) -> int:
        return sum(1 for u in self.users.values() if u.get("manager") == upn)

    def members(self, nickname: str) -> list[str]:
        """Direct members as the seed lists them: UPNs and nicknames of nested groups."""
        group = self.groups[nickname]
        if group.get("membershipRule"):
            return [u for u, props in self.users.items() if self._matches_all_employees(props)]
        return list(group.get("members") or [])

    def _matches_all_employees(self, props: dict[str, Any]) -> bool:
        # grp-all-employees' rule: (user.employeeType -eq "Employee") and (user.accountEnabled -eq true)
        return props.get("employeeType") == "Employee" and props.get("accountEnabled", True) is True

    def direct_groups(self, member: str) -> set[str]:
        return {nick for nick in self.groups if member in self.members(nick)}

    def group_paths(self, upn: str) -> dict[str, tuple[str, ...]]:
        """Each group the user is in, with the shortest path of groups from a direct one."""
        paths = {nick: (nick,) for nick in self.direct_groups(upn)}
        frontier = sorted(paths)
        while frontier:
            following = []
            for child in frontier:
                for parent in sorted(self.direct_groups(child)):
                    if parent not in paths:
                        paths[parent] = (*paths[child], parent)
                        following.append(parent)
            frontier = following
        return paths

    def transitive_users(self, nickname: str) -> set[str]:
        found: set[str] = set()
        for member in self.members(nickname):
            found |= self.transitive_users(member) if member in self.groups else {member}
        return found

    def licenses(self, upn: str) -> set[tuple[str, str | None]]:
        """(SKU part number, the assigning group or None for direct)."""
        held = {(SKU_NAMES[a["skuId"]], None) for a in self.users[upn].get("assignedLicenses") or []}
        for nick in self.direct_groups(upn):  # group-based licensing reaches direct members only
            held |= {(SKU_NAMES[a["skuId"]], nick) for a in self.groups[nick].get("assignedLicenses") or []}
        return held

    def licenses_of_group(self, nickname: str) -> set[str]:
        return {SKU_NAMES[a["skuId"]] for a in self.groups[nickname].get("assignedLicenses") or []}

    def roles_of(self, upn: str) -> set[tuple[str, str | None]]:
        """(role, the group it comes through or None for direct)."""
        held = {(role, None) for role, principal in self.roles if principal == upn}
        groups = self.direct_groups(upn)
        return held | {(role, principal) for role, principal in self.roles if principal in groups}

    # ---- sign-ins ------------------------------------------------------------------------------

    def days_since_sign_in(self, upn: str) -> int | None:
        """Whole days from the user's newest sign-in to the seeding, as the data says; None: never."""
        activity = self.users[upn].get("signInActivity")
        if activity is None:
            return None
        return min(activity.values())

    def inactive(self, upn: str, days: int) -> bool:
        since = self.days_since_sign_in(upn)
        return since is None or since >= days


@functools.cache
def demo() -> Demo:
    text = resources.files("reconciler.emulator").joinpath("demo_tenant.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    users = {u["userPrincipalName"]: u for u in document["users"]}
    groups = {g["mailNickname"]: g for g in document["groups"]}
    roles = [(roledefs.role_name(a["roleDefinitionId"]), a["principal"]) for a in document["roleAssignments"]]
    return Demo(users, groups, roles)
