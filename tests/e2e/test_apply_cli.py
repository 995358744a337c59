"""`entraform apply` end to end: the CLI with the writer app against the served emulator (SPEC §1, §4, §5)."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from workdir import Workdir, make_workdir

from reconciler.errors import GraphNoAnswer
from reconciler.graph.client import GraphClient
from reconciler.graph.wire import BatchStep, RawResponse


@pytest.fixture
def work(
    tmp_path: Path, reset_emulator: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> Workdir:
    return make_workdir(tmp_path, reset_emulator, admin, monkeypatch, app="admin")


def test_the_demo_plan_applies_and_the_next_plan_is_empty(work: Workdir) -> None:
    assert work.cli("plan", "--out", "plan.json").exit_code == 0
    changes = json.loads((work.path / "plan.json").read_text())["changes"]
    result = work.cli("apply", "plan.json", "--initial-passwords", "secrets/pw.csv")
    assert result.exit_code == 0, result.output
    assert "Apply complete" in result.stdout
    again = work.cli("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    twice = work.cli("apply", "plan.json")
    assert twice.exit_code == 1 and "applied already" in twice.stderr

    created = [c["key"] for c in changes if c["action"] == "create" and c["kind"] == "user"]
    rows = list(csv.reader((work.path / "secrets" / "pw.csv").open()))
    assert [r[0] for r in rows[1:]] == created and all(len(r[1]) >= 16 for r in rows[1:])
    assert (work.path / "secrets" / "pw.csv").stat().st_mode & 0o777 == 0o600
    journal = work.outcomes()
    assert sorted(e["change"] for e in journal) == sorted(c["id"] for c in changes)
    assert {e["outcome"] for e in journal} <= {"applied", "already"}
    text = (work.path / ".entraform" / "journal.jsonl").read_text() + result.output
    assert not any(password in text for _, password in rows[1:])


@pytest.mark.parametrize(("answer", "code", "writes"), [("n\n", 1, False), ("y\n", 0, True)])
def test_apply_shows_the_plan_and_asks(
    work: Workdir, monkeypatch: pytest.MonkeyPatch, answer: str, code: int, writes: bool
) -> None:
    import click.testing

    monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self: True, raising=False)
    result = work.cli("apply", input=answer)
    assert result.exit_code == code, result.output
    assert "Plan:" in result.stdout  # the plan is shown before the question
    assert "change(s) to tenant" in result.stderr and "[y/N]" in result.stderr
    assert (work.stats()["writes"] > 0) is writes


def test_apply_asks_and_refuses_without_a_terminal(work: Workdir) -> None:
    result = work.cli("apply")
    assert result.exit_code == 1
    assert "--auto-approve" in result.stderr
    assert work.stats()["writes"] == 0


def test_a_stale_plan_is_refused_saying_what_moved(work: Workdir, graph_http: Any) -> None:
    assert work.cli("plan", "--out", "plan.json").exit_code == 0
    ben = graph_http("writer").get("users/ben@contoso.example?$select=id").json()["id"]
    graph_http("writer").patch(f"users/{ben}", json={"department": "Marketing"}).raise_for_status()
    work.admin.post("stats/reset").raise_for_status()
    result = work.cli("apply", "plan.json")
    assert result.exit_code == 1
    assert "plan.json: no longer needed: update user ben@contoso.example" in result.stderr
    assert "stale" in result.stderr
    assert work.stats()["writes"] == 0


def test_a_targeted_plan_applies_only_its_target(work: Workdir) -> None:
    plan = work.cli("plan", "--target", "user:zrinka@contoso.example", "--out", "plan.json")
    assert plan.exit_code == 0, plan.output
    assert "Targeted: only user:zrinka@contoso.example." in plan.stdout
    saved = json.loads((work.path / "plan.json").read_text())
    assert saved["targets"] == ["user:zrinka@contoso.example"]
    assert {c.get("key") or c.get("member") or c.get("user") for c in saved["changes"]} == {
        "zrinka@contoso.example"
    }
    result = work.cli("apply", "plan.json")
    assert result.exit_code == 0, result.output
    rest = work.cli("plan", "--format", "json")
    keys = {c.get("key") or c.get("member") or c.get("user") for c in json.loads(rest.stdout)["changes"]}
    assert "zrinka@contoso.example" not in keys
    assert "margaret@contoso.example" in keys


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("tenant", "00000000-0000-0000-0000-000000000000", "tenant"), ("format_version", 2, "format_version")],
)
def test_a_plan_of_another_tenant_or_format_is_refused(
    work: Workdir, field: str, value: Any, message: str
) -> None:
    assert work.cli("plan", "--out", "plan.json").exit_code == 0
    data = json.loads((work.path / "plan.json").read_text())
    data[field] = value
    (work.path / "plan.json").write_text(json.dumps(data))
    result = work.cli("apply", "plan.json")
    assert result.exit_code == 1
    assert message in result.stderr
    assert work.stats()["writes"] == 0


DEMO_SCOPE = (
    "scope:\n"
    "  protected: [breakglass@contoso.example]\n"
    "  users: {authoritative: true, match: {upn_suffix: '@contoso.example'}}\n"
    "  groups: {authoritative: true, match: {mail_nickname_prefix: 'grp-'}}\n"
)


def test_the_demo_applies_without_force_and_holds_the_break_glass_admin(
    tmp_path: Path, reset_emulator: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SPEC §4: a protected principal that differs from git is held, never a reason for --force."""
    work = make_workdir(tmp_path, reset_emulator, admin, monkeypatch, app="admin", extra=DEMO_SCOPE)
    planned = work.cli("plan", "--format", "json", "--out", "plan.json")
    data = json.loads(planned.stdout)
    assert data["unsafe"] == []
    assert [h["principal"] for h in data["held"]] == ["breakglass@contoso.example"]
    assert data["held"][0]["wants"].startswith("disable user breakglass@contoso.example")
    result = work.cli("apply", "plan.json")
    assert result.exit_code == 0, result.output
    assert "held: breakglass@contoso.example is protected; not applied: disable user" in result.stderr
    again = work.cli("plan", "--detailed-exitcode")
    assert again.exit_code == 2, again.output
    assert again.stdout.splitlines()[1].startswith("!!   breakglass@contoso.example: the desired state wants")
    assert again.stdout.splitlines()[-1] == "No changes to apply. Held: 1 item on protected principals."
    before = work.stats()["writes"]
    nothing = work.cli("apply", "--auto-approve")
    assert (nothing.exit_code, work.stats()["writes"]) == (0, before), nothing.output
    assert "Nothing to apply: only 1 held item on protected principals." in nothing.stdout


