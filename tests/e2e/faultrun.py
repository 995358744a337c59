"""What the fault scenarios share (test_faults.py): an emulator served by `entraform emulator serve` in a
process of its own, a tenant and a desired state that make a plan of ~100 writes, and the three checks
made after each scenario: the plan converged, nothing outside it was touched, and the journal accounts for
every write that reached the tenant (the emulator's audit records, by their correlationId).

With ENTRAFORM_RELIABILITY_LOG set to a file, each scenario appends what it measured there as a JSON
line; `bench/reliability.py` reads them to write docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

ENTRAFORM = str(Path(sys.executable).with_name("entraform"))
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
LOG_VARIABLE = "ENTRAFORM_RELIABILITY_LOG"

NEW_USERS = 36
EXISTING_USERS = 10  # in the tenant and in YAML: their titles change
OUTSIDERS = ("outsider1@fabrikam.example", "outsider2@contoso.example")  # in the tenant, not in YAML
OUTSIDE_GROUP = "team-outside"
GROUPS = 4
PASSWORD = "Seed-Password-1234!"  # the seeded users' own; never entraform's
MAX_RUNS = 4  # applies, the faulted one included, before a scenario must have converged


@dataclass
class Served:
    """An emulator process and a client on its admin API."""

    process: subprocess.Popen[bytes]
    info: dict[str, Any]
    admin: httpx.Client

    def graph(self, app: str) -> httpx.Client:
        """A Graph client holding a token of `app` fresh on the emulator's clock (a test may move it)."""
        return _graph(self.info, app, ssl.create_default_context(cafile=self.info["ca_bundle"]))

    def configure(self, **settings: Any) -> None:
        self.admin.put("config", json=settings).raise_for_status()

    def stats(self) -> dict[str, Any]:
        reply = self.admin.get("stats")
        reply.raise_for_status()
        data: dict[str, Any] = reply.json()
        return data


def serve(folder: Path) -> Iterator[Served]:
    """`entraform emulator serve` on an empty tenant in `folder`, until the generator is closed."""
    info_file = folder / "info.json"
    command = [ENTRAFORM, "emulator", "serve", "--port", "0", "--db", str(folder / "tenant.db")]
    command += ["--seed", "empty", "--info-file", str(info_file), "--no-throttle"]
    with open(folder / "emulator.log", "wb") as log:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while not info_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start: {(folder / 'emulator.log').read_text()}")
            time.sleep(0.05)  # waiting for the process to write its info file, not for a guessed time
        info = json.loads(info_file.read_text())
        verify = ssl.create_default_context(cafile=info["ca_bundle"])
        with httpx.Client(base_url=info["admin_url"] + "/", verify=verify) as admin:
            yield Served(process, info, admin)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _graph(info: dict[str, Any], app: str, verify: ssl.SSLContext) -> httpx.Client:
    creds = info["apps"][app]
    form = {
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
        "grant_type": "client_credentials",
        "scope": GRAPH_SCOPE,
    }
    reply = httpx.post(f"{info['authority']}/{info['tenant_id']}/oauth2/v2.0/token", data=form, verify=verify)
    reply.raise_for_status()
    token = reply.json()["access_token"]
    return httpx.Client(
        base_url=info["graph_url"] + "/",
        headers={"Authorization": f"Bearer {token}"},
        verify=verify,
        timeout=60,
    )


# ---- the tenant and the desired state -------------------------------------------------------------------


def existing(n: int) -> str:
    return f"old{n:02d}@contoso.example"


def new(n: int) -> str:
    return f"new{n:02d}@contoso.example"


def seed_tenant(served: Served, rng_seed: int) -> None:
    """An empty tenant with the existing users and the outsiders (made by the admin app, so that the
    writer's audit records are entraform's alone), and the outsiders' group."""
    served.admin.post("seed", json={"seed": "empty"}).raise_for_status()
    served.configure(
        lag_ms=0, latency_ms=0, faults=[], clock_offset_s=0, rng_seed=rng_seed, throttle={"enabled": False}
    )
    ids: dict[str, str] = {}
    seeder = served.graph("admin")
    for upn in [*(existing(n) for n in range(EXISTING_USERS)), *OUTSIDERS]:
        body = {
            "userPrincipalName": upn,
            "displayName": upn.split("@")[0],
            "mailNickname": upn.split("@")[0],
            "accountEnabled": True,
            "jobTitle": "Before",
            "usageLocation": "US",
            "passwordProfile": {"password": PASSWORD, "forceChangePasswordNextSignIn": True},
        }
        reply = seeder.post("users", json=body)
        reply.raise_for_status()
        ids[upn] = reply.json()["id"]
    group = {"displayName": "Outside", "mailNickname": OUTSIDE_GROUP, "mailEnabled": False}
    group["securityEnabled"] = True
    group["members@odata.bind"] = [f"{seeder.base_url}directoryObjects/{ids[u]}" for u in OUTSIDERS]
    seeder.post("groups", json=group).raise_for_status()


