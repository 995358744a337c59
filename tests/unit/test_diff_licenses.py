"""diff: licenses — direct vs inherited, disabledPlans updates in place, SKU/plan resolution, groups."""

from __future__ import annotations

from builders import E3, E5, EXCHANGE, YAMMER, config, desired, dgroup, duser, lgroup, lic, live, luser
from builders import flat_diff as diff


def test_assign_resolves_sku_and_plan_names_case_insensitively() -> None:
    ada = luser("u1", "ada@contoso.example", usageLocation="GB")
    plan = diff(
        desired(duser("ada@contoso.example", licenses=[lic("enterprisepack", "yammer_enterprise")])),
        live(ada),
        config(),
    )
    change = plan.changes[0]
    assert (change.action, change.kind, change.user, change.object_id) == (
        "assign_license",
        "license",
        "ada@contoso.example",
        "u1",
    )
    assert (change.sku, change.sku_id) == ("ENTERPRISEPACK", E3)
    assert (change.disabled_plans, change.disabled_plan_ids) == (["YAMMER_ENTERPRISE"], [YAMMER])


def test_sku_and_plans_by_id() -> None:
    ada = luser("u1", "ada@contoso.example", licenses={E3: (YAMMER,)})
    assert (
        diff(
            desired(duser("ada@contoso.example", licenses=[lic(E3, YAMMER.upper())])), live(ada), config()
        ).changes
        == []
    )


def test_changed_disabled_plans_is_one_update_license() -> None:
    ada = luser("u1", "ada@contoso.example", licenses={E3: (YAMMER,)})
    plan = diff(
        desired(duser("ada@contoso.example", licenses=[lic("ENTERPRISEPACK", "EXCHANGE_S_ENTERPRISE")])),
        live(ada),
        config(),
    )
    assert len(plan.changes) == 1
    change = plan.changes[0]
    assert change.action == "update_license"
    assert change.disabled_plan_ids == [EXCHANGE]
    assert change.diff == {
        "disabledPlans": {"before": ["YAMMER_ENTERPRISE"], "after": ["EXCHANGE_S_ENTERPRISE"]}
    }


def test_declared_list_is_authoritative_for_direct_only_and_inherited_is_never_touched() -> None:
    ada = luser("u1", "ada@contoso.example", licenses={E3: ()}, inherited=(E5,))
    plan = diff(desired(duser("ada@contoso.example", licenses=[])), live(ada), config())
    assert [(c.action, c.sku, c.sku_id) for c in plan.changes] == [("remove_license", "ENTERPRISEPACK", E3)]


def test_license_move_from_one_sku_to_another() -> None:
    ada = luser("u1", "ada@contoso.example", licenses={E3: ()}, usageLocation="GB")
    plan = diff(desired(duser("ada@contoso.example", licenses=[lic("SPE_E5")])), live(ada), config())
    assert [(c.action, c.sku) for c in plan.changes] == [
        ("assign_license", "SPE_E5"),
        ("remove_license", "ENTERPRISEPACK"),
    ]


def test_licenses_not_declared_are_unmanaged() -> None:
    ada = luser("u1", "ada@contoso.example", licenses={E3: ()})
    assert diff(desired(duser("ada@contoso.example")), live(ada), config()).changes == []


def test_unknown_sku_is_no_change_but_known_ones_still_plan() -> None:
    ada = luser("u1", "ada@contoso.example", licenses={E3: ()})
    plan = diff(
        desired(duser("ada@contoso.example", licenses=[lic("NOPE"), lic("ENTERPRISEPACK", "NOPLAN")])),
        live(ada),
        config(),
    )
    # Unresolvable specs are pre-flight problems; the plan cannot be applied anyway.
    assert [c.action for c in plan.changes] == ["remove_license"]


def test_new_user_license_depends_on_create() -> None:
    plan = diff(
        desired(
            duser("ada@contoso.example", displayName="Ada", usageLocation="GB", licenses=[lic("SPE_E5")])
        ),
        live(),
        config(),
    )
    assert [(c.id, c.action, c.depends_on) for c in plan.changes] == [
        ("c0001", "create", []),
        ("c0002", "assign_license", ["c0001"]),
    ]


def test_group_based_licenses() -> None:
    eng = lgroup("g1", "grp-eng", licenses={E3: ()})
    plan = diff(desired(dgroup("grp-eng", licenses=[lic("SPE_E5", "TEAMS1")])), live(eng), config())
    assert [(c.action, c.group, c.user, c.sku, c.object_id) for c in plan.changes] == [
        ("assign_license", "grp-eng", None, "SPE_E5", "g1"),
        ("remove_license", "grp-eng", None, "ENTERPRISEPACK", "g1"),
    ]
