"""diff, pre-flight, plan JSON and Graph requests for the user lifecycle: guests invited (never created
with POST /users), deleted objects restored instead of created anew, deletes that stay restorable and
purges that do not (SPEC §3, §4)."""

from __future__ import annotations

from dataclasses import replace

from builders import config, desired, dgroup, duser, lgroup, live, luser
from simulate import simulate

from reconciler.apply.operations import Ids, build_requests, created_id, group_units
from reconciler.apply.permissions import missing_permissions
from reconciler.desired.model import DesiredUser, Invitation
from reconciler.live import LiveGroup, LiveState, LiveUser
from reconciler.plan.describe import describe
from reconciler.plan.diff import diff
from reconciler.plan.model import Invite, Plan, Remove, Restore, UnsafeItem
from reconciler.plan.planfile import change_from_dict, change_to_dict, plan_from_dict, plan_to_dict
from reconciler.plan.preflight import preflight

GRAPH = "https://graph.microsoft.com/v1.0"
ALICE = "alice@fabrikam.example"
ALICE_UPN = "alice_fabrikam.example#EXT#@contoso.onmicrosoft.com"


def guest(email: str = ALICE, **attrs: object) -> DesiredUser:
    user = duser(email, userType="Guest", **attrs)
    return replace(user, invitation=Invitation(email, False, "https://myapps.microsoft.com"))


def live_guest(user_id: str = "g-1", **attrs: object) -> LiveUser:
    user = luser(user_id, ALICE_UPN, userType="Guest", **attrs)
    return replace(user, mail=ALICE, external_user_state="PendingAcceptance")


def deleted(state: LiveState, *objects: LiveUser | LiveGroup) -> LiveState:
    for obj in objects:
        if isinstance(obj, LiveUser):
            state.deleted_users[obj.id] = replace(obj, deleted_at="2026-11-20T10:00:00Z")
        else:
            state.deleted_groups[obj.id] = replace(obj, deleted_at="2026-11-20T10:00:00Z")
    return state


def round_trip(plan: Plan) -> Plan:
    back = plan_from_dict(plan_to_dict(plan))
    assert back.changes == plan.changes
    return back


# ---- guests -------------------------------------------------------------------------------------


def test_a_new_guest_is_invited_never_created_with_post_users() -> None:
    plan = diff(desired(guest(displayName="Alice", jobTitle="Auditor")), live(), config())
    (change,) = plan.changes
    assert isinstance(change, Invite)
    assert change_to_dict(change) == {
        "id": "c0001",
        "action": "create",
        "kind": "user",
        "key": ALICE,
        "invitation": {
            "invitedUserEmailAddress": ALICE,
            "sendInvitationMessage": False,
            "inviteRedirectUrl": "https://myapps.microsoft.com",
        },
        "after": {"displayName": "Alice", "jobTitle": "Auditor", "userType": "Guest"},
    }
    round_trip(plan)
    (unit,) = group_units(plan.changes)
    ids = Ids()
    (invite,) = build_requests(unit, ids, GRAPH)
    assert (invite.method, invite.url) == ("POST", "/invitations")
    assert invite.body == {
        "invitedUserEmailAddress": ALICE,
        "inviteRedirectUrl": "https://myapps.microsoft.com",
        "sendInvitationMessage": False,
        "invitedUserType": "Guest",
        "invitedUserDisplayName": "Alice",
    }
    # Graph answers with the user it made (invitedUser.id): the declared jobTitle goes to that user.
    new_id = created_id(unit, {"id": "inv-1", "invitedUser": {"id": "g-9"}})
    assert new_id == "g-9"
    ids.set(("user", ALICE), new_id)
    unit.step = 1
    requests = build_requests(unit, ids, GRAPH)
    assert [(r.method, r.url, r.body) for r in requests[1:]] == [
        ("PATCH", "/users/g-9", {"jobTitle": "Auditor"})
    ]


