"""Pre-flight's seat count, which follows only what a plan touches, agrees with counting every unit
of the tenant before and after a full `simulate` of the plan (hypothesis, over random tenants).

The count itself (`_Licensing`) is compared too: pre-flight reports only SKUs short of units, so
a unit freed by a deleted user would otherwise show only in rare plans."""

from __future__ import annotations

from collections import Counter

from builders import skus
from hypothesis import given
from simulate import simulate
from test_plan_properties import SETTINGS, scenarios

from reconciler.config import Config
from reconciler.desired.model import DesiredState
from reconciler.live import LiveState
from reconciler.plan.diff import diff
from reconciler.plan.model import Plan
from reconciler.plan.preflight import preflight
from reconciler.plan.seats import _Licensing


def units(state: LiveState) -> Counter[str]:
    from_groups: dict[str, set[str]] = {}
    for group in state.groups.values():
        for user_id in group.member_user_ids:
            from_groups.setdefault(user_id, set()).update(group.licenses)
    held: Counter[str] = Counter()
    for user in state.users.values():
        held.update(set(user.direct_licenses) | from_groups.get(user.id, set()))
    return held


def seat_lines_by_simulation(plan: Plan, live: LiveState) -> list[str]:
    before, after = units(live), units(simulate(plan, live))
    return [
        f"SKU {sku.part_number}: the plan needs {after[sku_id] - before[sku_id]} more unit(s) but only 0 "
        f"of {sku.enabled} are free"
        for sku_id, sku in sorted(live.skus.items(), key=lambda item: item[1].part_number)
        if after[sku_id] > before[sku_id]
    ]


@SETTINGS
@given(scenarios())
def test_seats_agree_with_a_full_simulation(scenario: tuple[DesiredState, LiveState, Config]) -> None:
    desired, live, config = scenario
    live.skus = skus(e3_free=0, e5_free=0)  # every extra unit is reported, with its count
    plan = diff(desired, live, config)
    seats = [str(p) for p in preflight(plan, desired, live) if p.message.startswith("SKU ")]
    assert seats == seat_lines_by_simulation(plan, live)


@SETTINGS
@given(scenarios())
def test_extra_units_agree_with_a_full_simulation(scenario: tuple[DesiredState, LiveState, Config]) -> None:
    desired, live, config = scenario
    plan = diff(desired, live, config)
    licensing = _Licensing(live)
    for change in plan.changes:
        licensing.apply(change)
    before, after = units(live), units(simulate(plan, live))
    expected = {sku_id: after[sku_id] - before[sku_id] for sku_id in before | after}
    counted = licensing.extra_units()
    assert {k: v for k, v in counted.items() if v} == {k: v for k, v in expected.items() if v}
