"""`entraform show` and `report` against the served demo tenant (SPEC §1), with the read-only reader app.

Every answer is checked against the seed's own data (demo_facts); every command stays within a handful
of HTTP requests and sends reads only; without AuditLog.Read.All the commands still work and say once
that last sign-ins are unavailable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from demo_facts import DAY_S, demo
from workdir import Workdir, make_workdir

from reconciler.emulator.auth import READER_ROLES, AppRegistration

MAX_REQUESTS = 10
NO_SIGN_INS = "AuditLog.Read.All"  # named once, in the note, when the app lacks it


@pytest.fixture
def work(
    tmp_path: Path, reset_emulator: dict[str, Any], admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> Workdir:
    return make_workdir(tmp_path, reset_emulator, admin, monkeypatch, app="reader")


@pytest.fixture
def no_audit(
    tmp_path: Path,
    reset_emulator: dict[str, Any],
    admin: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    emulator_server: Any,
) -> Iterator[Workdir]:
    """The reader's permissions but AuditLog.Read.All."""
    roles = tuple(r for r in READER_ROLES if r != "AuditLog.Read.All")
    app = AppRegistration("no-audit", "00000000-0000-4000-8000-0000000a0d17", "no-audit-secret", roles)
    emulator_server.emulator.auth.apps["no-audit"] = app
    emulator_server.info["apps"]["no-audit"] = app.to_json()
    yield make_workdir(tmp_path, reset_emulator, admin, monkeypatch, app="no-audit")
    del emulator_server.emulator.auth.apps["no-audit"]
    del emulator_server.info["apps"]["no-audit"]


def run(work: Workdir, *args: str) -> str:
    """The command's stdout; it must succeed in a handful of requests, all of them reads."""
    work.admin.post("stats/reset").raise_for_status()
    result = work.cli(*args)
    assert result.exit_code == 0, result.output
    stats = work.stats()
    assert stats["http_requests"] <= MAX_REQUESTS, stats["by_route"]
    assert stats["writes"] == 0
    assert all(route.startswith("GET ") or route == "POST /$batch" for route in stats["by_route"])
    return result.stdout


def days_ago(iso: str | None) -> float | None:
    if iso is None:
        return None
    return (datetime.now(UTC) - datetime.fromisoformat(iso.replace("Z", "+00:00"))).total_seconds() / DAY_S


