"""diff: users — matching, creates, attribute updates, renames, disabling, managers, leavers."""

from __future__ import annotations

from builders import config, desired, dgroup, duser, lgroup, live, luser
from builders import flat_diff as diff

from reconciler.plan.model import Change


def only(changes: list[Change]) -> Change:
    assert len(changes) == 1, changes
    return changes[0]


def test_joiner_is_created_with_graph_defaults_and_no_password() -> None:
    plan = diff(
        desired(duser("Ada@Contoso.example", displayName="Ada Lovelace", jobTitle=None)), live(), config()
    )
    change = only(plan.changes)
    assert (change.id, change.action, change.kind, change.key) == (
        "c0001",
        "create",
        "user",
        "ada@contoso.example",
    )
    assert change.after == {
        "accountEnabled": True,
        "displayName": "Ada Lovelace",
        "mailNickname": "ada",
        "userPrincipalName": "ada@contoso.example",
    }
    assert "passwordProfile" not in change.after


def test_declared_mail_nickname_and_account_enabled_win_over_defaults() -> None:
    plan = diff(
        desired(
            duser("ada@contoso.example", displayName="Ada", mailNickname="lovelace", accountEnabled=False)
        ),
        live(),
        config(),
    )
    after = only(plan.changes).after or {}
    assert after["mailNickname"] == "lovelace"
    assert after["accountEnabled"] is False


def test_only_declared_attributes_are_compared() -> None:
    bob = luser("u1", "bob@contoso.example", displayName="Bob", jobTitle="Engineer", department="Ops")
    plan = diff(desired(duser("bob@contoso.example", jobTitle="Staff Engineer")), live(bob), config())
    change = only(plan.changes)
    assert (change.action, change.object_id) == ("update", "u1")
    assert change.diff == {"jobTitle": {"before": "Engineer", "after": "Staff Engineer"}}
    assert change.revoke_sessions is False


def test_null_clears_and_absent_live_value_equals_null() -> None:
    bob = luser("u1", "bob@contoso.example", jobTitle="Engineer")
    plan = diff(desired(duser("bob@contoso.example", jobTitle=None, department=None)), live(bob), config())
    assert only(plan.changes).diff == {"jobTitle": {"before": "Engineer", "after": None}}


def test_lists_compare_in_order() -> None:
    bob = luser("u1", "bob@contoso.example", businessPhones=["1", "2"])
    same = diff(desired(duser("bob@contoso.example", businessPhones=("1", "2"))), live(bob), config())
    assert same.changes == []
    swapped = diff(desired(duser("bob@contoso.example", businessPhones=["2", "1"])), live(bob), config())
    assert only(swapped.changes).diff == {"businessPhones": {"before": ["1", "2"], "after": ["2", "1"]}}


def test_key_matches_case_insensitively() -> None:
    bob = luser("u1", "Bob@Contoso.example", displayName="Bob")
    plan = diff(desired(duser("bob@contoso.example", displayName="Bob")), live(bob), config())
    assert plan.changes == []


def test_renamed_from_updates_the_upn() -> None:
    old = luser("u1", "bsmith@contoso.example", displayName="Bob")
    plan = diff(
        desired(
            duser("bob.smith@contoso.example", renamed_from=("BSmith@contoso.example",), displayName="Bob")
        ),
        live(old),
        config(),
    )
    change = only(plan.changes)
    assert (change.action, change.key, change.object_id) == ("update", "bob.smith@contoso.example", "u1")
    assert change.diff == {
        "userPrincipalName": {"before": "bsmith@contoso.example", "after": "bob.smith@contoso.example"}
    }


def test_pinned_id_beats_renamed_from_and_key() -> None:
    pinned = luser("u9", "robert@contoso.example")
    by_key = luser("u1", "bob@contoso.example")
    plan = diff(desired(duser("bob@contoso.example", id="u9")), live(pinned, by_key), config())
    change = only(plan.changes)
    assert (change.action, change.object_id) == ("update", "u9")
    assert change.diff == {
        "userPrincipalName": {"before": "robert@contoso.example", "after": "bob@contoso.example"}
    }


def test_pinned_id_gone_from_the_tenant_falls_back_to_the_key() -> None:
    bob = luser("u1", "bob@contoso.example")
    assert diff(desired(duser("bob@contoso.example", id="gone")), live(bob), config()).changes == []


def test_disabling_in_yaml_revokes_sessions() -> None:
    bob = luser("u1", "bob@contoso.example", accountEnabled=True)
    change = only(
        diff(desired(duser("bob@contoso.example", accountEnabled=False)), live(bob), config()).changes
    )
    assert change.action == "update"
    assert change.diff == {"accountEnabled": {"before": True, "after": False}}
    assert change.revoke_sessions is True


def test_enabling_does_not_revoke() -> None:
    bob = luser("u1", "bob@contoso.example", accountEnabled=False)
    change = only(
        diff(desired(duser("bob@contoso.example", accountEnabled=True)), live(bob), config()).changes
    )
    assert change.revoke_sessions is False


