"""`--target KIND:KEY`: the plan narrowed to the changes touching an object, and what they depend on."""

from __future__ import annotations

import pytest
from builders import desired, dgroup, duser, lgroup, live, luser

from reconciler.errors import EntraformError
from reconciler.plan.model import (
    Change,
    Create,
    ManagerChange,
    MembershipChange,
    ObjectRef,
    Plan,
    UnsafeItem,
    Update,
    WrittenDigests,
)
from reconciler.plan.targets import Target, check_targets, narrow

ADA, BOB, GRACE = (ObjectRef("user", f"{n}@contoso.example") for n in ("ada", "bob", "grace"))
NEW, ENG = ObjectRef("group", "grp-new"), ObjectRef("group", "grp-eng", "g1")
CHANGES: list[Change] = [
    Create(ADA, {}, id="c0001"),
    Create(NEW, {}, id="c0002"),
    Update(BOB, {}, id="c0003"),
    ManagerChange("set_manager", ADA, GRACE, id="c0004"),
    MembershipChange("add_member", NEW, ADA, id="c0005", depends_on=("c0001", "c0002")),
    MembershipChange("add_member", ENG, NEW, id="c0006", depends_on=("c0002",)),
    MembershipChange("remove_member", ENG, BOB, id="c0007"),
]
PLAN = Plan(
    tenant="t",
    digests=WrittenDigests("d", "l"),
    changes=CHANGES,
    unsafe=[UnsafeItem("delete_fraction", "too many removals", change_ids=["c0007"])],
)


def _ids(plan: Plan) -> list[str]:
    return [c.id for c in plan.changes]


def test_no_target_keeps_the_plan() -> None:
    assert narrow(PLAN, []) is PLAN


def test_user_target_keeps_its_changes_and_their_dependencies() -> None:
    assert _ids(narrow(PLAN, [Target.parse("user:Ada@Contoso.example")])) == [
        "c0001",
        "c0002",
        "c0004",
        "c0005",
    ]


def test_a_manager_is_touched_by_the_manager_change() -> None:
    assert _ids(narrow(PLAN, [Target.parse("user:grace@contoso.example")])) == ["c0004"]


def test_group_target_keeps_its_edges_and_where_it_is_nested() -> None:
    assert _ids(narrow(PLAN, [Target.parse("group:grp-new")])) == ["c0001", "c0002", "c0005", "c0006"]


def test_unsafe_items_follow_their_changes() -> None:
    assert narrow(PLAN, [Target.parse("user:bob@contoso.example")]).unsafe == PLAN.unsafe
    assert narrow(PLAN, [Target.parse("user:ada@contoso.example")]).unsafe == []


@pytest.mark.parametrize("text", ["ada@contoso.example", "device:x", "user:", "user: "])
def test_bad_targets(text: str) -> None:
    with pytest.raises(EntraformError, match="write KIND:KEY"):
        Target.parse(text)


def test_a_target_must_name_a_declared_or_live_object() -> None:
    want = desired(duser("ada@contoso.example", renamed_from=("ada.l@contoso.example",)), dgroup("grp-new"))
    state = live(luser("u1", "bob@contoso.example"), lgroup("g1", "grp-old"))
    for text in ("user:ADA@contoso.example", "user:ada.l@contoso.example", "user:bob@contoso.example"):
        check_targets([Target.parse(text)], want, state)
    check_targets([Target.parse("group:grp-new"), Target.parse("group:grp-old")], want, state)
    with pytest.raises(EntraformError) as failed:
        check_targets([Target.parse("user:bobb@contoso.example"), Target.parse("group:grp-new")], want, state)
    assert failed.value.message == (
        "--target user:bobb@contoso.example: matches no user in the desired state or the tenant; check the "
        "spelling (a UPN or mailNickname; case does not matter)"
    )
    with pytest.raises(
        EntraformError, match=r"--target group:bob@contoso\.example, user:grp-new: match no object"
    ):
        check_targets([Target.parse("group:bob@contoso.example"), Target.parse("user:grp-new")], want, state)