def test_an_invited_guest_is_matched_by_its_address_and_its_graph_upn_is_kept() -> None:
    plan = diff(desired(guest(displayName="Alice")), live(live_guest(displayName="Alice")), config())
    assert plan.changes == []
    plan = diff(desired(guest(displayName="Alice B.")), live(live_guest(displayName="Alice")), config())
    (change,) = plan.changes
    assert change_to_dict(change)["diff"] == {"displayName": {"before": "Alice", "after": "Alice B."}}


def test_a_member_is_never_turned_into_a_guest_or_back() -> None:
    member = luser("u1", "bob@contoso.example", userType="Member")
    want = desired(duser("bob@contoso.example", userType="Guest"))
    have = live(member)
    problems = [str(p) for p in preflight(diff(want, have, config()), want, have)]
    assert problems == [
        "state/people.yaml:1:1: user bob@contoso.example is a Member in the tenant but the YAML says "
        "userType Guest: entraform never converts a member into a guest or a guest into a member; "
        "declare it as it is, or remove it and declare the new account"
    ]


def test_inviting_needs_user_invite_all_named_before_any_write() -> None:
    plan = diff(desired(guest(displayName="Alice")), live(), config())
    assert missing_permissions(plan, frozenset({"User.Read.All"})) == [
        "User.Invite.All (to invite guests, e.g. c0001)"
    ]
    assert missing_permissions(plan, frozenset({"User.Invite.All"})) == []
    plan = diff(desired(guest(displayName="Alice", jobTitle="Auditor")), live(), config())
    assert missing_permissions(plan, frozenset({"User.Invite.All"})) == [
        "User.ReadWrite.All (to update users, e.g. c0001)"
    ]


def test_an_undeclared_guest_follows_removal_users() -> None:
    cfg = config(scope={"users": {"authoritative": True}}, removal={"users": "delete"})
    (change,) = diff(desired(), live(live_guest()), cfg).changes
    assert (change.action, change.subject.key) == ("delete", ALICE_UPN.lower())


def test_guests_invited_then_planned_again_give_an_empty_plan() -> None:
    want = desired(guest(displayName="Alice", jobTitle="Auditor"), dgroup("grp-partners", members=[ALICE]))
    have = live(lgroup("g1", "grp-partners"))
    plan = diff(want, have, config())
    assert [c.action for c in plan.changes] == ["create", "add_member"]
    assert plan.changes[1].depends_on == ("c0001",)
    assert diff(want, simulate(plan, have), config()).changes == []


# ---- restore ------------------------------------------------------------------------------------


def test_a_deleted_declared_user_is_restored_with_its_id_then_updated() -> None:
    bob = luser("u1", "bob@contoso.example", jobTitle="Engineer")
    want = desired(
        duser("bob@contoso.example", jobTitle="Staff Engineer"),
        dgroup("grp-eng", members=["bob@contoso.example"]),
    )
    have = deleted(live(lgroup("g1", "grp-eng")), bob)
    plan = diff(want, have, config())
    restore, update, add = plan.changes
    assert isinstance(restore, Restore)
    assert change_to_dict(restore) == {
        "id": "c0001",
        "action": "restore",
        "kind": "user",
        "key": "bob@contoso.example",
        "object_id": "u1",
        "deletedDateTime": "2026-11-20T10:00:00Z",
    }
    assert describe(restore).startswith("restore user bob@contoso.example from deletedItems (keeps its id u1")
    assert (update.action, update.subject.id, update.depends_on) == ("update", "u1", ("c0001",))
    assert (add.action, add.depends_on) == ("add_member", ("c0001",))
    round_trip(plan)
    (unit, *_) = group_units(plan.changes)
    assert [(r.method, r.url) for r in build_requests(unit, Ids(), GRAPH)] == [
        ("POST", "/directory/deletedItems/u1/restore")
    ]
    assert diff(want, simulate(plan, have), config()).changes == []


def test_a_pinned_id_in_deleted_items_is_restored_under_its_new_key() -> None:
    old = luser("u1", "robert@contoso.example")
    plan = diff(desired(duser("bob@contoso.example", id="u1")), deleted(live(), old), config())
    assert [(c.action, c.subject.id) for c in plan.changes] == [("restore", "u1"), ("update", "u1")]


