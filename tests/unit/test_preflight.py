"""Pre-flight: every problem that would make an apply fail half-way, one line each, with FILE:LINE:COL."""

from __future__ import annotations

from builders import E3, E5, config, desired, dgroup, duser, lgroup, lic, live, luser, skus

from reconciler.desired.model import DesiredState, Reference
from reconciler.errors import Location
from reconciler.live import LiveLicense, LiveState
from reconciler.plan.diff import diff
from reconciler.plan.preflight import preflight

P, G = "state/people.yaml", "state/groups.yaml"


def problems(want: DesiredState, have: LiveState) -> list[str]:
    return [str(problem) for problem in preflight(diff(want, have, config()), want, have)]


def test_a_clean_plan_has_no_problems() -> None:
    want = desired(
        duser("ada@contoso.example", displayName="Ada", usageLocation="GB", licenses=[lic("SPE_E5")])
    )
    assert problems(want, live()) == []


def test_unknown_sku_and_service_plan() -> None:
    want = desired(
        duser(
            "ada@contoso.example",
            usageLocation="GB",
            licenses=[lic("E9", line=7), lic("ENTERPRISEPACK", "NOPE", line=8)],
        )
    )
    assert problems(want, live(luser("u1", "ada@contoso.example"))) == [
        f"{P}:7:1: user ada@contoso.example: unknown SKU 'E9' (the tenant has: ENTERPRISEPACK, SPE_E5)",
        f"{P}:8:1: user ada@contoso.example: SKU ENTERPRISEPACK has no service plan 'NOPE'",
    ]


def test_upn_on_an_unverified_domain_for_creates_and_renames() -> None:
    want = desired(
        duser("ada@evil.example", displayName="Ada", line=3),
        duser("bob@other.example", renamed_from=("bob@contoso.example",), line=9),
    )
    have = live(luser("u2", "bob@contoso.example"))
    assert problems(want, have) == [
        f"{P}:3:1: user ada@evil.example: domain evil.example is not a verified domain of the tenant "
        "(contoso.example, fabrikam.example)",
        f"{P}:9:1: user bob@other.example: domain other.example is not a verified domain of the tenant "
        "(contoso.example, fabrikam.example)",
    ]


def test_license_without_usage_location_declared_or_live() -> None:
    want = desired(
        duser("ada@contoso.example", licenses=[lic("SPE_E5")], line=2),
        duser("bob@contoso.example", licenses=[lic("SPE_E5")], line=5),
        duser("cy@contoso.example", usageLocation=None, licenses=[lic("SPE_E5")], line=8),
    )
    have = live(
        luser("u1", "ada@contoso.example"),
        luser("u2", "bob@contoso.example", usageLocation="GB"),
        luser("u3", "cy@contoso.example", usageLocation="GB"),
    )
    assert problems(want, have) == [
        f"{P}:2:1: user ada@contoso.example: license SPE_E5 needs a usageLocation, which it lacks",
        f"{P}:8:1: user cy@contoso.example: license SPE_E5 needs a usageLocation, which it lacks",
    ]


def test_references_that_exist_nowhere() -> None:
    where = Location("state/groups.yaml", 4, 7)
    want = desired(
        duser("ada@contoso.example", manager="ghost@contoso.example", line=2),
        dgroup("grp-eng", members=["grace@contoso.example", "group:grp-nope"], line=3),
        refs=[
            Reference("user", "grace@contoso.example", where, "member"),
            Reference("user", "ghost@contoso.example", Location("state/people.yaml", 2, 14), "manager"),
        ],
    )
    have = live(luser("u1", "ada@contoso.example"), lgroup("g1", "grp-eng"))
    assert problems(want, have) == [
        f"{G}:3:1: member group grp-nope is declared nowhere and not in the tenant",
        f"{G}:4:7: member user grace@contoso.example is declared nowhere and not in the tenant",
        f"{P}:2:14: manager user ghost@contoso.example is declared nowhere and not in the tenant",
    ]