def test_an_unsafe_plan_needs_force(
    tmp_path: Path, reset_emulator: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    scope = "scope:\n  groups: {authoritative: true, match: {mail_nickname_prefix: 'grp-'}}\n"
    work = make_workdir(tmp_path, reset_emulator, admin, monkeypatch, app="admin", extra=scope)
    groups = work.path / "state" / "groups.yaml"
    # Emptying every group's member list removes most memberships: over max_delete_fraction.
    data = yaml.safe_load(groups.read_text())
    for group in data["groups"]:
        if "membershipRule" not in group:  # a dynamic group's members are Entra ID's, not the YAML's
            group["members"] = []
    groups.write_text(yaml.safe_dump(data))
    result = work.cli("apply", "--auto-approve")
    assert result.exit_code == 1, result.output
    assert "unsafe" in result.stderr and "--force" in result.stderr
    assert work.stats()["writes"] == 0
    forced = work.cli("apply", "--auto-approve", "--force")
    assert forced.exit_code == 0, forced.output
    assert_converged(work)


def test_a_failing_change_skips_its_dependants_and_the_rest_goes_on(work: Workdir) -> None:
    work.configure(faults=[{"route": "^POST /users$", "status": 500, "rate": 1.0}])
    result = work.cli("apply", "--auto-approve")
    assert result.exit_code == 1
    assert "500 InternalServerError: An internal server error occurred." in result.stderr
    assert "skipped" in result.stderr and "depends on" in result.stderr
    outcomes = {e["change"]: e["outcome"] for e in work.outcomes()}
    assert "applied" in outcomes.values() and "failed" in outcomes.values() and "skipped" in outcomes.values()
    work.configure(faults=[])
    assert work.cli("apply", "--auto-approve").exit_code == 0
    assert_converged(work)


def test_transient_faults_and_replication_lag_are_retried(
    work: Workdir, monkeypatch: pytest.MonkeyPatch
) -> None:
    statuses = record_statuses(monkeypatch)
    writes = "^(POST|PATCH|PUT|DELETE) /(users|groups)"
    work.configure(
        lag_ms=400, rng_seed=7, faults=[{"route": writes, "status": 503, "rate": 0.2, "retry_after": 0}]
    )
    result = work.cli("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert 503 in statuses and (404 in statuses or 400 in statuses)
    work.configure(lag_ms=0, faults=[], clock_offset_s=5)  # past the lag: every object is visible
    assert_converged(work)


def test_creates_whose_answers_were_lost_are_settled_by_reading(
    work: Workdir, monkeypatch: pytest.MonkeyPatch, graph_http: Any
) -> None:
    # A new security group too: Graph lets two share a mailNickname, so a blind retry would make two.
    team = {"mailNickname": "grp-newteam", "displayName": "New Team", "owners": ["grace@contoso.example"]}
    team["members"] = ["margaret@contoso.example", "ada@contoso.example"]
    (work.path / "state" / "newteam.yaml").write_text(yaml.safe_dump({"groups": [team]}))
    real_batch = GraphClient.batch
    lost: list[str] = []

    async def losing_batch(self: GraphClient, steps: list[BatchStep]) -> dict[str, RawResponse]:
        answers = await real_batch(self, steps)
        creates = [s.url for s in steps if s.method == "POST" and s.url in ("/users", "/groups")]
        if creates and not set(creates) <= set(lost):
            lost.extend(creates)
            raise GraphNoAnswer("POST /$batch failed: ReadTimeout")  # Graph did the work; the answer is lost
        return answers

    monkeypatch.setattr(GraphClient, "batch", losing_batch)
    result = work.cli("apply", "--auto-approve", "--initial-passwords", "pw.csv")
    assert result.exit_code == 0, result.output
    assert {"/users", "/groups"} <= set(lost)
    creates = [e for e in work.outcomes() if e["action"] == "create"]
    assert {e["kind"] for e in creates} == {"user", "group"}
    assert {e["outcome"] for e in creates} == {"already"}
    assert len(list(csv.reader((work.path / "pw.csv").open()))) == 1 + sum(
        e["kind"] == "user" for e in creates
    )
    teams = (
        graph_http("writer").get("groups?$filter=mailNickname eq 'grp-newteam'&$select=id").json()["value"]
    )
    assert len(teams) == 1
    assert_converged(work)


def assert_converged(work: Workdir) -> None:
    again = work.cli("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def record_statuses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The status of every `$batch` step answer apply receives."""
    real_batch = GraphClient.batch
    statuses: list[int] = []

    async def recording_batch(self: GraphClient, steps: list[BatchStep]) -> dict[str, RawResponse]:
        answers = await real_batch(self, steps)
        statuses.extend(a.status for a in answers.values())
        return answers

    monkeypatch.setattr(GraphClient, "batch", recording_batch)
    return statuses


def test_ctrl_c_finishes_the_requests_in_flight_and_keeps_the_journal(work: Workdir) -> None:
    # The reads an apply makes (its stale check) use this many $batch envelopes; the next is a write.
    assert work.cli("plan").exit_code == 0
    read_envelopes = work.stats()["by_route"].get("POST /$batch", 0)
    work.admin.post("stats/reset").raise_for_status()
    work.configure(latency_ms=1000)  # each round trip takes a while: Ctrl-C lands mid-envelope
    entraform = str(Path(sys.executable).parent / "entraform")
    command = [entraform, "--config", "entraform.yaml", "apply", "--auto-approve"]
    command += ["--parallelism", "1"]
    proc = subprocess.Popen(command, cwd=work.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    # An envelope is counted when it arrives, before its round trip's latency: the first write's is in flight.
    while work.stats()["by_route"].get("POST /$batch", 0) <= read_envelopes:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)  # polling the emulator's counters, not waiting for a guessed duration
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err.decode()
    assert "error: interrupted" in err.decode()
    assert "Apply interrupted" in out.decode()
    journal = work.outcomes()
    assert journal and {e["outcome"] for e in journal} <= {"applied", "already"}
    writes = work.stats()["writes"]
    assert len(journal) <= writes  # everything journaled was sent; nothing was sent after the stop
    # Every change applied was journaled as sent first.
    sent = {e["change"] for e in work.journal() if e["outcome"] == "sent"}
    assert {e["change"] for e in journal if e["outcome"] == "applied"} <= sent
    work.configure(latency_ms=0)
    assert work.cli("apply", "--auto-approve").exit_code == 0
    assert_converged(work)


def test_apply_with_read_permissions_only_fails_before_its_first_write_naming_them(
    tmp_path: Path, reset_emulator: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = make_workdir(tmp_path, reset_emulator, admin, monkeypatch, app="reader")
    result = work.cli("apply", "--auto-approve")
    assert result.exit_code == 1, result.output
    assert "error: missing permission: User.ReadWrite.All (to create users, e.g. c0001)" in result.stderr
    assert "nothing was written" in result.stderr
    assert work.stats()["writes"] == 0
