"""Seeds (empty, demo, synthetic) and SQLite persistence of the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.emulator import member_types, roledefs, skus
from reconciler.emulator.seeds import SeedError, apply_seed, build_seed
from reconciler.emulator.store import Store


def test_empty_seed_is_a_new_tenant() -> None:
    seed = build_seed("empty")
    assert seed.users == [] and seed.groups == []
    domains = {d["name"]: d for d in seed.organization["verifiedDomains"]}
    assert set(domains) == {"contoso.example", "fabrikam.example", "contoso.onmicrosoft.com"}
    assert domains["contoso.example"]["isDefault"] and domains["contoso.onmicrosoft.com"]["isInitial"]
    parts = {s["skuPartNumber"]: s for s in seed.skus.values()}
    assert {p: s["prepaidUnits"]["enabled"] for p, s in parts.items()} == {
        "ENTERPRISEPACK": 25,
        "SPE_E5": 25,
        "EMSPREMIUM": 25,
    }
    e3_plans = {p["servicePlanName"] for p in parts["ENTERPRISEPACK"]["servicePlans"]}
    assert {"EXCHANGE_S_ENTERPRISE", "SHAREPOINTENTERPRISE", "TEAMS1", "OFFICESUBSCRIPTION"} <= e3_plans
    assert {"YAMMER_ENTERPRISE", "SWAY", "FORMS_PLAN_E3"} <= e3_plans
    ems_plans = {p["servicePlanName"] for p in parts["EMSPREMIUM"]["servicePlans"]}
    assert {"AAD_PREMIUM", "AAD_PREMIUM_P2", "INTUNE_A", "RMS_S_PREMIUM", "ATA"} <= ems_plans


def test_demo_seats_are_finite_and_consistent() -> None:
    store = Store.open(":memory:")
    apply_seed(store, "demo")
    for sku_id, sku in store.skus.items():
        assert 0 < store.licensing.consumed_units(sku_id) <= sku["prepaidUnits"]["enabled"]
    store.close()


def test_synthetic_seed_is_deterministic_and_long_tailed() -> None:
    first, second = build_seed("synthetic:2000:200:20000"), build_seed("synthetic:2000:200:20000")
    assert [u["id"] for u in first.users] == [u["id"] for u in second.users]
    assert first.members == second.members
    sizes: dict[str, int] = {}
    user_ids = {u["id"] for u in first.users}
    for group_id, member in first.members:
        if member in user_ids:
            sizes[group_id] = sizes.get(group_id, 0) + 1
    assert sum(sizes.values()) == 20000
    ranked = sorted(sizes.values(), reverse=True)
    assert ranked[0] > 10 * ranked[len(ranked) // 2]
    nested = [m for _, m in first.members if m not in user_ids]
    assert nested and len(first.managers) == 1999
    assert len({u["userPrincipalName"] for u in first.users}) == 2000


def test_unknown_seed_name() -> None:
    with pytest.raises(SeedError, match="synthetic:USERS:GROUPS:MEMBERSHIPS"):
        build_seed("synthetic:10")


def test_restart_keeps_objects_edges_deleted_items_and_meta(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    store = Store.open(db)
    apply_seed(store, "demo")
    users = {k: dict(v) for k, v in store.users.items()}
    some_user, some_group = next(iter(store.users)), next(iter(store.groups))
    store.add_edge("members", some_group, some_user)
    store.set_direct_license(some_user, skus.EMSPREMIUM, [])
    store.delete(store.upn_index["lynne@contoso.example"], soft=True, deleted_at="2026-01-01T00:00:00Z")
    store.set_meta("emulator.counter", "42")
    snapshot = (
        {k: dict(v) for k, v in store.members.items()},
        dict(store.manager),
        {k: dict(v) for k, v in store.direct_licenses.items()},
        store.version,
        dict(store.version_of),
        dict(store.tombstones),
        list(store.member_log),
        {k: store.licensing.consumed_units(k) for k in store.skus},
    )
    store.close()
    again = Store.open(db)
    assert again.users.keys() == users.keys() - {
        next(k for k, v in users.items() if v["mailNickname"] == "lynne")
    }
    assert (
        {k: dict(v) for k, v in again.members.items()},
        dict(again.manager),
        {k: dict(v) for k, v in again.direct_licenses.items()},
        again.version,
        dict(again.version_of),
        dict(again.tombstones),
        list(again.member_log),
        {k: again.licensing.consumed_units(k) for k in again.skus},
    ) == snapshot
    assert again.deleted.keys() == {
        users_id for users_id in users if users[users_id]["mailNickname"] == "lynne"
    }
    assert again.get_meta("emulator.counter") == "42" and again.get_meta("emulator.seed") == "demo"
    again.close()


def test_load_seed_replaces_everything_but_keeps_meta() -> None:
    store = Store.open(":memory:")
    apply_seed(store, "demo")
    store.set_meta("emulator.signing_key", "k")
    apply_seed(store, "empty")
    assert store.users == {} and store.groups == {} and store.member_log == []
    assert store.get_meta("emulator.signing_key") == "k" and store.get_meta("emulator.seed") == "empty"
    store.close()


SEEDS = [
    "empty",
    "demo",
    "synthetic:2000:200:20000",
    "synthetic:50:40:400",
    "synthetic:10:1:5",
    "synthetic:1:3:0",
    "synthetic:1000:100:5000",
]


@pytest.mark.parametrize("name", SEEDS)
def test_every_seeded_edge_is_one_graph_would_create(name: str) -> None:
    """No seed holds a membership that the routes would refuse (one rule for both: member_types), an owner
    that is not a user (group-post-owners), or a cycle of nested groups."""
    seed = build_seed(name)
    users = {u["id"]: u for u in seed.users}
    groups = {g["id"]: g for g in seed.groups}
    nested: dict[str, set[str]] = {}
    for group_id, member_id in seed.members:
        kind = "user" if member_id in users else "group"
        member = users.get(member_id) or groups[member_id]
        assert member_types.membership_refusal(groups[group_id], kind, member) is None, (group_id, member_id)
        if kind == "group":
            nested.setdefault(group_id, set()).add(member_id)
    assert len(set(seed.members)) == len(seed.members)
    assert all(owner in users and group in groups for group, owner in seed.owners)
    assert not _cycle(nested)


@pytest.mark.parametrize("name", SEEDS)
def test_every_seeded_role_assignment_is_one_graph_would_create(name: str) -> None:
    """No seed holds a role assignment the roleAssignments route would refuse (rbacapplication-post-
    roleassignments): a built-in role, a user or a role-assignable group, a directory scope, no duplicate."""
    seed = build_seed(name)
    users = {u["id"] for u in seed.users}
    assignable = {g["id"] for g in seed.groups if g.get("isAssignableToRole")}
    for role_id, principal, scope in seed.role_assignments:
        assert roledefs.definition(role_id) is not None, role_id
        assert principal in users or principal in assignable, principal
        assert scope == "/" or scope.startswith("/administrativeUnits/")
    assert len(set(seed.role_assignments)) == len(seed.role_assignments)


def test_role_assignments_and_audit_records_survive_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    store = Store.open(db)
    apply_seed(store, "demo")
    assert len(store.roles.listing()) == 4
    first = store.roles.listing()[0]
    store.roles.remove(first["id"])
    store.audit.append(1.0, {"id": "Directory_x_00000001", "activityDisplayName": "Add user"})
    kept = store.roles.listing()
    store.close()
    again = Store.open(db)
    assert again.roles.listing() == kept
    assert again.audit.visible(2.0, 0.0) == [
        {"id": "Directory_x_00000001", "activityDisplayName": "Add user"}
    ]
    apply_seed(again, "demo")
    assert len(again.roles.listing()) == 4 and again.audit.visible(2.0, 0.0) == []
    again.close()


def _cycle(children: dict[str, set[str]]) -> bool:
    done: set[str] = set()
    path: set[str] = set()

    def visit(node: str) -> bool:
        if node in path:
            return True
        if node in done:
            return False
        path.add(node)
        found = any(visit(child) for child in children.get(node, ()))
        path.discard(node)
        done.add(node)
        return found

    return any(visit(node) for node in list(children))


def test_synthetic_seed_nests_groups_at_every_size_that_has_room() -> None:
    for name, nested in (("synthetic:50:40:400", True), ("synthetic:10:1:5", False)):
        seed = build_seed(name)
        users = {u["id"] for u in seed.users}
        assert any(m not in users for _, m in seed.members) is nested, name


def test_synthetic_sign_ins_most_recent_some_dormant_some_never() -> None:
    seed = build_seed("synthetic:2000:200:20000")
    ages = [seed.sign_ins.get(u["id"]) for u in seed.users]
    never = sum(1 for a in ages if a is None)
    newest = [min(x for x in (a.interactive_s, a.non_interactive_s) if x is not None) for a in ages if a]
    dormant = sum(1 for s in newest if s >= 90 * 86_400)
    assert 0.05 < never / len(ages) < 0.12 and 0.09 < dormant / len(ages) < 0.16
    assert all(s < 60 * 86_400 for s in newest if s < 90 * 86_400)
    assert seed.sign_ins == build_seed("synthetic:2000:200:20000").sign_ins
