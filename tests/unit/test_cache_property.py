"""The delta cache can never make a plan wrong (SPEC §4.1): after any out-of-band changes made through
Graph, a warm read (cached snapshot + delta rounds) equals a fresh read, and so do their plans.

Runs against the embedded tenant (`tenant: local`, in-process), with the emulator's delta pages
shrunk to a few objects so that every round spans several pages: a dropped page would show.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import live_read
from reconciler.config import Config
from reconciler.emulator.inprocess import open_local_tenant
from reconciler.emulator.routes import delta as emulator_delta
from reconciler.graph.local import LOCAL_DB
from reconciler.plan.digest import live_digest
from reconciler.planning import read_tenant, run_sync

SKU_E5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"

Op = tuple[str, int, int]
OPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "title",
                "clear_title",
                "disable",
                "add_member",
                "remove_member",
                "manager",
                "clear_manager",
                "create",
                "delete",
                "license",
                "unlicense",
                "describe",
                "clear_description",
                "owner",
                "delete_group",
            ]
        ),
        st.integers(0, 1000),
        st.integers(0, 1000),
    ),
    min_size=1,
    max_size=12,
)


async def _change(
    info: dict[str, Any], token: str, transport: httpx.AsyncBaseTransport, ops: list[Op]
) -> None:
    """Make `ops` through Graph as the writer app would; what Graph refuses is simply not made."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url=info["graph_url"] + "/", headers=headers
    ) as graph:
        users = (await graph.get("users?$select=id&$top=999")).json()["value"]
        groups = (await graph.get("groups?$select=id,groupTypes,membershipRule&$top=999")).json()["value"]
        static = [g for g in groups if not g.get("membershipRule")]
        ref = info["graph_url"] + "/directoryObjects/"
        for n, (op, a, b) in enumerate(ops):
            user, other = users[a % len(users)]["id"], users[b % len(users)]["id"]
            group = static[b % len(static)]["id"] if static else None
            if op == "title":
                await graph.patch(f"users/{user}", json={"jobTitle": f"Changed {a}"})
            elif op == "clear_title":  # a null: the cached user and group keep no key for it
                await graph.patch(f"users/{user}", json={"jobTitle": None})
            elif op == "disable":
                await graph.patch(f"users/{user}", json={"accountEnabled": False})
            elif op == "add_member" and group:
                await graph.post(f"groups/{group}/members/$ref", json={"@odata.id": ref + user})
            elif op == "remove_member" and group:
                await graph.delete(f"groups/{group}/members/{user}/$ref")
            elif op == "manager" and user != other:
                await graph.put(f"users/{user}/manager/$ref", json={"@odata.id": ref + other})
            elif op == "clear_manager":
                await graph.delete(f"users/{user}/manager/$ref")
            elif op == "create":
                body = {
                    "accountEnabled": True,
                    "displayName": f"New {n}",
                    "mailNickname": f"new{a}x{n}",
                    "userPrincipalName": f"new{a}x{n}@contoso.example",
                    "passwordProfile": {"password": "Xy!1" + "a" * 16, "forceChangePasswordNextSignIn": True},
                }
                await graph.post("users", json=body)
            elif op == "delete":
                await graph.delete(f"users/{user}")
            elif op in ("license", "unlicense"):
                await graph.patch(f"users/{user}", json={"usageLocation": "GB"})
                add = [{"skuId": SKU_E5, "disabledPlans": []}] if op == "license" else []
                await graph.post(
                    f"users/{user}/assignLicense",
                    json={"addLicenses": add, "removeLicenses": [] if add else [SKU_E5]},
                )
            elif op == "describe" and group:
                await graph.patch(f"groups/{group}", json={"description": f"Described {a}"})
            elif op == "clear_description" and group:
                await graph.patch(f"groups/{group}", json={"description": None})
            elif op == "owner" and group:
                await graph.post(f"groups/{group}/owners/$ref", json={"@odata.id": ref + user})
            elif op == "delete_group" and group:
                await graph.delete(f"groups/{group}")


@pytest.fixture(params=["one delta round", "filtered delta rounds"])
def tenant_dir(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setattr(emulator_delta, "PAGE_SIZE", 3)
    if request.param == "filtered delta rounds":
        # What a tenant of many groups gets: the cold read's groups in rounds filtered to a few ids, and
        # its deltaLink taken before them with $deltatoken=latest.
        monkeypatch.setattr(live_read, "SINGLE_ROUND_GROUPS", 0)
        monkeypatch.setattr(live_read, "DELTA_FILTER_IDS", 4)
    return tmp_path_factory.mktemp("cache")


def test_groups_read_in_filtered_delta_rounds_are_those_of_one_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Config(base_dir=str(tmp_path))
    whole = run_sync(read_tenant(config))
    monkeypatch.setattr(live_read, "SINGLE_ROUND_GROUPS", 0)
    monkeypatch.setattr(live_read, "DELTA_FILTER_IDS", 4)
    monkeypatch.setattr(emulator_delta, "PAGE_SIZE", 2)  # and each filtered round has several pages
    filtered = run_sync(read_tenant(config))
    assert len(filtered.groups) == 12
    assert live_digest(filtered) == live_digest(whole)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rounds=st.lists(OPS, min_size=1, max_size=3))
def test_a_warm_read_equals_a_fresh_one_after_any_out_of_band_changes(
    tenant_dir: Path, rounds: list[list[Op]]
) -> None:
    folder = tenant_dir / f"t{len(list(tenant_dir.iterdir()))}"
    folder.mkdir()
    config = Config(base_dir=str(folder))
    run_sync(read_tenant(config, cached=True))  # the cache starts here
    for ops in rounds:
        tenant = open_local_tenant(folder / LOCAL_DB)
        try:
            asyncio.run(_change(tenant.info, tenant.token("writer"), tenant.transport, ops))
        finally:
            tenant.close()
        warm = run_sync(read_tenant(config, cached=True))
        fresh = run_sync(read_tenant(config))
        assert live_digest(warm) == live_digest(fresh)


def test_a_warm_read_that_finds_nothing_new_leaves_the_cache_file_as_it_was(tmp_path: Path) -> None:
    """Rewriting a large snapshot costs more than the warm read itself; the links it holds still answer."""
    config = Config(base_dir=str(tmp_path))
    run_sync(read_tenant(config, cached=True))
    (snapshot,) = (tmp_path / ".entraform" / "cache").glob("snapshot-*")
    before = (snapshot.read_bytes(), snapshot.stat().st_mtime_ns)
    run_sync(read_tenant(config, cached=True))
    assert (snapshot.read_bytes(), snapshot.stat().st_mtime_ns) == before
    tenant = open_local_tenant(tmp_path / LOCAL_DB)
    try:
        asyncio.run(_change(tenant.info, tenant.token("writer"), tenant.transport, [("title", 1, 0)]))
    finally:
        tenant.close()
    warm = run_sync(read_tenant(config, cached=True))
    assert snapshot.read_bytes() != before[0]
    assert live_digest(warm) == live_digest(run_sync(read_tenant(config)))
