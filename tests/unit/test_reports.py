"""The pure parts of `show` and `report`: reading Graph's signInActivity, and the edit that frees a seat."""

from __future__ import annotations

from datetime import UTC, datetime

from builders import E3, E5, desired, dgroup, duser, lgroup, lic, live, luser

from reconciler.desired.model import MemberRef, Members
from reconciler.errors import Location
from reconciler.reports.licenses import license_report
from reconciler.reports.signins import SignIns, last_sign_in

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NEVER = "0001-01-01T00:00:00Z"


def test_the_last_successful_sign_in_is_the_last_sign_in() -> None:
    """resources/signinactivity: lastSuccessfulSignInDateTime is when the account was truly used."""
    activity = {
        "lastSignInDateTime": "2026-11-30T08:00:00Z",  # a failed attempt counts here
        "lastNonInteractiveSignInDateTime": "2026-11-01T08:00:00Z",
        "lastSuccessfulSignInDateTime": "2026-11-20T08:00:00Z",
    }
    assert last_sign_in({"signInActivity": activity}) == "2026-11-20T08:00:00Z"


def test_without_a_successful_time_the_newest_attempt_counts_and_graphs_zero_date_is_none() -> None:
    # Graph does not backfill lastSuccessfulSignInDateTime before December 2023; its zero date is "none".
    activity = {"lastSignInDateTime": "2023-06-17T16:41:33Z", "lastNonInteractiveSignInDateTime": NEVER}
    assert last_sign_in({"signInActivity": activity}) == "2023-06-17T16:41:33Z"
    both = {"lastSignInDateTime": "2023-06-17T16:41:33.1234567Z", "lastNonInteractiveSignInDateTime": NEVER}
    assert last_sign_in({"signInActivity": {**both, "lastSuccessfulSignInDateTime": NEVER}}) == (
        "2023-06-17T16:41:33.1234567Z"
    )
    never = {"lastSignInDateTime": NEVER, "lastNonInteractiveSignInDateTime": NEVER}
    assert last_sign_in({"signInActivity": never}) is None
    assert last_sign_in({"signInActivity": None}) is None


def test_inactive_counts_never_but_not_when_sign_ins_are_unreadable() -> None:
    sign_ins = SignIns({"a": "2026-08-01T00:00:00Z", "b": None, "c": "2026-11-30T00:00:00Z"})
    assert [sign_ins.inactive(u, NOW, 90) for u in ("a", "b", "c")] == [True, True, False]
    assert not SignIns({}, available=False).inactive("b", NOW, 90)


def test_a_seat_through_a_group_is_freed_by_the_membership_the_yaml_declares() -> None:
    member_at = Location("state/groups.yaml", 12, 9)
    want = desired(
        duser("ada@contoso.example", licenses=[lic("SPE_E5", line=7)]),
        dgroup("grp-lic", members=["ada@contoso.example"]),
    )
    group = want.groups["grp-lic"]
    assert group.members is not None
    group.members = Members.of([MemberRef("user", "ada@contoso.example", *member_at)])
    have = live(
        luser("u1", "ada@contoso.example", licenses={E5: ()}, inherited=(E3,)),
        lgroup("g1", "grp-lic", members=("u1",), licenses={E3: ()}),
    )
    report = license_report(have, SignIns({"u1": None}), want, NOW, 90)
    by_sku = {r.sku: r for r in report.reclaimable}
    assert by_sku["SPE_E5"].edit == "remove `sku: SPE_E5` from the licenses: of ada@contoso.example"
    assert str(by_sku["SPE_E5"].location) == "state/people.yaml:7:1"
    assert by_sku["ENTERPRISEPACK"].edit == "remove ada@contoso.example from the members: of grp-lic"
    assert by_sku["ENTERPRISEPACK"].location == member_at
    assert {r.reason for r in report.reclaimable} == {"never signed in"}


def test_a_seat_through_an_unmanaged_group_names_the_group() -> None:
    have = live(
        luser("u1", "ada@contoso.example", accountEnabled=False, inherited=(E3,)),
        lgroup("g1", "grp-lic", members=("u1",), licenses={E3: ()}),
    )
    (seat,) = license_report(have, SignIns({}), desired(dgroup("grp-lic")), NOW, 90).reclaimable
    assert (seat.reason, seat.location) == ("disabled account", None)
    assert seat.edit == "take ada@contoso.example out of grp-lic (its members are not managed in YAML)"
