"""diff: the order of SPEC §4, ids in final order, and simulate (the in-memory apply)."""

from __future__ import annotations

from builders import E3, E5, config, desired, dgroup, duser, flat, lgroup, lic, live, luser
from simulate import simulate

from reconciler.desired.model import DesiredState
from reconciler.live import LiveState
from reconciler.plan.diff import diff
from reconciler.plan.model import ORDER

SCOPE = {
    "users": {"authoritative": True, "match": {"upn_suffix": "@contoso.example"}},
    "groups": {"authoritative": True, "match": {"mail_nickname_prefix": "grp-"}},
}


def everything() -> tuple[DesiredState, LiveState]:
    state = live(
        luser(
            "u1", "bob@contoso.example", jobTitle="A", usageLocation="GB", manager_id="u2", licenses={E3: ()}
        ),
        luser("u2", "grace@contoso.example"),
        luser("u3", "leaver@contoso.example", licenses={E5: ()}),
        luser("u4", "zed@contoso.example", usageLocation="GB", licenses={E3: ()}),
        lgroup("g1", "grp-eng", members=("u1", "u3"), owners=("u2",), displayName="Eng"),
        lgroup("g2", "grp-stale"),
    )
    want = desired(
        duser("ada@contoso.example", displayName="Ada", usageLocation="GB", licenses=[lic("SPE_E5")]),
        duser("bob@contoso.example", jobTitle="B", manager=None, licenses=[]),
        duser("grace@contoso.example", manager="ada@contoso.example"),
        duser("zed@contoso.example", licenses=[lic("ENTERPRISEPACK", "YAMMER_ENTERPRISE")]),
        dgroup(
            "grp-eng",
            displayName="Engineering",
            members=["ada@contoso.example"],
            owners=["ada@contoso.example"],
        ),
        dgroup("grp-new", displayName="New", members=["group:grp-eng"]),
    )
    return want, state


def test_every_kind_of_change_in_spec_order_with_ids_in_final_order() -> None:
    want, state = everything()
    plan = diff(want, state, config(scope=SCOPE))
    got = [
        (c.id, c.action, c.kind, c.key or c.user or c.group, c.member or c.owner or c.manager or c.sku)
        for c in map(flat, plan.changes)
    ]
    assert got == [
        ("c0001", "create", "user", "ada@contoso.example", None),
        ("c0002", "create", "group", "grp-new", None),
        ("c0003", "update", "user", "bob@contoso.example", None),
        ("c0004", "update", "group", "grp-eng", None),
        ("c0005", "set_manager", "manager", "grace@contoso.example", "ada@contoso.example"),
        ("c0006", "clear_manager", "manager", "bob@contoso.example", "grace@contoso.example"),
        ("c0007", "add_member", "membership", "grp-eng", "ada@contoso.example"),
        ("c0008", "add_member", "membership", "grp-new", "group:grp-eng"),
        ("c0009", "add_owner", "owner", "grp-eng", "ada@contoso.example"),
        ("c0010", "assign_license", "license", "ada@contoso.example", "SPE_E5"),
        ("c0011", "update_license", "license", "zed@contoso.example", "ENTERPRISEPACK"),
        ("c0012", "remove_member", "membership", "grp-eng", "bob@contoso.example"),
        ("c0013", "remove_member", "membership", "grp-eng", "leaver@contoso.example"),
        ("c0014", "remove_owner", "owner", "grp-eng", "grace@contoso.example"),
        ("c0015", "remove_license", "license", "bob@contoso.example", "ENTERPRISEPACK"),
        ("c0016", "remove_license", "license", "leaver@contoso.example", "SPE_E5"),
        ("c0017", "disable", "user", "leaver@contoso.example", None),
        ("c0018", "delete", "group", "grp-stale", None),
    ]
    ranks = [ORDER.index((c.action, c.kind)) for c in plan.changes]
    assert ranks == sorted(ranks)
    assert {c.id: list(c.depends_on) for c in plan.changes if c.depends_on} == {
        "c0005": ["c0001"],
        "c0007": ["c0001"],
        "c0008": ["c0002"],
        "c0009": ["c0001"],
        "c0010": ["c0001"],
    }


def test_simulate_applies_every_change_and_leaves_its_input_alone() -> None:
    want, state = everything()
    cfg = config(scope=SCOPE)
    plan = diff(want, state, cfg)
    after = simulate(plan, state)
    assert "g2" in state.groups and "g2" not in after.groups
    ada = after.users["sim-c0001"]
    assert (ada.upn, ada.attrs["displayName"], set(ada.direct_licenses)) == (
        "ada@contoso.example",
        "Ada",
        {E5},
    )
    eng = after.groups["g1"]
    assert (eng.member_user_ids, eng.owner_ids) == ({"sim-c0001"}, {"sim-c0001"})
    assert after.groups["sim-c0002"].member_group_ids == {"g1"}
    assert after.users["u3"].attrs["accountEnabled"] is False and after.users["u3"].direct_licenses == {}
    assert (after.users["u1"].manager_id, after.users["u2"].manager_id) == (None, "sim-c0001")
    assert diff(want, after, cfg).changes == []


def test_simulate_delete_user_and_rename() -> None:
    state = live(
        luser("u1", "old@contoso.example", manager_id="u2"),
        luser("u2", "boss@contoso.example"),
        lgroup("g1", "grp-a", members=("u2",), owners=("u2",)),
    )
    want = desired(duser("new@contoso.example", renamed_from=("old@contoso.example",)))
    after = simulate(diff(want, state, config(scope=SCOPE, removal={"users": "delete"})), state)
    assert set(after.users) == {"u1"} and after.users["u1"].upn == "new@contoso.example"
    assert after.users["u1"].manager_id is None
    assert after.groups == {}
