"""The blast radius in the plan (issue "see before you merge"): computed from the snapshot, no request."""

from __future__ import annotations

from builders import E5, HELPDESK_ADMIN, config, desired, dgroup, lgroup, live, luser, with_roles

from reconciler.plan.diff import diff
from reconciler.plan.render_text import render_text


def test_nesting_a_group_names_who_joins_and_what_comes_with_it() -> None:
    users = [luser(f"u{i}", f"user{i}@contoso.example") for i in range(12)]
    team = lgroup("g1", "grp-team", members=tuple(f"u{i}" for i in range(12)))
    licensed = lgroup("g2", "grp-licensed", members=("u0",), licenses={E5: ()})
    top = lgroup("g3", "grp-all", member_groups=("g2",))
    state = with_roles(live(*users, team, licensed, top), (HELPDESK_ADMIN, "g2"))
    want = desired(dgroup("grp-licensed", members=["user0@contoso.example", "group:grp-team"], mode="append"))
    plan = diff(want, state, config())
    [effect] = plan.effects.members
    assert effect.group == "grp-licensed" and effect.reached == ("grp-all",)
    assert effect.gained == tuple(
        sorted(f"user{i}@contoso.example" for i in range(1, 12))
    )  # user0 is in already
    assert (effect.licenses, effect.roles) == (("SPE_E5",), ("Helpdesk Administrator",))
    text = render_text(plan)
    assert (
        "c0001: +11 users join grp-licensed (user10@contoso.example, user11@contoso.example, user1@" in text
    )
    assert (
        "… 1 more); through it also grp-all; grp-licensed assigns SPE_E5 (to its direct user members)" in text
    )
    assert plan.effects.seats == ()  # group licensing does not reach through a nested group


def test_license_changes_show_the_seats_before_and_after() -> None:
    state = live(
        luser("u1", "ada@contoso.example", usageLocation="GB"), lgroup("g1", "grp-e5", licenses={E5: ()})
    )
    plan = diff(desired(dgroup("grp-e5", members=["ada@contoso.example"])), state, config())
    [seat] = plan.effects.seats
    assert (seat.sku, seat.before, seat.after, seat.enabled) == ("SPE_E5", 15, 16, 25)
    assert "seats SPE_E5: 15 → 16 of 25" in render_text(plan)
