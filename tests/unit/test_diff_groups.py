"""diff: groups — creates, updates, renames, members (replace/append, nested), owners, scope deletes."""

from __future__ import annotations

from builders import config, desired, dgroup, duser, lgroup, live, luser
from builders import flat_diff as diff

from reconciler.plan.model import Plan


def rows(plan: Plan) -> list[tuple[str, ...]]:
    return [
        (c.id, c.action, c.group or c.key or "", c.member or c.owner or "", ",".join(c.depends_on))
        for c in plan.changes
    ]


def test_new_security_group_defaults() -> None:
    plan = diff(desired(dgroup("GRP-Eng", displayName="Engineering")), live(), config())
    assert plan.changes[0].after == {
        "displayName": "Engineering",
        "mailEnabled": False,
        "mailNickname": "grp-eng",
        "securityEnabled": True,
    }


def test_new_unified_group_is_mail_enabled() -> None:
    plan = diff(desired(dgroup("grp-m365", displayName="M365", groupTypes=["Unified"])), live(), config())
    after = plan.changes[0].after or {}
    assert (after["mailEnabled"], after["securityEnabled"], after["groupTypes"]) == (True, False, ["Unified"])


def test_group_update_and_rename() -> None:
    old = lgroup("g1", "grp-old", displayName="Old", description="x")
    plan = diff(desired(dgroup("grp-new", renamed_from=("grp-old",), displayName="New")), live(old), config())
    change = plan.changes[0]
    assert (change.action, change.kind, change.key, change.object_id) == ("update", "group", "grp-new", "g1")
    assert change.diff == {
        "mailNickname": {"before": "grp-old", "after": "grp-new"},
        "displayName": {"before": "Old", "after": "New"},
    }


def test_replace_members_adds_missing_and_removes_extra_users_and_groups() -> None:
    ada, bob, eve = (
        luser("u1", "ada@contoso.example"),
        luser("u2", "bob@contoso.example"),
        luser("u3", "eve@x.example"),
    )
    platform, old_team = lgroup("g2", "grp-platform"), lgroup("g3", "grp-old")
    eng = lgroup("g1", "grp-eng", members=("u2", "u3"), member_groups=("g3",))
    plan = diff(
        desired(
            dgroup("grp-eng", members=["ada@contoso.example", "bob@contoso.example", "group:grp-platform"])
        ),
        live(ada, bob, eve, platform, old_team, eng),
        config(),
    )
    assert rows(plan) == [
        ("c0001", "add_member", "grp-eng", "ada@contoso.example", ""),
        ("c0002", "add_member", "grp-eng", "group:grp-platform", ""),
        ("c0003", "remove_member", "grp-eng", "eve@x.example", ""),
        ("c0004", "remove_member", "grp-eng", "group:grp-old", ""),
    ]
    add = plan.changes[0]
    assert (add.kind, add.object_id, add.target_id) == ("membership", "g1", "u1")


def test_append_members_never_removes() -> None:
    eve = luser("u3", "eve@contoso.example")
    ada = luser("u1", "ada@contoso.example")
    eng = lgroup("g1", "grp-eng", members=("u3",))
    plan = diff(
        desired(dgroup("grp-eng", members=["ada@contoso.example"], mode="append")),
        live(ada, eve, eng),
        config(),
    )
    assert [c.action for c in plan.changes] == ["add_member"]


def test_unmanaged_members_are_untouched() -> None:
    eng = lgroup("g1", "grp-eng", members=("u3",), displayName="Eng")
    assert (
        diff(
            desired(dgroup("grp-eng", displayName="Eng")), live(luser("u3", "e@x.example"), eng), config()
        ).changes
        == []
    )


def test_new_group_with_new_members_and_nested_new_group_depends_on_creates() -> None:
    plan = diff(
        desired(
            duser("ada@contoso.example", displayName="Ada"),
            dgroup(
                "grp-eng",
                displayName="Eng",
                members=["ada@contoso.example", "group:grp-platform"],
                owners=["ada@contoso.example"],
            ),
            dgroup("grp-platform", displayName="Platform"),
        ),
        live(),
        config(),
    )
    assert rows(plan) == [
        ("c0001", "create", "ada@contoso.example", "", ""),
        ("c0002", "create", "grp-eng", "", ""),
        ("c0003", "create", "grp-platform", "", ""),
        ("c0004", "add_member", "grp-eng", "ada@contoso.example", "c0001,c0002"),
        ("c0005", "add_member", "grp-eng", "group:grp-platform", "c0002,c0003"),
        ("c0006", "add_owner", "grp-eng", "ada@contoso.example", "c0001,c0002"),
    ]


