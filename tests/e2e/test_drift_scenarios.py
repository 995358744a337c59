"""Drift e2e (SPEC §4.1): out-of-band changes through Graph with the writer app are reported with who
and when; reverted, the tenant is back to no drift; a YAML edit not applied is `origin: git`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from workdir import Workdir, make_workdir

WRITER_NAME = "entraform writer"


@pytest.fixture
def work(
    tmp_path: Path, reset_emulator: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> Workdir:
    """The demo applied, with alex@ declared enabled: the tenant matches git and drift exits 0."""
    work = make_workdir(tmp_path, reset_emulator, admin, monkeypatch)
    people = work.path / "state" / "people" / "engineering.yaml"
    text = people.read_text()
    people.write_text(
        text.replace(
            "    displayName: Alex Wilber\n", "    displayName: Alex Wilber\n    accountEnabled: true\n"
        )
    )
    applied = work.cli("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert work.cli("drift").exit_code == 0
    return work


def _id(graph: httpx.Client, path: str, **params: str) -> str:
    reply = graph.get(path, params={"$select": "id", **params})
    reply.raise_for_status()
    data = reply.json()
    return str(data["value"][0]["id"] if "value" in data else data["id"])


def _group_id(graph: httpx.Client, nickname: str) -> str:
    return _id(graph, "groups", **{"$filter": f"mailNickname eq '{nickname}'"})


def _ref(graph: httpx.Client, object_id: str) -> dict[str, str]:
    return {"@odata.id": f"{graph.base_url}directoryObjects/{object_id}"}


def _drift_json(work: Workdir) -> tuple[int, dict[str, Any]]:
    result = work.cli("drift", "--format", "json")
    assert result.exit_code in (0, 2), result.output
    return result.exit_code, json.loads(result.stdout)


def test_changes_made_in_the_tenant_are_named_with_the_app_and_time_and_revert_to_no_drift(
    work: Workdir, graph_http: Callable[[str], httpx.Client]
) -> None:
    graph = graph_http("writer")
    ada, alex = _id(graph, "users/ada@contoso.example"), _id(graph, "users/alex@contoso.example")
    hedy, patti = _id(graph, "users/hedy@contoso.example"), _id(graph, "users/patti@contoso.example")
    platform = _group_id(graph, "grp-platform")
    graph.patch(f"users/{ada}", json={"jobTitle": "Drift Check Engineer"}).raise_for_status()
    graph.patch(f"users/{alex}", json={"accountEnabled": False}).raise_for_status()
    graph.post(f"groups/{platform}/members/$ref", json=_ref(graph, patti)).raise_for_status()
    graph.delete(f"groups/{platform}/members/{hedy}/$ref").raise_for_status()

    code, report = _drift_json(work)
    assert code == 2
    rows = {
        (i["kind"], i.get("key") or i.get("member"), i.get("attribute"), i["git"], i["tenant"], i["activity"])
        for i in report["items"]
    }
    assert rows == {
        ("user", "ada@contoso.example", "jobTitle", "Staff Engineer", "Drift Check Engineer", "Update user"),
        ("user", "alex@contoso.example", "accountEnabled", True, False, "Disable account"),
        ("membership", "patti@contoso.example", None, "absent", "present", "Add member to group"),
        ("membership", "hedy@contoso.example", None, "present", "absent", "Remove member from group"),
    }
    writer_app = work.info["apps"]["writer"]["client_id"]
    for item in report["items"]:
        assert item["origin"] == "tenant"
        assert item["changed_by"] == {"app": writer_app, "app_name": WRITER_NAME, "user": None}
        assert item["changed_at"] >= report["checked_at"][:10]
    assert report["summary"] == {
        "items": 4,
        "changed_in_tenant": 4,
        "not_applied": 0,
        "unknown": 0,
        "added_to_scope": 0,
        "held": 0,
    }
    text = work.cli("drift").stdout
    assert 'user ada@contoso.example: jobTitle: git "Staff Engineer", tenant "Drift Check Engineer"' in text
    assert f"Add member to group by {WRITER_NAME} at " in text

    graph.patch(f"users/{ada}", json={"jobTitle": "Staff Engineer"}).raise_for_status()
    graph.patch(f"users/{alex}", json={"accountEnabled": True}).raise_for_status()
    graph.delete(f"groups/{platform}/members/{patti}/$ref").raise_for_status()
    graph.post(f"groups/{platform}/members/$ref", json=_ref(graph, hedy)).raise_for_status()
    assert _drift_json(work)[0] == 0
    assert work.cli("drift").stdout == "No drift. The tenant matches git.\n"


def test_a_group_deleted_in_the_tenant_is_named_with_who_and_when_and_so_are_the_edges_it_took(
    work: Workdir, graph_http: Callable[[str], httpx.Client]
) -> None:
    graph = graph_http("writer")
    graph.delete(f"groups/{_group_id(graph, 'grp-product')}").raise_for_status()
    code, report = _drift_json(work)
    assert code == 2
    deleted = report["items"][0]
    assert (deleted["kind"], deleted["key"], deleted["git"], deleted["tenant"]) == (
        "group",
        "grp-product",
        "present",
        "absent",
    )
    assert {i["activity"] for i in report["items"]} == {"Delete group"}
    assert {i["changed_by"]["app_name"] for i in report["items"]} == {WRITER_NAME}
    # Its members, its owner and its own membership of grp-engineering went with it.
    assert {(i["kind"], i.get("group")) for i in report["items"][1:]} == {
        ("membership", "grp-engineering"),
        ("membership", "grp-product"),
        ("owner", "grp-product"),
    }
    assert "group grp-product: deleted in the tenant; still declared" in work.cli("drift").stdout


def test_a_yaml_edit_not_applied_is_origin_git_and_entraforms_own_writes_are_not_drift(work: Workdir) -> None:
    people = work.path / "state" / "people" / "engineering.yaml"
    people.write_text(people.read_text().replace("jobTitle: Senior Platform Engineer", "jobTitle: Staff SRE"))
    code, report = _drift_json(work)
    assert code == 2
    (item,) = report["items"]
    assert (item["key"], item["attribute"], item["origin"], item["changed_by"]) == (
        "alex@contoso.example",
        "jobTitle",
        "git",
        None,
    )
    assert "not applied yet: the YAML changed since the last apply" in work.cli("drift").stdout
    # Applying it is entraform's own write: the audit record it leaves is never reported.
    assert work.cli("apply", "--auto-approve").exit_code == 0
    assert _drift_json(work)[0] == 0


def test_a_record_that_has_not_arrived_yet_is_unknown_never_wrong(
    work: Workdir, graph_http: Callable[[str], httpx.Client]
) -> None:
    work.configure(audit_delay_s=600)
    graph = graph_http("writer")
    graph.patch(
        f"users/{_id(graph, 'users/ada@contoso.example')}", json={"jobTitle": "Later"}
    ).raise_for_status()
    code, report = _drift_json(work)
    assert code == 2
    (item,) = report["items"]
    assert (item["origin"], item["changed_by"], item["activity"]) == ("unknown", None, None)
