"""`entraform import --from-csv FILE --map MAPPING.yaml`: an HR export merged into the desired-state YAML."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from textwrap import dedent

import pytest
from click.testing import CliRunner

from reconciler.cli import main

MAPPING = """\
key: employeeId
newUsers: people/new-hires.yaml
columns:
  Employee ID: employeeId
  Email: userPrincipalName
  Name: displayName
  Title: jobTitle
  Division: employeeOrgData.division
  Cost Center: employeeOrgData.costCenter
  Start: employeeHireDate
  Badge: onPremisesExtensionAttributes.extensionAttribute1
  Other Mails: otherMails
  Country: usageLocation
"""
HEADER = "Employee ID,Email,Name,Title,Division,Cost Center,Start,Badge,Other Mails,Country\n"
PEOPLE = """\
# The engineering team. Reviewed by @platform.
users:
  - userPrincipalName: ada@contoso.example   # the first engineer
    displayName: 'Ada Lovelace'
    jobTitle: Staff Engineer  # promoted 2025
    employeeId: "E1003"
    employeeOrgData:
      division: Research
      costCenter: CC-1
    otherMails:
      - ada@example.org
    usageLocation: GB

  - userPrincipalName: lee@contoso.example
    displayName: Lee Gu
    employeeId: "E1004"
    onPremisesExtensionAttributes: {extensionAttribute1: B-1}