def test_member_of_a_renamed_user_is_kept_under_its_new_name() -> None:
    bob = luser("u2", "bsmith@contoso.example")
    eng = lgroup("g1", "grp-eng", members=("u2",))
    plan = diff(
        desired(
            duser("bob@contoso.example", renamed_from=("bsmith@contoso.example",)),
            dgroup("grp-eng", members=["bob@contoso.example"]),
        ),
        live(bob, eng),
        config(),
    )
    assert [c.action for c in plan.changes] == ["update"]


def test_owners_are_authoritative_and_adds_come_before_removes() -> None:
    grace, alan = luser("u1", "grace@contoso.example"), luser("u2", "alan@contoso.example")
    eng = lgroup("g1", "grp-eng", owners=("u2",))
    plan = diff(
        desired(dgroup("grp-eng", owners=["grace@contoso.example"])), live(grace, alan, eng), config()
    )
    assert [(c.action, c.kind, c.owner, c.target_id) for c in plan.changes] == [
        ("add_owner", "owner", "grace@contoso.example", "u1"),
        ("remove_owner", "owner", "alan@contoso.example", "u2"),
    ]


def test_unknown_member_reference_is_left_to_preflight() -> None:
    plan = diff(
        desired(dgroup("grp-eng", members=["ghost@contoso.example"])), live(lgroup("g1", "grp-eng")), config()
    )
    assert plan.changes == []


GROUP_SCOPE = {"groups": {"authoritative": True, "match": {"mail_nickname_prefix": "grp-"}}}


def test_undeclared_group_in_authoritative_scope_is_deleted() -> None:
    state = live(lgroup("g1", "GRP-Stale"), lgroup("g2", "team-x"), lgroup("g3", "grp-kept"))
    plan = diff(desired(dgroup("grp-kept")), state, config(scope=GROUP_SCOPE))
    assert [(c.action, c.kind, c.key, c.object_id) for c in plan.changes] == [
        ("delete", "group", "grp-stale", "g1")
    ]


def test_group_scope_not_authoritative_deletes_nothing() -> None:
    state = live(lgroup("g1", "grp-stale"))
    assert (
        diff(desired(), state, config(scope={"groups": {"match": {"mail_nickname_prefix": "grp-"}}})).changes
        == []
    )


def test_dynamic_group_members_are_never_planned() -> None:
    ada, lee = luser("u1", "ada@contoso.example"), luser("u2", "lee@contoso.example", accountEnabled=True)
    dynamic = lgroup("g1", "grp-all", members=("u1", "u2"), groupTypes=["DynamicMembership"])
    plan = diff(
        desired(duser("ada@contoso.example"), dgroup("grp-all", members=[])),
        live(ada, lee, dynamic),
        config(scope={"users": {"authoritative": True, "match": {"upn_suffix": "@contoso.example"}}}),
    )
    # lee is a leaver (disabled), yet stays in the dynamic group: Entra ID owns its members.
    assert [c.action for c in plan.changes if c.kind == "membership"] == []
    assert [(c.action, c.key) for c in plan.changes if c.kind == "user"] == [
        ("disable", "lee@contoso.example")
    ]


def test_an_undeclared_licensed_group_loses_its_licenses_before_it_is_deleted() -> None:
    from builders import E3

    old = lgroup("g9", "grp-old", licenses={E3: ()})
    plan = diff(desired(), live(old), config(scope={"groups": {"authoritative": True}}))
    assert [(c.id, c.action, c.kind, c.group or c.key, c.depends_on) for c in plan.changes] == [
        ("c0001", "remove_license", "license", "grp-old", []),
        ("c0002", "delete", "group", "grp-old", ["c0001"]),
    ]