def line_of(path: Path, anchor: str, text: str) -> str:
    """`path:LINE:COL` of the first line holding `text` after the line holding `anchor`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(lines) if anchor in line)
    n = next(n for n in range(start, len(lines)) if text in lines[n])
    return f"{path}:{n + 1}:{lines[n].index(text.strip()) + 1}"


# ---- show user ------------------------------------------------------------------------------------

USERS = [
    "diego@contoso.example",  # a transitive group, a role through a group
    "lee@contoso.example",  # direct reports, a role through a group
    "lidia@contoso.example",  # a license through a group
    "kat@contoso.example",  # the longest manager chain
    "lynne@contoso.example",  # a role held directly; dormant
    "breakglass@contoso.example",  # never signed in, a role, nothing else
]


@pytest.mark.parametrize("upn", USERS)
def test_show_user_answers_as_the_seed_says(work: Workdir, upn: str) -> None:
    facts = demo()
    shown = json.loads(run(work, "show", "user", upn, "--format", "json"))
    assert (shown["kind"], shown["key"]) == ("user", upn)
    assert shown["managers"] == facts.manager_chain(upn)
    assert shown["direct_reports"] == facts.direct_reports(upn)
    assert {g["nickname"]: tuple(g["path"]) for g in shown["groups"]} == facts.group_paths(upn)
    assert {(lic["sku"], lic["via"]) for lic in shown["licenses"]} == facts.licenses(upn)
    assert {(r["role"], r["via"]) for r in shown["roles"]} == facts.roles_of(upn)
    since = facts.days_since_sign_in(upn)
    seen = days_ago(shown["last_sign_in"])
    assert (seen is None) == (since is None) and shown["sign_in_readable"] is True
    if seen is not None and since is not None:
        assert since <= seen < since + 1
    assert shown["notes"] == []


def test_show_user_text_marks_what_git_disagrees_with(work: Workdir) -> None:
    out = run(work, "show", "user", "ben@contoso.example")
    lines = out.splitlines()
    assert lines[0].startswith("user ben@contoso.example (id ") and lines[0].endswith("; declared in YAML)")
    # demo_tenant.py difference 3: ben@ moved to Marketing in git, still Sales in the tenant.
    (department,) = [line for line in lines if line.lstrip().startswith("department ")]
    assert department.split() == ["department", '"Sales"', "≠", "git:", '"Marketing"']
    assert sum("≠ git" in line for line in lines) == 1
    assert "manager chain: allan@contoso.example → patti@contoso.example" in lines
    assert "direct reports: 0" in lines
    assert "  grp-marketing  (direct)" in lines
    assert "  SPE_E5  (direct; disabledPlans: MCOEV)" in lines
    assert any(line.startswith("last sign-in: 20") for line in lines)


def test_show_user_text_names_the_path_and_the_group_of_a_role(work: Workdir) -> None:
    lines = run(work, "show", "user", "diego@contoso.example").splitlines()
    assert "  grp-engineering  (via grp-platform → grp-engineering)" in lines
    assert "  Helpdesk Administrator  (via group grp-helpdesk-admins)" in lines


def test_show_user_who_never_signed_in(work: Workdir) -> None:
    assert "last sign-in: never" in run(work, "show", "user", "miguel@contoso.example").splitlines()


def test_show_of_an_unknown_user_is_one_error(work: Workdir) -> None:
    result = work.cli("show", "user", "nobody@contoso.example")
    assert result.exit_code == 1
    assert result.stderr == "error: show user nobody@contoso.example: the tenant has no such user\n"


# ---- show group -----------------------------------------------------------------------------------


@pytest.mark.parametrize("nickname", ["grp-engineering", "grp-lic-ems", "grp-entra-admins", "grp-platform"])
def test_show_group_json_answers_as_the_seed_says(work: Workdir, nickname: str) -> None:
    facts = demo()
    shown = json.loads(run(work, "show", "group", nickname, "--format", "json"))
    group = facts.groups[nickname]
    assert (shown["kind"], shown["key"], shown["declared"]) == ("group", nickname, True)
    assert shown["owners"] == sorted(group.get("owners") or [])
    direct = [m if m in facts.users else f"group:{m}" for m in facts.members(nickname)]
    assert shown["members"] == sorted(direct)
    nested = [f"group:{m}" for m in facts.members(nickname) if m in facts.groups]
    assert set(shown["transitive_members"]) == facts.transitive_users(nickname) | set(nested)
    assert {g["nickname"] for g in shown["groups"]} == facts.direct_groups(nickname)
    assert {lic["sku"] for lic in shown["licenses"]} == facts.licenses_of_group(nickname)
    assert {r["role"] for r in shown["roles"]} == {role for role, p in facts.roles if p == nickname}


def test_show_group_json_names_the_disabled_plans(work: Workdir) -> None:
    shown = json.loads(run(work, "show", "group", "grp-lic-ems", "--format", "json"))
    assert shown["licenses"] == [{"sku": "EMSPREMIUM", "via": None, "disabled_plans": ["ATA"]}]


# ---- report licenses ------------------------------------------------------------------------------


def expected_reclaimable(work: Workdir, days: int = 90) -> dict[tuple[str, str], str | None]:
    """(UPN, SKU) -> the place of the YAML edit that frees the seat, for every seat on an inactive user."""
    facts = demo()
    found: dict[tuple[str, str], str | None] = {}
    state = work.path / "state"
    for upn in facts.users:
        if not facts.inactive(upn, days):
            continue
        for sku, via in facts.licenses(upn):
            if via is None:
                people = next(p for p in sorted((state / "people").glob("*.yaml")) if upn in p.read_text())
                found[(upn, sku)] = line_of(people, f"userPrincipalName: {upn}", f"sku: {sku}")
            else:
                found[(upn, sku)] = line_of(state / "groups.yaml", f"mailNickname: {via}", f" {upn}")
    return found


def test_report_licenses_json_counts_every_seat_as_the_seed_says(work: Workdir) -> None:
    facts = demo()
    report = json.loads(run(work, "report", "licenses", "--format", "json"))
    held = {upn: facts.licenses(upn) for upn in facts.users}
    for line in report["skus"]:
        sku = line["part_number"]
        holders = {upn for upn, lics in held.items() if any(name == sku for name, _ in lics)}
        direct = {upn for upn in holders if (sku, None) in held[upn]}
        assert (line["enabled"], line["consumed"], line["free"]) == (25, len(holders), 25 - len(holders))
        assert (line["direct"], line["via_group"]) == (len(direct), len(holders - direct))
        assert line["on_disabled"] == 0  # nobody in the demo is disabled (the leaver still can sign in)
        assert line["on_inactive"] == sum(1 for upn in holders if facts.inactive(upn, 90))
    assert {s["part_number"] for s in report["skus"]} == {"ENTERPRISEPACK", "SPE_E5", "EMSPREMIUM"}
    reclaim = {(r["user"], r["sku"]): r for r in report["reclaimable"]}
    expected = expected_reclaimable(work)
    assert {key: r["location"] for key, r in reclaim.items()} == expected and len(expected) == 6
    miguel = reclaim[("miguel@contoso.example", "ENTERPRISEPACK")]
    assert (miguel["reason"], miguel["last_sign_in"], miguel["direct"]) == ("never signed in", None, True)
    assert miguel["edit"] == "remove `sku: ENTERPRISEPACK` from the licenses: of miguel@contoso.example"
    via_group = reclaim[("henrietta@contoso.example", "EMSPREMIUM")]
    assert via_group["edit"] == "remove henrietta@contoso.example from the members: of grp-lic-ems"
    assert via_group["reason"] == "no sign-in for 90+ days" and not via_group["direct"]
    assert report["notes"] == []


def test_report_licenses_inactive_days_moves_the_line(work: Workdir) -> None:
    # jordan@ last signed in 30 days before seeding (demo data): inactive at 30 days, not at 31.
    at_30 = json.loads(run(work, "report", "licenses", "--format", "json", "--inactive-days", "30"))
    at_31 = json.loads(run(work, "report", "licenses", "--format", "json", "--inactive-days", "31"))
    assert {(r["user"], r["sku"]) for r in at_30["reclaimable"]} == set(expected_reclaimable(work, 30))
    assert {(r["user"], r["sku"]) for r in at_31["reclaimable"]} == set(expected_reclaimable(work, 31))
    assert any(r["user"] == "jordan@contoso.example" for r in at_30["reclaimable"])
    assert all(r["user"] != "jordan@contoso.example" for r in at_31["reclaimable"])


def test_report_licenses_markdown_is_made_for_an_issue(work: Workdir) -> None:
    out = run(work, "report", "licenses", "--format", "markdown")
    lines = out.splitlines()
    assert lines[:3] == [
        "### entraform license report",
        "",
        "| SKU | enabled | consumed | free | direct | via group | on disabled | on inactive |",
    ]
    assert "| SPE_E5 | 25 | 17 | 8 | 17 | 0 | 0 | 2 |" in lines
    assert "| EMSPREMIUM | 25 | 19 | 6 | 0 | 19 | 0 | 2 |" in lines
    assert "**6 reclaimable seats** (disabled, or no sign-in for 90 days)" in lines
    expected = expected_reclaimable(work)
    tomas = expected[("tomas@contoso.example", "SPE_E5")]
    assert any(
        line.startswith("- SPE_E5 on tomas@contoso.example (no sign-in for 90+ days, last sign-in 20")
        and line.endswith(f"): {tomas}: remove `sku: SPE_E5` from the licenses: of tomas@contoso.example")
        for line in lines
    )


def test_a_disabled_account_frees_its_seats(work: Workdir, graph_http: Any) -> None:
    writer = graph_http("writer")
    assert writer.patch("users/ada@contoso.example", json={"accountEnabled": False}).status_code == 204
    report = json.loads(run(work, "report", "licenses", "--format", "json"))
    ada = {r["sku"]: r for r in report["reclaimable"] if r["user"] == "ada@contoso.example"}
    assert set(ada) == {sku for sku, _ in demo().licenses("ada@contoso.example")}
    assert all(r["reason"] == "disabled account" for r in ada.values())
    by_sku = {s["part_number"]: s for s in report["skus"]}
    assert by_sku["ENTERPRISEPACK"]["on_disabled"] == by_sku["EMSPREMIUM"]["on_disabled"] == 1


# ---- report access --------------------------------------------------------------------------------


def test_report_access_json_lists_every_holder_as_the_seed_says(work: Workdir) -> None:
    facts = demo()
    report = json.loads(run(work, "report", "access", "--format", "json"))
    found = {(r["role"], h["principal"], h["via"]) for r in report["roles"] for h in r["holders"]}
    expected: set[tuple[str, str, str | None]] = set()
    for role, principal in facts.roles:
        if principal in facts.groups:
            expected.add((role, f"group:{principal}", None))
            expected |= {(role, m, f"group:{principal}") for m in facts.members(principal)}
        else:
            expected.add((role, principal, None))
    assert found == expected
    undeclared = {
        (r["role"], h["principal"]) for r in report["roles"] for h in r["holders"] if not h["declared"]
    }
    # demo_tenant.py difference 7: lynne@ was made User Administrator by hand.
    assert undeclared == {("User Administrator", "lynne@contoso.example")}
    for holder in (h for r in report["roles"] for h in r["holders"] if h["kind"] == "user"):
        since = facts.days_since_sign_in(holder["principal"])
        seen = days_ago(holder["last_sign_in"])
        assert (seen is None) == (since is None)
        if seen is not None and since is not None:
            assert since <= seen < since + 1
    assert report["notes"] == []


def test_report_access_text_and_markdown(work: Workdir) -> None:
    text = run(work, "report", "access").splitlines()
    assert text[0].split() == ["role", "holder", "how", "last", "sign-in", "in", "YAML"]
    (lynne,) = [line for line in text if "lynne@contoso.example" in line]
    assert lynne.split()[:4] == ["User", "Administrator", "lynne@contoso.example", "direct"]
    assert lynne.split()[-1] == "NO"
    (breakglass,) = [line for line in text if "breakglass@" in line]
    assert breakglass.split()[-2:] == ["never", "yes"]
    assert text[-1] == "3 roles held; 1 holder not declared in YAML."
    markdown = run(work, "report", "access", "--format", "markdown").splitlines()
    assert markdown[:3] == [
        "### entraform access report",
        "",
        "**3 roles held; 1 holder not declared in YAML.**",
    ]


# ---- without AuditLog.Read.All ----------------------------------------------------------------------


def test_show_user_without_audit_log_read_all_says_so_once(no_audit: Workdir) -> None:
    out = run(no_audit, "show", "user", "diego@contoso.example")
    assert out.count(NO_SIGN_INS) == 1 and out.startswith("note: last sign-ins are unavailable")
    assert "last sign-in" not in out.split("\n", 1)[1]
    shown = json.loads(run(no_audit, "show", "user", "diego@contoso.example", "--format", "json"))
    assert shown["last_sign_in"] is None and shown["sign_in_readable"] is False
    assert len(shown["notes"]) == 1 and NO_SIGN_INS in shown["notes"][0]
    assert shown["managers"] == demo().manager_chain("diego@contoso.example")


def test_report_licenses_without_audit_log_read_all_says_so_once(no_audit: Workdir) -> None:
    out = run(no_audit, "report", "licenses", "--format", "markdown")
    assert out.count("last sign-ins are unavailable") == 1
    report = json.loads(run(no_audit, "report", "licenses", "--format", "json"))
    assert len(report["notes"]) == 1 and all(s["on_inactive"] == 0 for s in report["skus"])
    assert report["reclaimable"] == []  # nobody is disabled; inactivity cannot be told
    assert {s["consumed"] for s in report["skus"]} == {19, 17}


def test_report_access_without_audit_log_read_all_says_so_once(no_audit: Workdir) -> None:
    out = run(no_audit, "report", "access")
    assert out.count(NO_SIGN_INS) == 1
    assert out.splitlines()[1].split() == ["role", "holder", "how", "in", "YAML"]
    report = json.loads(run(no_audit, "report", "access", "--format", "json"))
    assert len(report["notes"]) == 1
    assert all(h["last_sign_in"] is None for r in report["roles"] for h in r["holders"])


# ---- the blast radius of a nested group ---------------------------------------------------------------


def test_a_nested_group_in_the_demo_yaml_shows_who_it_brings_in(work: Workdir) -> None:
    facts = demo()
    groups = work.path / "state" / "groups.yaml"
    text = groups.read_text(encoding="utf-8")
    nested = "      - group: grp-platform\n"
    assert nested in text
    groups.write_text(text.replace(nested, nested + "      - group: grp-marketing\n", 1), encoding="utf-8")
    work.admin.post("stats/reset").raise_for_status()
    result = work.cli("plan", "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    (change,) = [
        c for c in plan["changes"] if c["action"] == "add_member" and c["member"] == "group:grp-marketing"
    ]
    assert change["group"] == "grp-engineering"
    (effect,) = [m for m in plan["effects"]["members"] if m["change"] == change["id"]]
    newcomers = facts.transitive_users("grp-marketing") - facts.transitive_users("grp-engineering")
    assert effect["group"] == "grp-engineering" and set(effect["gained"]) == newcomers
    assert effect["lost"] == [] and len(newcomers) == 5
    text_plan = work.cli("plan").stdout
    assert f"+5 users join grp-engineering ({', '.join(sorted(newcomers))})" in text_plan