def test_a_live_object_wins_over_a_deleted_one_of_the_same_key() -> None:
    have = deleted(live(luser("u2", "bob@contoso.example")), luser("u1", "bob@contoso.example"))
    assert diff(desired(duser("bob@contoso.example")), have, config()).changes == []


def test_a_deleted_microsoft_365_group_is_restored() -> None:
    team = lgroup("g1", "grp-team", groupTypes=["Unified"], displayName="Team")
    plan = diff(desired(dgroup("grp-team", displayName="Team")), deleted(live(), team), config())
    assert [(c.action, c.kind, c.subject.id) for c in plan.changes] == [("restore", "group", "g1")]


def test_a_pinned_security_group_gone_is_created_saying_graph_cannot_restore_it() -> None:
    want = desired(dgroup("grp-eng", id="g-old", displayName="Engineering"))
    (change,) = diff(want, live(), config()).changes
    assert change_to_dict(change)["replaces_id"] == "g-old"
    assert "Graph deletes security groups permanently and cannot restore them" in describe(change)
    assert change_from_dict(change_to_dict(change)) == change


# ---- delete and purge ---------------------------------------------------------------------------


def _leavers(removal: str, count: int = 1, **safety: object) -> Plan:
    users = [luser(f"u{n}", f"user{n}@contoso.example") for n in range(count)]
    sections = {"scope": {"users": {"authoritative": True}}, "removal": {"users": removal}}
    cfg = config(**sections, **({"safety": safety} if safety else {}))
    return diff(desired(), live(*users), cfg)


def test_a_soft_delete_says_it_stays_restorable_for_30_days() -> None:
    (change,) = _leavers("delete").changes
    assert change_to_dict(change)["restorable_days"] == 30
    assert describe(change) == "delete user user0@contoso.example (restorable from deletedItems for 30 days)"


def test_a_purge_deletes_then_purges_from_deleted_items() -> None:
    plan = _leavers("purge")
    (change,) = plan.changes
    assert isinstance(change, Remove) and change_to_dict(change)["purge"] is True
    assert "restorable_days" not in change_to_dict(change)
    round_trip(plan)
    (unit,) = group_units(plan.changes)
    assert [(r.method, r.url) for r in build_requests(unit, Ids(), GRAPH)] == [
        ("DELETE", "/users/u0"),
        ("DELETE", "/directory/deletedItems/u0"),
    ]


def test_purges_over_their_own_fraction_make_the_plan_unsafe() -> None:
    users = [luser(f"u{n}", f"user{n}@contoso.example") for n in range(20)]
    want = desired(*(duser(f"user{n}@contoso.example") for n in range(19)))

    def unsafe(removal: str, max_purge_fraction: float) -> list[UnsafeItem]:
        cfg = config(
            scope={"users": {"authoritative": True}},
            removal={"users": removal},
            safety={"min_existing": 10, "max_purge_fraction": max_purge_fraction},
        )
        return diff(want, live(*users), cfg).unsafe

    (item,) = unsafe("purge", 0.01)
    assert (item.reason, item.change_ids) == ("purge_fraction", ["c0001"])
    assert item.message.startswith("1 of 20 users (5%) would be purged, over safety.max_purge_fraction 1%")
    assert unsafe("purge", 0.05) == []
    # The same removal as a soft delete is within max_delete_fraction (30 %): no margin of its own.
    assert unsafe("delete", 0.01) == []


def test_a_deleted_security_group_is_said_to_be_gone_for_good() -> None:
    cfg = config(scope={"groups": {"authoritative": True}})
    plan = diff(
        desired(), live(lgroup("g1", "grp-eng"), lgroup("g2", "grp-team", groupTypes=["Unified"])), cfg
    )
    assert [describe(c) for c in plan.changes] == [
        "delete group grp-eng (permanently: Graph cannot restore it)",
        "delete group grp-team (restorable from deletedItems for 30 days)",
    ]