def desired_state() -> dict[str, Any]:
    """New users (with managers and some licenses), the existing ones retitled, groups with members and an
    owner: ~100 writes."""
    users: list[dict[str, Any]] = []
    for n in range(NEW_USERS):
        user: dict[str, Any] = {
            "userPrincipalName": new(n),
            "displayName": f"New {n}",
            "jobTitle": "Engineer",
        }
        if n >= 6:
            user["manager"] = new(n % 6)
        if n % 4 == 0:
            user["usageLocation"] = "US"
            user["licenses"] = [{"sku": "ENTERPRISEPACK"}]
        users.append(user)
    users += [
        {"userPrincipalName": existing(n), "displayName": f"old{n:02d}", "jobTitle": "After"}
        for n in range(EXISTING_USERS)
    ]
    groups = []
    for g in range(GROUPS):
        members = [new(n) for n in range(NEW_USERS) if n % GROUPS == g] + [existing(g), existing(g + GROUPS)]
        groups.append(
            {
                "mailNickname": f"grp-team{g}",
                "displayName": f"Team {g}",
                "securityEnabled": True,
                "mailEnabled": False,
                "owners": [new(g)],
                "members": members,
            }
        )
    return {"users": users, "groups": groups}


def write_state(folder: Path) -> None:
    state = folder / "state"
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir()
    (state / "tenant.yaml").write_text(yaml.safe_dump(desired_state(), sort_keys=False), encoding="utf-8")


# ---- reading what the tenant holds ----------------------------------------------------------------------


def _all(client: httpx.Client, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        reply = client.get(next_url)
        reply.raise_for_status()
        body = reply.json()
        items += body["value"]
        next_url = body.get("@odata.nextLink")
    return items


USER_FIELDS = "id,userPrincipalName,displayName,jobTitle,accountEnabled,usageLocation,assignedLicenses"


def snapshot(served: Served) -> dict[str, Any]:
    """Every user and group with what entraform may change on it, by key."""
    reader = served.graph("reader")
    objects: dict[str, Any] = {}
    for user in _all(reader, f"users?$select={USER_FIELDS}&$top=999"):
        manager = reader.get(f"users/{user['id']}/manager?$select=id")
        user["manager"] = manager.json()["id"] if manager.status_code == 200 else None
        objects[user["userPrincipalName"].lower()] = user
    for group in _all(reader, "groups?$select=id,mailNickname,displayName,description&$top=999"):
        for edge in ("members", "owners"):
            group[edge] = sorted(m["id"] for m in _all(reader, f"groups/{group['id']}/{edge}?$select=id"))
        key = group["mailNickname"].lower()
        if key in objects:  # two groups with one nickname: a create made twice
            raise AssertionError(f"group {key} exists twice")
        objects[key] = group
    return objects


def audit_records(served: Served) -> list[dict[str, Any]]:
    return _all(served.graph("reader"), "auditLogs/directoryAudits?$top=999")


def planned_keys(plan: dict[str, Any]) -> set[str]:
    """Every object a plan names, at either end of an edge."""
    names = ("key", "group", "member", "user", "owner", "manager", "principal")
    return {str(c[n]).removeprefix("group:").lower() for c in plan["changes"] for n in names if c.get(n)}


# ---- one scenario ---------------------------------------------------------------------------------------


@dataclass
class Measured:
    """What a scenario tried and what held, as docs/reliability.md counts it."""

    scenario: str
    planned_changes: int = 0
    runs: int = 0  # applies until the plan was empty, the faulted one first
    faults_injected: int = 0  # answers the emulator refused, throttled or dropped, and kills
    writes_reached: int = 0  # write requests the tenant applied (audited correlation ids)
    writes_journaled: int = 0  # of those, how many the journal names
    writes_lost: int = 0  # reached the tenant but the journal does not know them
    touched_outside: int = 0  # objects no plan named that changed
    extra: dict[str, Any] = field(default_factory=dict)


def journal_ids(folder: Path) -> set[str]:
    path = folder / ".entraform" / "journal.jsonl"
    ids = set()
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line a killed process left half-written
        if entry.get("request_id"):
            ids.add(entry["request_id"])
    return ids


def check(served: Served, folder: Path, before: dict[str, Any], named: set[str], measured: Measured) -> None:
    """The three checks, recorded in `measured` and asserted."""
    after = snapshot(served)
    untouched = set(before) - named
    assert set(OUTSIDERS) | {OUTSIDE_GROUP} <= untouched
    changed = sorted(k for k in untouched if after.get(k) != before[k])
    measured.touched_outside = len(changed)
    writer = served.info["apps"]["writer"]["client_id"]
    ours = {
        r["correlationId"]
        for r in audit_records(served)
        if (r["initiatedBy"].get("app") or {}).get("appId") == writer
    }
    known = journal_ids(folder)
    measured.writes_reached = len(ours)
    measured.writes_journaled = len(ours & known)
    measured.writes_lost = len(ours - known)
    ids = {obj["id"]: key for key, obj in after.items()}
    outside_ids = {obj["id"] for key, obj in before.items() if key not in named}
    audited_outside = sorted(
        ids.get(t["id"], t["id"])
        for r in audit_records(served)
        if (r["initiatedBy"].get("app") or {}).get("appId") == writer
        for t in r["targetResources"]
        if t.get("id") in outside_ids
    )
    _log(measured)
    assert changed == [], f"objects outside the plan changed: {changed}"
    assert audited_outside == [], f"entraform wrote to objects outside the plan: {audited_outside}"
    assert measured.writes_lost == 0, f"writes the journal does not know: {sorted(ours - known)}"


def _log(measured: Measured) -> None:
    path = os.environ.get(LOG_VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(measured)) + "\n")