"""


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "entraform.yaml").write_text("tenant: local\nstate_dir: state\n", encoding="utf-8")
    (tmp_path / "state" / "people").mkdir(parents=True)
    (tmp_path / "state" / "people" / "engineering.yaml").write_text(PEOPLE, encoding="utf-8")
    (tmp_path / "map.yaml").write_text(MAPPING, encoding="utf-8")
    return tmp_path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stderr


def _import(csv_text: str) -> tuple[int, str]:
    Path("hr.csv").write_text(csv_text, encoding="utf-8")
    return _run("import", "--from-csv", "hr.csv", "--map", "map.yaml")


def _git(*args: str) -> str:
    git = shutil.which("git")
    assert git is not None
    done = subprocess.run([git, *args], capture_output=True, text=True, check=True)
    return done.stdout


def _changed_lines() -> list[str]:
    """The `-`/`+` lines of `git diff` since the last commit, new files included."""
    _git("add", "-A")
    diff = _git("diff", "--cached", "-U0", "--no-color", "--", "state")
    return [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def _commit() -> None:
    _git("add", "-A")
    _git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "state")


def test_declared_users_are_updated_in_place_and_new_ones_added(work: Path) -> None:
    _git("init", "-q", ".")
    _commit()
    rows = (
        HEADER + "E1003,ada@contoso.example,Ada Lovelace,Principal Engineer,Research,CC-1,2019-04-01,,,GB\n"
        "E1004,lee@contoso.example,Lee Gu,,,,,B-2,lee@example.org;lee.gu@example.org,\n"
        "E9001,margaret@contoso.example,Margaret Hamilton,Engineer,Research,CC-7,2027-01-04,,,US\n"
    )
    code, err = _import(rows)
    assert code == 0, err
    assert err == (
        "Read 3 rows: 1 new user, 2 users updated (people/engineering.yaml, people/new-hires.yaml)\n"
    )
    # Only what the rows change: comments, quotes, order and the untouched keys stay as written.
    assert _changed_lines() == [
        "-    jobTitle: Staff Engineer  # promoted 2025",
        "+    jobTitle: Principal Engineer  # promoted 2025",
        '+    employeeHireDate: "2019-04-01T00:00:00Z"',
        "-    onPremisesExtensionAttributes: {extensionAttribute1: B-1}",
        "+    otherMails: [lee@example.org, lee.gu@example.org]",
        "+    onPremisesExtensionAttributes: {extensionAttribute1: B-2}",
        "+users:",
        "+- userPrincipalName: margaret@contoso.example",
        "+  displayName: Margaret Hamilton",
        "+  jobTitle: Engineer",
        "+  employeeId: E9001",
        "+  employeeHireDate: '2027-01-04T00:00:00Z'",
        "+  employeeOrgData:",
        "+    division: Research",
        "+    costCenter: CC-7",
        "+  usageLocation: US",
    ]
    assert _run("validate")[0] == 0


def test_a_rerun_with_changed_rows_rewrites_only_those_attributes(work: Path) -> None:
    first = (
        HEADER + "E1003,ada@contoso.example,Ada Lovelace,Staff Engineer,Research,CC-1,2019-04-01,,,GB\n"
        "E9001,margaret@contoso.example,Margaret Hamilton,Engineer,Research,CC-7,2027-01-04,,,US\n"
    )
    assert _import(first)[0] == 0
    _git("init", "-q", ".")
    _commit()
    assert _import(first) == (0, "Read 2 rows: 0 new users, 0 users updated (no file changed)\n")
    assert _changed_lines() == []
    changed = first.replace("CC-1,2019-04-01", "CC-2,2019-04-01").replace(
        "CC-7,2027-01-04", "CC-7,2027-02-01"
    )
    assert _import(changed)[0] == 0
    assert _changed_lines() == [
        "-      costCenter: CC-1",
        "+      costCenter: CC-2",
        "-  employeeHireDate: '2027-01-04T00:00:00Z'",
        '+  employeeHireDate: "2027-02-01T00:00:00Z"',
    ]
    assert _run("validate")[0] == 0


def test_a_bad_mapping_is_named_at_its_lines_and_nothing_is_written(work: Path) -> None:
    Path("map.yaml").write_text(
        dedent("""\
            key: email
            newUsers: ../elsewhere.yaml
            columns:
              Title: jobTitel
              Job: jobTitle
              Role: jobTitle
            extra: 1
            """),
        encoding="utf-8",
    )
    code, err = _import(HEADER)
    assert code == 1
    assert err.splitlines() == [
        "error: map.yaml:1:6: key: the attribute that matches a row to a declared user is "
        "userPrincipalName or employeeId, got 'email'",
        "error: map.yaml:2:11: newUsers: '../elsewhere.yaml' must be a .yaml file inside state_dir, written "
        "relative to it",
        "error: map.yaml:4:10: columns.Title: 'jobTitel' is no user attribute (did you mean 'jobTitle'?)",
        "error: map.yaml:6:9: columns.Role: jobTitle is already filled by line 5; map it once",
        "error: map.yaml:7:1: unknown key 'extra'; a mapping file holds `key:`, `newUsers:`, `delimiter:`, "
        "`columns:`",
    ]
    assert (work / "state" / "people" / "engineering.yaml").read_text() == PEOPLE


def test_bad_rows_are_named_at_their_line_and_column(work: Path) -> None:
    rows = (
        HEADER + "E1003,ada@contoso.example,Ada,Engineer,R,CC-1,2019-04-01,,,GB\n"
        "E1234567890123456,x@contoso.example,X,,,,,,,\n"
        "E1003,ada@contoso.example,Ada,,,,,,,\n"
        ",nobody@contoso.example,N,,,,,,,\n"
        "E77,bad upn@contoso.example,B,,,,,,,gb\n"
        "E78,short\n"
        'E79,"Hamilton, Margaret",margaret@contoso.example,,,,01/04/2019,,not mail,\n'
        'E80,"broken"quote,Q,,,,,,,\n'
    )
    code, err = _import(rows)
    assert code == 1
    assert err.splitlines() == [
        "error: hr.csv:3:1: column 'Employee ID': employeeId is 17 characters long; Graph allows at most 16",
        "error: hr.csv:4:1: employeeId E1003 is already on line 2; keep one row",
        "error: hr.csv:5:1: column 'Employee ID': the key, employeeId, is empty",
        "error: hr.csv:6:5: column 'Email': 'bad upn@contoso.example' contains ' '; Graph allows only "
        "A-Z a-z 0-9 ' . - _ ! # ^ ~ before the @",
        "error: hr.csv:6:37: column 'Country': usageLocation must be two capital letters "
        "(ISO 3166, e.g. US), got 'gb'; write GB",
        "error: hr.csv:7:1: this row has 2 cells, the header names 10 columns",
        "error: hr.csv:8:5: column 'Email': 'Hamilton, Margaret' is not a user principal name (name@domain)",
        "error: hr.csv:8:54: column 'Start': expected a date (2026-01-05) or a date and time with an offset "
        "(2026-01-05T00:00:00Z), got '01/04/2019'",
        "error: hr.csv:8:66: column 'Other Mails': 'not mail' is not a mail address (name@domain, without "
        "accents or spaces)",
        "error: hr.csv:9:1: not a CSV row: ',' expected after '\"'",
    ]
    assert not (work / "state" / "people" / "new-hires.yaml").exists()


def test_a_column_the_csv_lacks_is_named_in_the_mapping(work: Path) -> None:
    code, err = _import("Employee ID,Email\nE1,a@contoso.example\n")
    assert code == 1
    assert err.splitlines()[0] == (
        "error: map.yaml:6:3: column 'Name' is not in the header of hr.csv ('Employee ID', 'Email')"
    )


def test_a_new_user_needs_a_upn_that_no_one_else_declares(work: Path) -> None:
    code, err = _import(HEADER + "E9002,,N,,,,,,,\nE9003,ada@contoso.example,A,,,,,,,\n")
    assert code == 1
    assert err.splitlines() == [
        "error: hr.csv:2:1: employeeId E9002 matches no declared user, and a new user needs a "
        "userPrincipalName: map a column to it, or fill it in on this row",
        "error: hr.csv:3:1: employeeId E9003 matches no declared user, but ada@contoso.example is declared "
        "with another one; correct the row or the YAML",
    ]


@pytest.mark.parametrize(
    "args",
    [("--from-csv", "hr.csv"), ("--from-csv", "hr.csv", "--map", "map.yaml", "--out", "x")],
)
def test_from_csv_goes_with_map_and_without_the_tenant_options(work: Path, args: tuple[str, ...]) -> None:
    code, err = _run("import", *args)
    assert code == 1
    assert (
        err.startswith("error: --from-csv and --map go together") and "(try 'entraform import --help')" in err
    )
