"""Direct license assignments of one user or group against what the YAML declares.

The declared list is authoritative for direct assignments only; licenses a user inherits from a group
are never touched. A SKU kept with other disabled plans is one in-place `update_license`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reconciler.desired.model import LicenseSpec
from reconciler.live import LiveLicense, LiveSku
from reconciler.plan.matching import Draft, needs_of
from reconciler.plan.model import LicenseChange, ObjectRef


def find_sku(skus: Mapping[str, LiveSku], name: str) -> LiveSku | None:
    """A SKU by skuId or skuPartNumber (case-insensitive)."""
    wanted = name.lower()
    for sku in skus.values():
        if sku.sku_id.lower() == wanted or sku.part_number.lower() == wanted:
            return sku
    return None


def unknown_plans(sku: LiveSku, names: Iterable[str]) -> list[str]:
    """The disabled plans written that are neither a servicePlanName nor a servicePlanId of `sku`."""
    known = {p.id.lower() for p in sku.service_plans} | {p.name.lower() for p in sku.service_plans}
    return [name for name in names if name.lower() not in known]


@dataclass(frozen=True)
class ResolvedLicense:
    sku: LiveSku
    plan_ids: tuple[str, ...]  # sorted by name, like plan_names
    plan_names: tuple[str, ...]


def resolve(skus: Mapping[str, LiveSku], spec: LicenseSpec) -> ResolvedLicense | None:
    """None when the SKU or one of its plans is unknown (pre-flight names it)."""
    sku = find_sku(skus, spec.sku)
    if sku is None or unknown_plans(sku, spec.disabled_plans):
        return None
    wanted = {name.lower() for name in spec.disabled_plans}
    plans = sorted(
        (p for p in sku.service_plans if p.id.lower() in wanted or p.name.lower() in wanted),
        key=lambda p: (p.name, p.id),
    )
    return ResolvedLicense(sku, tuple(p.id for p in plans), tuple(p.name for p in plans))


class Resolver:
    """`resolve` once per distinct license as written: 70,000 users write a handful of them."""

    def __init__(self, skus: Mapping[str, LiveSku]) -> None:
        self.skus = skus
        self._known: dict[tuple[str, tuple[str, ...]], ResolvedLicense | None] = {}

    def __call__(self, spec: LicenseSpec) -> ResolvedLicense | None:
        key = (spec.sku, spec.disabled_plans)
        if key not in self._known:
            self._known[key] = resolve(self.skus, spec)
        return self._known[key]


def plan_names(sku: LiveSku | None, plan_ids: Iterable[str]) -> list[str]:
    names = {p.id: p.name for p in sku.service_plans} if sku else {}
    return sorted(names.get(plan_id, plan_id) for plan_id in plan_ids)


def license_drafts(
    holder: ObjectRef,
    specs: tuple[LicenseSpec, ...],
    live_licenses: Mapping[str, LiveLicense],
    resolver: Resolver,
) -> list[Draft]:
    """assign/update/remove_license changes making `holder`'s direct licenses equal `specs`."""
    skus = resolver.skus
    wanted: dict[str, ResolvedLicense] = {}
    for spec in specs:
        resolved = resolver(spec)
        if resolved is not None:
            wanted.setdefault(resolved.sku.sku_id, resolved)
    drafts: list[Draft] = []
    for sku_id, lic in wanted.items():
        current = live_licenses.get(sku_id)
        if current is not None and current.disabled_plans == frozenset(lic.plan_ids):
            continue
        change = LicenseChange(
            "assign_license" if current is None else "update_license",
            holder,
            lic.sku.part_number,
            sku_id,
            disabled_plans=lic.plan_names,
            disabled_plan_ids=lic.plan_ids,
            plans_before=() if current is None else tuple(plan_names(lic.sku, current.disabled_plans)),
        )
        drafts.append(Draft(change, needs_of(holder)))
    for sku_id in sorted(set(live_licenses) - set(wanted)):
        drafts.append(Draft(remove_license(holder, skus, sku_id)))
    return drafts


def remove_license(holder: ObjectRef, skus: Mapping[str, LiveSku], sku_id: str) -> LicenseChange:
    sku = skus.get(sku_id)
    return LicenseChange("remove_license", holder, sku.part_number if sku else sku_id, sku_id)
