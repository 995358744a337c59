"""`entraform report licenses`: seats per SKU, where they go, and which ones can be reclaimed (pure).

A seat is reclaimable when it sits on a disabled account or on a user with no sign-in for
`inactive_days` (never signed in counts). For a direct assignment the report names the YAML edit that
frees it: the line of that license in the user's `licenses:`; a seat inherited from a group is freed
by the group's membership, which the report names instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reconciler.desired.model import DesiredState
from reconciler.errors import Location
from reconciler.live import LiveGroup, LiveState, LiveUser
from reconciler.plan.licenses import find_sku
from reconciler.reports.signins import SignIns


@dataclass(frozen=True)
class SkuSeats:
    part_number: str
    sku_id: str
    enabled: int
    consumed: int
    direct: int  # users holding it by a direct assignment
    via_group: int  # users holding it through a group only
    on_disabled: int
    on_inactive: int

    @property
    def free(self) -> int:
        return self.enabled - self.consumed


@dataclass(frozen=True)
class Reclaimable:
    user: str  # UPN
    sku: str  # skuPartNumber
    reason: str  # "disabled account", "no sign-in for 120 days", "never signed in"
    last_sign_in: str | None
    direct: bool
    edit: str  # what frees it: the YAML edit, or the group membership to end
    location: Location | None  # where that edit is, for a declared user


@dataclass
class LicenseReport:
    skus: list[SkuSeats] = field(default_factory=list)
    reclaimable: list[Reclaimable] = field(default_factory=list)
    inactive_days: int = 90
    notes: list[str] = field(default_factory=list)


def license_report(
    live: LiveState, sign_ins: SignIns, desired: DesiredState | None, now: datetime, inactive_days: int
) -> LicenseReport:
    report = LicenseReport(inactive_days=inactive_days)
    memberships = _Memberships(live, desired)
    seats: dict[str, dict[str, int]] = {
        sku_id: {"direct": 0, "via_group": 0, "on_disabled": 0, "on_inactive": 0} for sku_id in live.skus
    }
    for user in sorted(live.users.values(), key=lambda u: u.key):
        held = set(user.direct_licenses) | set(user.inherited_sku_ids)
        reason = _why_reclaimable(user, sign_ins, now, inactive_days)
        for sku_id in sorted(held):
            counts = seats.setdefault(
                sku_id, {"direct": 0, "via_group": 0, "on_disabled": 0, "on_inactive": 0}
            )
            counts["direct" if sku_id in user.direct_licenses else "via_group"] += 1
            if reason is None:
                continue
            counts["on_disabled" if reason == "disabled account" else "on_inactive"] += 1
            report.reclaimable.append(
                _reclaimable(user, sku_id, reason, sign_ins, live, desired, memberships)
            )
    for sku_id, sku in sorted(live.skus.items(), key=lambda item: item[1].part_number):
        c = seats[sku_id]
        line = SkuSeats(
            sku.part_number,
            sku_id,
            sku.enabled,
            sku.consumed,
            c["direct"],
            c["via_group"],
            c["on_disabled"],
            c["on_inactive"],
        )
        report.skus.append(line)
    if not sign_ins.available:
        report.notes.append("seats on inactive users are not counted: last sign-ins are unavailable")
    return report


def _why_reclaimable(user: LiveUser, sign_ins: SignIns, now: datetime, days: int) -> str | None:
    if user.attrs.get("accountEnabled") is False:
        return "disabled account"
    if sign_ins.inactive(user.id, now, days):
        last = sign_ins.of(user.id)
        return "never signed in" if last is None else f"no sign-in for {days}+ days"
    return None


def _reclaimable(
    user: LiveUser,
    sku_id: str,
    reason: str,
    sign_ins: SignIns,
    live: LiveState,
    desired: DesiredState | None,
    memberships: _Memberships,
) -> Reclaimable:
    sku = live.skus.get(sku_id)
    part = sku.part_number if sku else sku_id
    direct = sku_id in user.direct_licenses
    declared = desired.users.get(user.key) if desired else None
    location: Location | None = None
    if not direct:
        edit, location = memberships.edit(user, sku_id, part)
    elif declared is not None and declared.licenses is not None:
        spec = next(
            (
                s
                for s in declared.licenses
                if (found := find_sku(live.skus, s.sku)) and found.sku_id == sku_id
            ),
            None,
        )
        location = (spec.location if spec else None) or declared.location
        edit = f"remove `sku: {part}` from the licenses: of {user.upn}"
    elif declared is not None:
        location = declared.location
        edit = f"add `licenses: []` (or the licenses to keep) to {user.upn}"
    else:
        edit = f"{user.upn} is not declared: declare it with the licenses to keep, or remove {part} "
        edit += "in the tenant"
    return Reclaimable(user.upn, part, reason, sign_ins.of(user.id), direct, edit, location)


class _Memberships:
    """Which group assigns a seat, and where the YAML lists the member: indexed once, since a big tenant
    has tens of thousands of seats through a few licensing groups of tens of thousands of members."""

    def __init__(self, live: LiveState, desired: DesiredState | None) -> None:
        self.desired = desired
        self.assigning: dict[str, list[LiveGroup]] = {}
        for group in sorted(live.groups.values(), key=lambda g: g.key):
            for sku_id in group.licenses:
                self.assigning.setdefault(sku_id, []).append(group)
        self.lines: dict[str, dict[str, Location | None]] = {}  # group key -> user key -> member line

    def edit(self, user: LiveUser, sku_id: str, part: str) -> tuple[str, Location | None]:
        """The membership that brings the seat: group-based licensing reaches a group's direct members."""
        group = next((g for g in self.assigning.get(sku_id, ()) if user.id in g.member_user_ids), None)
        if group is None:
            return f"{part} comes through a group: take {user.upn} out of the group that assigns it", None
        declared = self.desired.groups.get(group.key) if self.desired else None
        if declared is None or declared.members is None:
            return f"take {user.upn} out of {group.mail_nickname} (its members are not managed in YAML)", None
        if group.key not in self.lines:
            self.lines[group.key] = {m.key: m.location for m in declared.members if m.kind == "user"}
        location = self.lines[group.key].get(user.key) or declared.location
        return f"remove {user.upn} from the members: of {group.mail_nickname}", location
