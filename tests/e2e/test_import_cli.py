"""`entraform import`: YAML written from the embedded demo tenant validates and plans as empty."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import main


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "entraform.yaml").write_text("tenant: local\nstate_dir: imported\n", encoding="utf-8")
    return tmp_path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_import_round_trips_to_an_empty_plan(workdir: Path) -> None:
    code, _, err = _run("import", "--out", "imported", "--with-ids")
    assert code == 0, err
    assert "Wrote" in err
    users = yaml.safe_load((workdir / "imported" / "users.yaml").read_text())["users"]
    upns = {u["userPrincipalName"] for u in users}
    assert "breakglass@contoso.example" in upns
    assert all("id" in u for u in users)
    # The demo's role holders, by UPN and group nickname (SPEC §3 `roles:`).
    roles = yaml.safe_load((workdir / "imported" / "roles.yaml").read_text())["roles"]
    assert {r["role"]: r["principals"] for r in roles} == {
        "Global Administrator": ["breakglass@contoso.example"],
        "Helpdesk Administrator": [{"group": "grp-helpdesk-admins"}],
        "User Administrator": ["lynne@contoso.example", {"group": "grp-entra-admins"}],
    }
    assert _run("validate")[0] == 0
    code, out, err = _run("plan", "--detailed-exitcode")
    assert (code, out) == (0, "No changes. The tenant matches the desired state.\n"), err


def test_import_roles_writes_only_the_roles_named_and_round_trips(workdir: Path) -> None:
    code, _, err = _run(
        "import",
        "--out",
        "imported",
        "--roles",
        "helpdesk administrator,62e90394-69f5-4237-9190-012177145e10",
    )
    assert code == 0, err
    assert "2 directory roles" in err
    roles = yaml.safe_load((workdir / "imported" / "roles.yaml").read_text())["roles"]
    assert [r["role"] for r in roles] == ["Global Administrator", "Helpdesk Administrator"]
    assert _run("validate")[0] == 0
    code, out, err = _run("plan", "--detailed-exitcode")
    assert (code, out) == (0, "No changes. The tenant matches the desired state.\n"), err


def test_import_of_an_unknown_role_names_it_and_writes_nothing(workdir: Path) -> None:
    code, _, err = _run("import", "--out", "imported", "--roles", "Global Admin")
    assert code == 1
    assert err == (
        "error: --roles: the tenant has no directory role 'Global Admin' "
        "(did you mean 'Global Administrator'?)\n"
    )
    assert not (workdir / "imported").exists()


def test_import_filters_with_graph_filter(workdir: Path) -> None:
    code, _, err = _run(
        "import",
        "--out",
        "imported",
        "--users",
        "department eq 'Finance'",
        "--groups",
        "startsWith(mailNickname,'grp-fin')",
    )
    assert code == 0, err
    users = yaml.safe_load((workdir / "imported" / "users.yaml").read_text())["users"]
    groups = yaml.safe_load((workdir / "imported" / "groups.yaml").read_text())["groups"]
    assert users and all(u["department"] == "Finance" for u in users)
    assert [g["mailNickname"] for g in groups] == ["grp-finance"]
    assert "id" not in users[0]


def test_import_refuses_to_overwrite(workdir: Path) -> None:
    (workdir / "imported").mkdir()
    (workdir / "imported" / "users.yaml").write_text("users: []\n")
    code, _, err = _run("import", "--out", "imported")
    assert code == 1
    assert err == "error: imported/users.yaml already exist(s); remove or choose another --out\n"
    assert (workdir / "imported" / "users.yaml").read_text() == "users: []\n"


def test_import_reports_a_bad_filter(workdir: Path) -> None:
    code, _, err = _run("import", "--out", "imported", "--users", "nosuchproperty eq 'x'")
    assert code == 1
    assert err.startswith("error: ")
    assert "nosuchproperty" in err
    assert not (workdir / "imported" / "users.yaml").exists()


def _seeded_workdir(path: Path, seed: str) -> None:
    """A work dir whose embedded tenant (`tenant: local`) holds `seed` instead of the demo."""
    from reconciler.emulator.inprocess import open_local_tenant

    path.mkdir(parents=True, exist_ok=True)
    (path / "entraform.yaml").write_text("tenant: local\nstate_dir: imported\n", encoding="utf-8")
    open_local_tenant(path / ".entraform" / "local-tenant.db", seed=seed).close()


def _round_trip(path: Path) -> None:
    code, _, err = _run("import", "--out", "imported")
    assert code == 0, err
    code, out, err = _run("validate")
    assert code == 0, err
    code, out, err = _run("plan", "--detailed-exitcode")
    assert (code, out) == (0, "No changes. The tenant matches the desired state.\n"), err


def test_a_synthetic_tenant_round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every seed respects Graph's member-type rules, so what import writes validates and plans empty."""
    _seeded_workdir(tmp_path, "synthetic:10000:1000:50000")
    monkeypatch.chdir(tmp_path)
    _round_trip(tmp_path)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    users=st.integers(min_value=1, max_value=60),
    groups=st.integers(min_value=1, max_value=25),
    memberships=st.integers(min_value=0, max_value=400),
)
def test_any_small_synthetic_tenant_round_trips(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    users: int,
    groups: int,
    memberships: int,
) -> None:
    path = tmp_path_factory.mktemp("synthetic")
    _seeded_workdir(path, f"synthetic:{users}:{groups}:{memberships}")
    monkeypatch.chdir(path)
    _round_trip(path)


def test_users_read_in_ranges_are_every_user_once(tmp_path: Path) -> None:
    """Against the emulator's own `$filter`: the ranged read of a 3,000-user tenant (more than two pages,
    so ranges are used) returns every user exactly once."""
    import asyncio

    from reconciler.config import Config
    from reconciler.graph.local import open_local_client
    from reconciler.graph.reads import read_all
    from reconciler.live_read import _read_users
    from reconciler.progress import ProgressDisplay

    _seeded_workdir(tmp_path, "synthetic:3000:10:0")
    config = Config(base_dir=str(tmp_path))

    async def read() -> tuple[list[str], list[str]]:
        client = open_local_client(config, read_only=True)
        try:
            ranged = await _read_users(client, ProgressDisplay(enabled=False).task("users"))
            listed = await read_all(client, "/users?$select=id&$top=999")
            return [u.id for u in ranged], [u["id"] for u in listed]
        finally:
            await client.aclose()

    ranged, listed = asyncio.run(read())
    assert len(ranged) == len(set(ranged)) == 3000
    assert set(ranged) == set(listed)