def test_manager_set_changed_and_cleared() -> None:
    grace = luser("m1", "grace@contoso.example")
    alan = luser("m2", "alan@contoso.example")
    ada = luser("u1", "ada@contoso.example", manager_id="m2")
    state = live(grace, alan, ada)
    change = only(
        diff(desired(duser("ada@contoso.example", manager="Grace@contoso.example")), state, config()).changes
    )
    assert (change.action, change.kind, change.user, change.manager) == (
        "set_manager",
        "manager",
        "ada@contoso.example",
        "grace@contoso.example",
    )
    assert (change.object_id, change.target_id, change.depends_on) == ("u1", "m1", [])
    cleared = only(diff(desired(duser("ada@contoso.example", manager=None)), state, config()).changes)
    assert (cleared.action, cleared.manager, cleared.object_id) == (
        "clear_manager",
        "alan@contoso.example",
        "u1",
    )
    assert (
        diff(desired(duser("ada@contoso.example", manager="alan@contoso.example")), state, config()).changes
        == []
    )
    assert diff(desired(duser("ada@contoso.example")), state, config()).changes == []


def test_manager_null_on_a_user_without_one_is_no_change() -> None:
    assert (
        diff(
            desired(duser("ada@contoso.example", manager=None)),
            live(luser("u1", "ada@contoso.example")),
            config(),
        ).changes
        == []
    )


def test_new_user_with_new_manager_depends_on_both_creates() -> None:
    plan = diff(
        desired(
            duser("ada@contoso.example", displayName="Ada", manager="grace@contoso.example"),
            duser("grace@contoso.example", displayName="Grace"),
        ),
        live(),
        config(),
    )
    assert [(c.id, c.action, c.key or c.user) for c in plan.changes] == [
        ("c0001", "create", "ada@contoso.example"),
        ("c0002", "create", "grace@contoso.example"),
        ("c0003", "set_manager", "ada@contoso.example"),
    ]
    assert plan.changes[2].depends_on == ["c0001", "c0002"]
    assert plan.changes[2].object_id is None and plan.changes[2].target_id is None


def test_undeclared_users_are_untouched_outside_an_authoritative_scope() -> None:
    stray = luser("u1", "stray@contoso.example", licenses={"sku": ()})
    assert diff(desired(), live(stray), config()).changes == []
    scoped = config(scope={"users": {"authoritative": False, "match": {"upn_suffix": "@contoso.example"}}})
    assert diff(desired(), live(stray), scoped).changes == []


AUTHORITATIVE = {"users": {"authoritative": True, "match": {"upn_suffix": "@contoso.example"}}}


def test_leaver_in_scope_is_disabled_with_licenses_and_managed_memberships_removed() -> None:
    leaver = luser("u1", "leaver@contoso.example", licenses={"sku-a": ()})
    outsider = luser("u2", "guest@fabrikam.example")
    managed = lgroup("g1", "grp-eng", members=("u1",))
    unmanaged = lgroup("g2", "grp-other", members=("u1",))
    plan = diff(
        desired(dgroup("grp-eng", members=["leaver@contoso.example"], mode="append")),
        live(leaver, outsider, managed, unmanaged),
        config(scope=AUTHORITATIVE),
    )
    got = [(c.action, c.kind, c.key or c.user or c.group, c.member) for c in plan.changes]
    # The YAML still lists the leaver in grp-eng: that edge stays (no flip-flop on the next plan).
    assert got == [
        ("remove_license", "license", "leaver@contoso.example", None),
        ("disable", "user", "leaver@contoso.example", None),
    ]
    disable = plan.changes[1]
    assert disable.revoke_sessions is True and disable.object_id == "u1" and disable.depends_on == []

    plan = diff(
        desired(dgroup("grp-eng", members=[], mode="append")),
        live(leaver, managed, unmanaged),
        config(scope=AUTHORITATIVE),
    )
    edges = [(c.action, c.group, c.member) for c in plan.changes if c.kind == "membership"]
    assert edges == [("remove_member", "grp-eng", "leaver@contoso.example")]


def test_already_disabled_leaver_needs_nothing() -> None:
    leaver = luser("u1", "leaver@contoso.example", accountEnabled=False)
    assert diff(desired(), live(leaver), config(scope=AUTHORITATIVE)).changes == []


def test_already_disabled_leaver_still_loses_leftover_licenses() -> None:
    leaver = luser("u1", "leaver@contoso.example", accountEnabled=False, licenses={"sku-a": ()})
    plan = diff(desired(), live(leaver), config(scope=AUTHORITATIVE))
    assert [(c.action, c.sku_id) for c in plan.changes] == [("remove_license", "sku-a")]


def test_removal_delete_deletes_the_leaver() -> None:
    leaver = luser("u1", "leaver@contoso.example", licenses={"sku-a": ()})
    plan = diff(desired(), live(leaver), config(scope=AUTHORITATIVE, removal={"users": "delete"}))
    change = only(plan.changes)
    assert (change.action, change.kind, change.key, change.object_id) == (
        "delete",
        "user",
        "leaver@contoso.example",
        "u1",
    )


def test_authoritative_scope_without_match_covers_every_user() -> None:
    plan = diff(
        desired(), live(luser("u1", "x@fabrikam.example")), config(scope={"users": {"authoritative": True}})
    )
    assert [c.action for c in plan.changes] == ["disable"]


def test_a_renamed_user_is_not_a_leaver() -> None:
    old = luser("u1", "bsmith@contoso.example")
    plan = diff(
        desired(duser("bob@contoso.example", renamed_from=("bsmith@contoso.example",))),
        live(old),
        config(scope=AUTHORITATIVE),
    )
    assert [c.action for c in plan.changes] == ["update"]
