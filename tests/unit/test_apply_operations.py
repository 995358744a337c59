"""Changes → units → Graph requests: grouping, inline binds, license merge, id resolution."""

from __future__ import annotations

import string

import pytest
from builders import change

from reconciler.apply.operations import (
    Ids,
    Unit,
    UnresolvedId,
    build_requests,
    generate_password,
    group_units,
    license_body,
    lookup_request,
    split_unit,
)
from reconciler.plan.model import Change

GRAPH = "https://graph.microsoft.com/v1.0"
REF = GRAPH + "/directoryObjects/"


def create_user(cid: str, upn: str) -> Change:
    return change(id=cid, action="create", kind="user", key=upn, after={"displayName": upn.upper()})


def add_member(cid: str, group: str, member: str, deps: list[str], gid: str | None = "g1") -> Change:
    return change(
        id=cid,
        action="add_member",
        kind="membership",
        group=group,
        member=member,
        object_id=gid,
        depends_on=deps,
    )


def test_member_adds_to_one_group_share_patches_of_twenty() -> None:
    creates = [create_user(f"u{i}", f"user{i}@c.example") for i in range(45)]
    adds = [add_member(f"m{i}", "grp-a", f"user{i}@c.example", [f"u{i}"]) for i in range(45)]
    units = group_units(creates + adds)
    binds = [u for u in units if u.op == "bind_members"]
    assert [len(u.changes) for u in binds] == [20, 20, 5]
    ids = Ids(users={f"user{i}@c.example": f"id{i}" for i in range(45)})
    (request,) = build_requests(binds[0], ids, GRAPH)
    assert (request.method, request.url) == ("PATCH", "/groups/g1")
    assert request.body == {"members@odata.bind": [REF + f"id{i}" for i in range(20)]}


def test_member_chunks_follow_the_order_their_users_are_created() -> None:
    creates = [create_user(f"u{i}", f"user{i}@c.example") for i in range(40)]
    # Plan order is the reverse of creation order: each chunk must hold users created close together.
    adds = [add_member(f"m{i}", "grp-a", f"user{39 - i}@c.example", [f"u{39 - i}"]) for i in range(40)]
    binds = [u for u in group_units(creates + adds) if u.op == "bind_members"]
    chunks = {frozenset(c.other.key for c in unit.changes if c.other) for unit in binds}
    assert chunks == {frozenset(f"user{i}@c.example" for i in range(k, k + 20)) for k in (0, 20)}


def test_a_single_member_add_is_a_ref_post() -> None:
    (unit,) = group_units([add_member("m1", "grp-a", "group:grp-b", [])])
    assert unit.op == "add_ref"
    (request,) = build_requests(unit, Ids(groups={"grp-b": "g2"}), GRAPH)
    assert (request.method, request.url, request.body) == (
        "POST",
        "/groups/g1/members/$ref",
        {"@odata.id": REF + "g2"},
    )


def test_a_new_group_takes_its_first_twenty_user_relationships_inline() -> None:
    create = change(id="c1", action="create", kind="group", key="grp-new", after={"displayName": "New"})
    owner = change(
        id="c2", action="add_owner", kind="owner", group="grp-new", owner="o@c.example", depends_on=["c1"]
    )
    members = [add_member(f"m{i}", "grp-new", f"user{i}@c.example", ["c1"], gid=None) for i in range(21)]
    nested = add_member("n1", "grp-new", "group:grp-x", ["c1"], gid=None)
    units = group_units([create, owner, *members, nested])
    assert [u.op for u in units] == ["create_group", "bind_members"]
    assert units[1].changes == [members[19], members[20], nested]
    assert units[0].changes[:2] == [create, owner] and len(units[0].changes) == 21
    ids = Ids(users={"o@c.example": "o1", **{f"user{i}@c.example": f"id{i}" for i in range(21)}})
    (request,) = build_requests(units[0], ids, GRAPH)
    assert request.body is not None
    assert request.body["owners@odata.bind"] == [REF + "o1"]
    assert len(request.body["members@odata.bind"]) == 19
    assert request.body["mailEnabled"] is False and request.body["securityEnabled"] is True


def test_all_license_changes_of_a_user_are_one_assign_license() -> None:
    changes = [
        change(
            id="c1",
            action="assign_license",
            kind="license",
            user="a@c.example",
            object_id="u1",
            sku="E5",
            sku_id="s-e5",
            disabled_plan_ids=["p1"],
        ),
        change(
            id="c2",
            action="update_license",
            kind="license",
            user="a@c.example",
            object_id="u1",
            sku="E3",
            sku_id="s-e3",
        ),
        change(
            id="c3",
            action="remove_license",
            kind="license",
            user="a@c.example",
            object_id="u1",
            sku="EMS",
            sku_id="s-ems",
        ),
        change(
            id="c4",
            action="assign_license",
            kind="license",
            group="grp-a",
            object_id="g1",
            sku="E5",
            sku_id="s-e5",
        ),
    ]
    units = group_units(changes)
    assert [len(u.changes) for u in units] == [3, 1]
    (user_request,) = build_requests(units[0], Ids(), GRAPH)
    assert user_request.url == "/users/u1/assignLicense"
    assert user_request.body == {
        "addLicenses": [{"skuId": "s-e5", "disabledPlans": ["p1"]}, {"skuId": "s-e3", "disabledPlans": []}],
        "removeLicenses": ["s-ems"],
    }
    assert build_requests(units[1], Ids(), GRAPH)[0].url == "/groups/g1/assignLicense"
    assert license_body([changes[2]]) == {"addLicenses": [], "removeLicenses": ["s-ems"]}