def test_synced_attributes_manager_and_memberships() -> None:
    have = live(
        luser("u1", "ada@contoso.example", synced=True, jobTitle="A", usageLocation="GB"),
        luser("u2", "grace@contoso.example"),
        lgroup("g1", "grp-onprem", synced=True),
    )
    want = desired(
        duser(
            "ada@contoso.example",
            jobTitle="B",
            usageLocation="US",
            accountEnabled=False,
            manager="grace@contoso.example",
            line=4,
        ),
        dgroup("grp-onprem", members=["grace@contoso.example"], line=6),
    )
    assert problems(want, have) == [
        f"{G}:6:1: group grp-onprem is synced from on-premises AD: members cannot be changed through Graph",
        f"{P}:4:1: user ada@contoso.example is synced from on-premises AD: jobTitle cannot be changed "
        "through Graph",
        f"{P}:4:1: user ada@contoso.example is synced from on-premises AD: manager cannot be changed "
        "through Graph",
    ]


def test_synced_user_may_change_cloud_attributes_only() -> None:
    have = live(luser("u1", "ada@contoso.example", synced=True, usageLocation="GB"))
    assert (
        problems(desired(duser("ada@contoso.example", usageLocation="US", accountEnabled=False)), have) == []
    )


def test_create_without_display_name() -> None:
    want = desired(duser("ada@contoso.example", line=3), dgroup("grp-x", line=5))
    assert problems(want, live()) == [
        f"{G}:5:1: new group grp-x needs a displayName (Graph requires one)",
        f"{P}:3:1: new user ada@contoso.example needs a displayName (Graph requires one)",
    ]


def test_removing_every_owner() -> None:
    have = live(luser("u1", "a@contoso.example"), lgroup("g1", "grp-eng", owners=("u1",)))
    assert problems(desired(dgroup("grp-eng", owners=[], line=2)), have) == [
        f"{G}:2:1: group grp-eng: owners: [] would remove its last owner, which Graph refuses"
    ]


def test_seats_count_the_plans_own_assigns_and_removes() -> None:
    table = skus(e3_free=1, e5_free=0)
    have = live(
        luser("u1", "a@contoso.example", usageLocation="GB"),
        luser("u2", "b@contoso.example", usageLocation="GB"),
        luser("u3", "c@contoso.example", usageLocation="GB", licenses={E5: ()}),
        sku_table=table,
    )
    # Two more E3 with one free: a problem. E5 moves from c to a with none free: fine.
    want = desired(
        duser("a@contoso.example", licenses=[lic("ENTERPRISEPACK"), lic("SPE_E5")]),
        duser("b@contoso.example", licenses=[lic("ENTERPRISEPACK")]),
        duser("c@contoso.example", licenses=[]),
    )
    assert problems(want, have) == [
        "SKU ENTERPRISEPACK: the plan needs 2 more unit(s) but only 1 of 25 are free"
    ]


def test_seats_count_group_based_licenses_per_direct_user_member() -> None:
    table = skus(e3_free=2)
    users = [luser(f"u{i}", f"u{i}@contoso.example") for i in range(3)]
    have = live(*users, lgroup("g1", "grp-all", members=("u0", "u1", "u2")), sku_table=table)
    want = desired(dgroup("grp-all", licenses=[lic("ENTERPRISEPACK")]))
    assert problems(want, have) == [
        "SKU ENTERPRISEPACK: the plan needs 3 more unit(s) but only 2 of 25 are free"
    ]
    # A user who already holds the SKU directly needs no second unit.
    users[0].direct_licenses = {E3: LiveLicense(E3, frozenset())}
    assert problems(want, have) == []


def test_rename_or_create_onto_a_key_another_live_object_holds() -> None:
    have = live(
        luser("u1", "old@contoso.example"),
        luser("u2", "new@contoso.example"),
        luser("u3", "x@contoso.example"),
    )
    want = desired(
        duser("new@contoso.example", renamed_from=("old@contoso.example",), line=2),
        duser("x@contoso.example", id="u2", line=5),
    )
    assert problems(want, have) == [
        f"{P}:2:1: user new@contoso.example already exists in the tenant as another object (id u2)",
        f"{P}:5:1: user x@contoso.example already exists in the tenant as another object (id u3)",
    ]


def test_deleting_a_synced_object_is_a_problem() -> None:
    have = live(luser("u1", "gone@contoso.example", synced=True), lgroup("g1", "grp-old", synced=True))
    scope = {
        "users": {"authoritative": True, "match": {"upn_suffix": "@contoso.example"}},
        "groups": {"authoritative": True, "match": {"mail_nickname_prefix": "grp-"}},
    }
    plan = diff(desired(), have, config(scope=scope, removal={"users": "delete"}))
    assert [str(p) for p in preflight(plan, desired(), have)] == [
        "group grp-old is synced from on-premises AD: it cannot be deleted through Graph; "
        "delete it on-premises",
        "user gone@contoso.example is synced from on-premises AD: it cannot be deleted through Graph; "
        "delete it on-premises",
    ]


