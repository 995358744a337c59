"""azure-cli, a second real client, against the served emulator as a custom cloud: `az cloud register`
(ARM's metadata endpoint), `az login --service-principal` (the token endpoint and an empty ARM subscription
list), then `az ad user …`, `az ad group …` and `az ad group member …` (Graph).

Runs when an `az` executable is found: `ENTRAFORM_AZ=/path/to/az`, or `az` on PATH. azure-cli is not a
dependency of the project (install it apart, e.g. `python3 -m venv /tmp/azcli && /tmp/azcli/bin/pip install
azure-cli`). Each test has its own `AZURE_CONFIG_DIR`, so nothing of the user's own azure-cli is touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

AZ = os.environ.get("ENTRAFORM_AZ") or shutil.which("az")
pytestmark = pytest.mark.skipif(
    AZ is None, reason="azure-cli not found: set ENTRAFORM_AZ=/path/to/az or put az on PATH"
)

Az = Callable[..., Any]
PLATFORM = "Platform Engineering"  # az resolves --group by displayName or id


@pytest.fixture
def az(reset_emulator: dict[str, Any], tmp_path: Path) -> Az:
    """`az(*args)` → the parsed JSON output (None when there is none); fails on a non-zero exit.
    Already signed in as the emulator's app "writer"."""
    info = reset_emulator
    env = {
        **os.environ,
        "AZURE_CONFIG_DIR": str(tmp_path / "azure"),
        "REQUESTS_CA_BUNDLE": info["ca_bundle"],
        "AZURE_CORE_COLLECT_TELEMETRY": "0",
        "AZURE_CORE_NO_COLOR": "1",
    }

    def run(*args: str, check: bool = True) -> Any:
        assert AZ is not None
        done = subprocess.run(
            [AZ, *args, "--output", "json"], env=env, capture_output=True, text=True, timeout=120
        )
        if check:
            assert done.returncode == 0, done.stderr
            return json.loads(done.stdout) if done.stdout.strip() else None
        return done

    writer = info["apps"]["writer"]
    run("cloud", "register", "--name", "Emulator", "--endpoint-resource-manager", info["authority"] + "/")
    run("cloud", "set", "--name", "Emulator")
    run("config", "set", "core.instance_discovery=false")
    accounts = run(
        "login",
        "--service-principal",
        "--username",
        writer["client_id"],
        "--password",
        writer["client_secret"],
        "--tenant",
        info["tenant_id"],
        "--allow-no-subscriptions",
    )
    assert [a["tenantId"] for a in accounts] == [info["tenant_id"]]
    assert accounts[0]["user"] == {"name": writer["client_id"], "type": "servicePrincipal"}
    return run


def test_users_list_show_and_create(az: Az) -> None:
    upns = {u["userPrincipalName"] for u in az("ad", "user", "list")}
    assert "ada@contoso.example" in upns
    assert az("ad", "user", "show", "--id", "ada@contoso.example")["displayName"] == "Ada Lovelace"
    created = az(
        "ad",
        "user",
        "create",
        "--display-name",
        "Az Cli",
        "--user-principal-name",
        "azcli@contoso.example",
        "--password",
        "xWwvJ]6NMw+bWH-d",
    )
    assert az("ad", "user", "show", "--id", created["id"])["userPrincipalName"] == "azcli@contoso.example"


def test_group_list_and_members_list_add_check_remove(az: Az) -> None:
    assert PLATFORM in {g["displayName"] for g in az("ad", "group", "list")}
    members = {m["userPrincipalName"] for m in az("ad", "group", "member", "list", "--group", PLATFORM)}
    assert "lee@contoso.example" in members and "ada@contoso.example" not in members
    ada = az("ad", "user", "show", "--id", "ada@contoso.example")["id"]
    az("ad", "group", "member", "add", "--group", PLATFORM, "--member-id", ada)
    assert az("ad", "group", "member", "check", "--group", PLATFORM, "--member-id", ada) == {"value": True}
    az("ad", "group", "member", "remove", "--group", PLATFORM, "--member-id", ada)
    assert az("ad", "group", "member", "check", "--group", PLATFORM, "--member-id", ada) == {"value": False}


def test_graph_refusals_reach_the_az_user(az: Az) -> None:
    """A security group is no member of a Microsoft 365 group (group-post-members)."""
    platform = az("ad", "group", "show", "--group", PLATFORM)["id"]
    done = az("ad", "group", "member", "add", "--group", "Sales", "--member-id", platform, check=False)
    assert done.returncode != 0 and "Only users can be members of a Microsoft 365 group." in done.stderr