def test_create_user_sends_a_random_password_that_must_be_changed() -> None:
    (unit,) = group_units([create_user("c1", "ada@c.example")])
    unit.password = "x" * 20
    (request,) = build_requests(unit, Ids(), GRAPH)
    assert request.body == {
        "displayName": "ADA@C.EXAMPLE",
        "userPrincipalName": "ada@c.example",
        "accountEnabled": True,
        "mailNickname": "ada",
        "passwordProfile": {"password": "x" * 20, "forceChangePasswordNextSignIn": True},
    }


def test_generated_passwords_are_long_random_and_complex() -> None:
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        assert len(password) >= 16
        assert any(c in string.ascii_uppercase for c in password)
        assert any(c in string.ascii_lowercase for c in password)
        assert any(c in string.digits for c in password)


def test_disable_revokes_sessions_then_patches() -> None:
    disable = change(
        id="c1", action="disable", kind="user", key="bob@c.example", object_id="u9", revoke_sessions=True
    )
    (unit,) = group_units([disable])
    requests = build_requests(unit, Ids(), GRAPH)
    assert [(r.method, r.url, r.body) for r in requests] == [
        ("POST", "/users/u9/revokeSignInSessions", None),
        ("PATCH", "/users/u9", {"accountEnabled": False}),
    ]


def test_update_manager_and_removals() -> None:
    update = change(
        id="c1",
        action="update",
        kind="group",
        key="grp-a",
        object_id="g1",
        diff={"description": {"before": "x", "after": None}},
    )
    manager = change(
        id="c2",
        action="set_manager",
        kind="manager",
        user="a@c.example",
        manager="b@c.example",
        object_id="u1",
        target_id="u2",
    )
    clear = change(
        id="c3",
        action="clear_manager",
        kind="manager",
        user="a@c.example",
        manager="m@c.example",
        object_id="u1",
    )
    remove = change(
        id="c4",
        action="remove_owner",
        kind="owner",
        group="grp-a",
        owner="b@c.example",
        object_id="g1",
        target_id="u2",
    )
    delete = change(id="c5", action="delete", kind="group", key="grp-z", object_id="g9")
    got = [build_requests(u, Ids(), GRAPH)[0] for u in group_units([update, manager, clear, remove, delete])]
    assert [(r.method, r.url, r.body) for r in got] == [
        ("PATCH", "/groups/g1", {"description": None}),
        ("PUT", "/users/u1/manager/$ref", {"@odata.id": REF + "u2"}),
        ("DELETE", "/users/u1/manager/$ref", None),
        ("DELETE", "/groups/g1/owners/u2/$ref", None),
        ("DELETE", "/groups/g9", None),
    ]


def test_an_object_created_earlier_is_found_by_key_and_a_missing_one_is_an_error() -> None:
    (unit,) = group_units([add_member("m1", "grp-new", "ada@c.example", ["c1"], gid=None)])
    with pytest.raises(UnresolvedId):
        build_requests(unit, Ids(users={"ada@c.example": "u1"}), GRAPH)
    (request,) = build_requests(unit, Ids(users={"ada@c.example": "u1"}, groups={"grp-new": "g7"}), GRAPH)
    assert request.url == "/groups/g7/members/$ref"


def test_split_turns_a_failed_group_write_into_single_writes() -> None:
    adds = [add_member(f"m{i}", "grp-a", f"user{i}@c.example", []) for i in range(3)]
    parts = split_unit(Unit("u1", "bind_members", adds), "u1.1")
    assert [(p.op, p.changes) for p in parts] == [("add_ref", [a]) for a in adds]
    create = change(id="c1", action="create", kind="group", key="grp-new")
    parts = split_unit(Unit("u2", "create_group", [create, adds[0]]), "u2.1")
    assert [(p.op, p.changes) for p in parts] == [("create_group", [create]), ("add_ref", [adds[0]])]


def test_lookup_reads_the_conflicting_object_by_its_key() -> None:
    user = Unit("u1", "create_user", [create_user("c1", "o'neil@c.example")])
    assert lookup_request(user).url == "/users/o%27neil@c.example?$select=id,displayName"
    group = Unit(
        "u2", "create_group", [change(id="c2", action="create", kind="group", key="grp-a", after={})]
    )
    assert lookup_request(group).url == "/groups?$filter=mailNickname%20eq%20%27grp-a%27&$select=id"
