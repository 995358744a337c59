"""Safety: protected principals become held items, not changes (and never unsafe); fractions of
removals/updates make a plan unsafe."""

from __future__ import annotations

from builders import E3, config, desired, dgroup, duser, lgroup, lic, live, luser
from builders import flat_diff as diff

from reconciler.live import LiveUser

PROTECTED = {"protected": ["BreakGlass@contoso.example", "grp-admins"]}


def test_declared_difference_on_a_protected_user_is_held_not_a_change_and_not_unsafe() -> None:
    bg = luser("u1", "breakglass@contoso.example", jobTitle="Emergency")
    plan = diff(
        desired(duser("breakglass@contoso.example", jobTitle="Other")), live(bg), config(scope=PROTECTED)
    )
    assert plan.changes == [] and plan.unsafe == []
    [item] = plan.held
    assert item.principal == "breakglass@contoso.example"
    assert item.wants == 'update user breakglass@contoso.example: jobTitle: "Emergency" → "Other"'
    assert not plan.is_empty  # the tenant differs from git: exit 2 with --detailed-exitcode


def test_scope_removal_of_a_protected_user_is_held() -> None:
    bg = luser("u1", "breakglass@contoso.example", licenses={E3: ()})
    scope = {**PROTECTED, "users": {"authoritative": True, "match": {"upn_suffix": "@contoso.example"}}}
    plan = diff(desired(), live(bg), config(scope=scope))
    assert plan.changes == [] and plan.unsafe == []
    assert [(i.principal, i.wants.split(" (")[0]) for i in plan.held] == [
        ("breakglass@contoso.example", "remove license ENTERPRISEPACK from breakglass@contoso.example"),
        ("breakglass@contoso.example", "disable user breakglass@contoso.example"),
    ]


def test_membership_edges_touching_a_protected_principal_are_protected() -> None:
    bg, ada = luser("u1", "breakglass@contoso.example"), luser("u2", "ada@contoso.example")
    eng = lgroup("g1", "grp-eng", members=("u1",))
    admins = lgroup("g2", "grp-admins")
    plan = diff(
        desired(
            dgroup("grp-eng", members=["ada@contoso.example"]),
            dgroup("grp-admins", members=["ada@contoso.example"]),
        ),
        live(bg, ada, eng, admins),
        config(scope=PROTECTED),
    )
    assert [(c.action, c.group, c.member) for c in plan.changes] == [
        ("add_member", "grp-eng", "ada@contoso.example")
    ]
    assert sorted(i.principal for i in plan.held) == ["breakglass@contoso.example", "grp-admins"]
    assert plan.unsafe == []


def test_protected_manager_target_and_licenses() -> None:
    bg, ada = luser("u1", "breakglass@contoso.example"), luser("u2", "ada@contoso.example")
    plan = diff(
        desired(
            duser("ada@contoso.example", manager="breakglass@contoso.example"),
            duser("breakglass@contoso.example", licenses=[lic("SPE_E5")]),
        ),
        live(bg, ada),
        config(scope=PROTECTED),
    )
    assert plan.changes == [] and plan.unsafe == []
    assert [i.wants.split(" ")[0] for i in plan.held] == ["set", "assign"]


def big_tenant(n: int) -> list[LiveUser]:
    return [luser(f"u{i}", f"user{i:02d}@contoso.example", jobTitle="A") for i in range(n)]


def test_delete_fraction_over_the_limit_is_unsafe_but_changes_stay() -> None:
    users = big_tenant(10)
    scope = {"users": {"authoritative": True, "match": {"upn_suffix": "@contoso.example"}}}
    keep = [duser(f"user{i:02d}@contoso.example") for i in range(6)]
    plan = diff(desired(*keep), live(*users), config(scope=scope, safety={"min_existing": 10}))
    assert [c.action for c in plan.changes] == ["disable"] * 4
    [item] = plan.unsafe
    assert (item.reason, item.kind) == ("delete_fraction", "user")
    assert item.change_ids == ["c0001", "c0002", "c0003", "c0004"]
    assert item.message.startswith(
        "4 of 10 users (40%) would be removed, over safety.max_delete_fraction 30%"
    )


def test_fraction_at_the_limit_is_safe_and_below_min_existing_not_checked() -> None:
    users = big_tenant(10)
    scope = {"users": {"authoritative": True, "match": {"upn_suffix": "@contoso.example"}}}
    keep = [duser(f"user{i:02d}@contoso.example") for i in range(7)]
    assert diff(desired(*keep), live(*users), config(scope=scope, safety={"min_existing": 10})).unsafe == []
    keep = [duser(f"user{i:02d}@contoso.example") for i in range(2)]
    assert diff(desired(*keep), live(*users), config(scope=scope, safety={"min_existing": 11})).unsafe == []


def test_update_fraction() -> None:
    users = big_tenant(10)
    wanted = [duser(f"user{i:02d}@contoso.example", jobTitle="B" if i < 6 else "A") for i in range(10)]
    plan = diff(desired(*wanted), live(*users), config(safety={"min_existing": 10}))
    assert [(i.reason, i.kind, len(i.change_ids)) for i in plan.unsafe] == [("update_fraction", "user", 6)]


def test_membership_removals_count() -> None:
    users = big_tenant(10)
    eng = lgroup("g1", "grp-eng", members=tuple(f"u{i}" for i in range(10)))
    plan = diff(
        desired(dgroup("grp-eng", members=["user00@contoso.example"])),
        live(*users, eng),
        config(safety={"min_existing": 5}),
    )
    assert [(i.reason, i.kind, len(i.change_ids)) for i in plan.unsafe] == [
        ("delete_fraction", "membership", 9)
    ]


def test_license_removals_count() -> None:
    users = [luser(f"u{i}", f"user{i}@contoso.example", licenses={E3: ()}) for i in range(4)]
    plan = diff(
        desired(*(duser(f"user{i}@contoso.example", licenses=[]) for i in range(4))),
        live(*users),
        config(safety={"min_existing": 4}),
    )
    assert [(i.reason, i.kind, len(i.change_ids)) for i in plan.unsafe] == [("delete_fraction", "license", 4)]
