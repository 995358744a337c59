"""Licensing: which licenses each user holds, directly or through group-based licensing, and the seats they
consume. A license without a free seat is in error ("CountViolation") and not active, as in Entra.

`Licensing` computes from what the store keeps (users, groups and their `assignedLicenses`, memberships,
direct assignments, subscriptions) and is told by the store when one of those changes for a user
(`refresh`). It also answers the user properties Graph computes from licenses (`LICENSE_PROPERTIES`).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Protocol

from reconciler.emulator.types import Json

# The user properties that license assignments change.
LICENSE_PROPERTIES = ("assignedLicenses", "licenseAssignmentStates", "assignedPlans")


@dataclass(frozen=True)
class LicenseState:
    """One SKU on one user: direct (`assigned_by_group` None) or inherited from a group."""

    sku_id: str
    disabled_plans: tuple[str, ...]
    assigned_by_group: str | None
    error: str | None  # "CountViolation" when no seat was left; the license is then not active


class Directory(Protocol):
    """What licensing reads from the store."""

    @property
    def users(self) -> Mapping[str, Json]: ...
    @property
    def groups(self) -> Mapping[str, Json]: ...
    @property
    def members(self) -> Mapping[str, Mapping[str, None]]: ...
    @property
    def member_of(self) -> Mapping[str, Set[str]]: ...
    @property
    def direct_licenses(self) -> Mapping[str, Mapping[str, list[str]]]: ...  # user -> skuId -> plans
    @property
    def skus(self) -> Mapping[str, Json]: ...


class Licensing:
    """Each user's license states and each SKU's seat holders, for one directory."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.effective: dict[str, dict[str, list[LicenseState]]] = {}  # user id -> skuId -> states
        self.seat_holders: dict[str, set[str]] = {}  # skuId -> user ids consuming a seat

    def consumed_units(self, sku_id: str) -> int:
        return len(self.seat_holders.get(sku_id, ()))

    def refresh_all(self) -> None:
        self.effective = {}
        self.seat_holders = {}
        directory = self.directory
        licensed = set(directory.direct_licenses)
        for group_id, group in directory.groups.items():
            if group.get("assignedLicenses"):
                licensed.update(m for m in directory.members.get(group_id, {}) if m in directory.users)
        for user_id in directory.users:
            if user_id in licensed:
                self.refresh(user_id)

    def refresh(self, user_id: str, beyond_seats: bool = False) -> None:
        """Recompute a user's license states (direct + from its groups) and the seats they hold; a license
        without a free seat is in error (CountViolation) unless `beyond_seats` (a restore)."""
        directory = self.directory
        states: dict[str, list[LicenseState]] = {}
        if user_id in directory.users:
            for sku_id, plans in directory.direct_licenses.get(user_id, {}).items():
                states.setdefault(sku_id, []).append(LicenseState(sku_id, tuple(plans), None, None))
            for group_id in sorted(directory.member_of.get(user_id, ())):
                for lic in directory.groups[group_id].get("assignedLicenses") or ():
                    states.setdefault(lic["skuId"], []).append(
                        LicenseState(lic["skuId"], tuple(lic.get("disabledPlans", [])), group_id, None)
                    )
        for sku_id, holders in self.seat_holders.items():
            if sku_id not in states:
                holders.discard(user_id)
        for sku_id, sku_states in states.items():
            holders = self.seat_holders.setdefault(sku_id, set())
            if user_id in holders:
                continue
            prepaid = directory.skus.get(sku_id, {}).get("prepaidUnits", {}).get("enabled", 0)
            if len(holders) < prepaid or beyond_seats:
                holders.add(user_id)
            else:
                states[sku_id] = [
                    LicenseState(s.sku_id, s.disabled_plans, s.assigned_by_group, "CountViolation")
                    for s in sku_states
                ]
        if states:
            self.effective[user_id] = states
        else:
            self.effective.pop(user_id, None)

    def forget(self, user_id: str) -> None:
        self.effective.pop(user_id, None)

    # ---- the computed user properties ------------------------------------------------------------

    def license_states(self, user_id: str) -> list[Json]:
        """`licenseAssignmentStates`."""
        states = []
        for sku_states in self.effective.get(user_id, {}).values():
            for s in sku_states:
                states.append(
                    {
                        "assignedByGroup": s.assigned_by_group,
                        "disabledPlans": list(s.disabled_plans),
                        "error": s.error or "None",
                        "lastUpdatedDateTime": None,
                        "skuId": s.sku_id,
                        "state": "Error" if s.error else "Active",
                    }
                )
        return states

    def assigned_licenses(self, user_id: str) -> list[Json]:
        """`assignedLicenses`: active licenses, direct or inherited; a direct assignment's disabled plans win
        over a group's."""
        result = []
        for sku_id, sku_states in self.effective.get(user_id, {}).items():
            active = [s for s in sku_states if s.error is None]
            if active:
                chosen = next((s for s in active if s.assigned_by_group is None), active[0])
                result.append({"disabledPlans": list(chosen.disabled_plans), "skuId": sku_id})
        return result

    def assigned_plans(self, user_id: str) -> list[Json]:
        """`assignedPlans`: the service plans of the active licenses, less the disabled ones."""
        plans = []
        for lic in self.assigned_licenses(user_id):
            for plan in self.directory.skus[lic["skuId"]]["servicePlans"]:
                if plan["servicePlanId"] not in lic["disabledPlans"]:
                    plans.append(
                        {
                            "assignedDateTime": "2024-01-15T09:00:00Z",
                            "capabilityStatus": "Enabled",
                            "service": plan["servicePlanName"],
                            "servicePlanId": plan["servicePlanId"],
                        }
                    )
        return plans

    def has_members_with_errors(self, group_id: str) -> bool:
        """A group's `hasMembersWithLicenseErrors`: a member's license from this group is in error."""
        return any(
            s.error and s.assigned_by_group == group_id
            for m in self.directory.members.get(group_id, {})
            for states in self.effective.get(m, {}).values()
            for s in states
        )