def test_members_declared_for_a_group_that_is_dynamic_in_the_tenant() -> None:
    want = desired(dgroup("grp-all", members=[], line=4))
    have = live(lgroup("g1", "grp-all", groupTypes=["DynamicMembership"], membershipRule="x"))
    assert problems(want, have) == [
        f"{G}:4:1: group grp-all is a dynamic group in the tenant: Entra ID sets its members from its "
        "membershipRule and refuses edits; remove `members:` (or declare its membershipRule)"
    ]


def test_problems_are_sorted_by_file_then_line_as_numbers() -> None:
    want = desired(
        duser("a@contoso.example", manager="nobody@contoso.example", line=10),
        duser("b@contoso.example", manager="ghost@contoso.example", line=9),
        refs=[
            Reference("user", "nobody@contoso.example", Location(P, 10, 3), "manager"),
            Reference("user", "ghost@contoso.example", Location(P, 9, 3), "manager"),
        ],
    )
    lines = problems(want, live(luser("u1", "a@contoso.example"), luser("u2", "b@contoso.example")))
    assert [line.split(": ")[0] for line in lines] == [f"{P}:9:3", f"{P}:10:3"]


def test_member_types_graph_refuses_told_by_the_tenant() -> None:
    """Graph docs, group-post-members (allowed member types): a Microsoft 365 group takes only users and
    is a member of no group; a role-assignable group takes no groups."""
    want = desired(
        dgroup("grp-sec", members=["group:grp-m365"], line=2),  # a live Microsoft 365 group as a member
        dgroup("grp-team", members=["group:grp-sec"], line=5),  # the parent is Microsoft 365 in the tenant
        dgroup("grp-admins", members=["group:grp-sec"], line=8),  # role-assignable in the tenant
        dgroup("grp-ok", members=["group:grp-sec", "group:grp-mail"], line=11),
    )
    have = live(
        lgroup("g1", "grp-m365", groupTypes=["Unified"], mailEnabled=True, securityEnabled=False),
        lgroup("g2", "grp-team", groupTypes=["Unified"], mailEnabled=True, securityEnabled=False),
        lgroup("g3", "grp-admins", isAssignableToRole=True, securityEnabled=True, groupTypes=[]),
        lgroup("g4", "grp-sec", securityEnabled=True, groupTypes=[]),
        lgroup("g5", "grp-ok", securityEnabled=True, groupTypes=[]),
        lgroup("g6", "grp-mail", mailEnabled=True, securityEnabled=True, groupTypes=[]),
    )
    assert problems(want, have) == [
        f"{G}:2:1: group grp-sec (a security group) cannot take group grp-m365 (a Microsoft 365 group) as a "
        "member: a Microsoft 365 group cannot be a member of any group",
        f"{G}:5:1: group grp-team (a Microsoft 365 group) cannot take group grp-sec (a security group) as a "
        "member: a Microsoft 365 group has only users as members",
        f"{G}:8:1: group grp-admins (a role-assignable group) cannot take group grp-sec (a security group) "
        "as a member: a role-assignable group has no groups as members",
    ]


def test_an_existing_nested_edge_is_not_reported_again() -> None:
    want = desired(dgroup("grp-team", members=["group:grp-sec"]))
    have = live(
        lgroup("g1", "grp-team", groupTypes=["Unified"], member_groups=("g2",)),
        lgroup("g2", "grp-sec", groupTypes=[]),
    )
    assert problems(want, have) == []


def test_a_read_only_group_in_the_tenant_cannot_be_declared() -> None:
    want = desired(dgroup("sg-mail", description="x", line=3), dgroup("dl-all", members=[], line=6))
    have = live(
        lgroup("g1", "sg-mail", mailEnabled=True, securityEnabled=True, groupTypes=[]),
        lgroup("g2", "dl-all", mailEnabled=True, securityEnabled=False, groupTypes=[]),
    )
    read_only = (
        "mail-enabled security groups and distribution groups are managed by Exchange and read-only through "
        "Microsoft Graph; remove it from the desired state (it may still be named as a member)"
    )
    assert problems(want, have) == [
        f"{G}:3:1: group sg-mail is a mail-enabled security group in the tenant: {read_only}",
        f"{G}:6:1: group dl-all is a distribution group in the tenant: {read_only}",
    ]
