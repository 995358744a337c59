"""Request budget of the role read (issue 11): a tenant with 500 role assignments across 16 roles, every one
declared, is read in at most 5 requests on the role routes (`$batch` steps counted as requests)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from workdir import make_workdir

DEFINITIONS = "/roleManagement/directory/roleDefinitions"
ASSIGNMENTS = "/roleManagement/directory/roleAssignments"
ROLES = 16
ASSIGNMENTS_WANTED = 500


def test_reading_500_assignments_of_16_roles_costs_at_most_5_requests(
    tmp_path: Path,
    reset_emulator: dict[str, Any],
    admin: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    graph_http: Callable[[str], httpx.Client],
) -> None:
    graph = graph_http("admin")
    definitions = graph.get(DEFINITIONS[1:], params={"$select": "id,displayName"}).json()["value"]
    assert len(definitions) >= ROLES
    roles = sorted(definitions, key=lambda d: d["displayName"])[:ROLES]
    users = [u["id"] for u in graph.get("users", params={"$select": "id", "$top": "999"}).json()["value"]]
    held = {(a["roleDefinitionId"], a["principalId"]) for a in graph.get(ASSIGNMENTS[1:]).json()["value"]}
    new = [(r["id"], u) for r in roles for u in users if (r["id"], u) not in held]
    existing = sum(1 for role_id, _ in held if role_id in {r["id"] for r in roles})
    new = new[: ASSIGNMENTS_WANTED - existing]
    for start in range(0, len(new), 20):
        steps = [
            {
                "id": str(n),
                "method": "POST",
                "url": ASSIGNMENTS,
                "headers": {"Content-Type": "application/json"},
                "body": {"roleDefinitionId": role_id, "principalId": user_id, "directoryScopeId": "/"},
            }
            for n, (role_id, user_id) in enumerate(new[start : start + 20])
        ]
        answers = graph.post("$batch", json={"requests": steps}).json()["responses"]
        assert {a["status"] for a in answers} == {201}
    listed = graph.get(ASSIGNMENTS[1:], params={"$top": "999"}).json()["value"]
    assert sum(1 for a in listed if a["roleDefinitionId"] in {r["id"] for r in roles}) == ASSIGNMENTS_WANTED

    work = make_workdir(tmp_path, reset_emulator, admin, monkeypatch, app="reader")
    shutil.rmtree(work.path / "state")
    (work.path / "state").mkdir()
    # Every holder kept (append): the plan is empty, and the read is all the run does with roles.
    work.write_state(
        "roles.yaml",
        "roles:\n" + "".join(f"  - role: {r['displayName']}\n    principalsMode: append\n" for r in roles),
    )
    admin.post("stats/reset").raise_for_status()
    result = work.cli("plan", "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    by_route = work.stats()["by_route"]
    role_requests = {route: n for route, n in by_route.items() if "/roleManagement/" in route}
    assert sum(role_requests.values()) <= 5, role_requests
