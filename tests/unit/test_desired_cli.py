"""`entraform validate` and `entraform schema` through click, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import main

REPO = Path(__file__).resolve().parents[2]


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_validate_the_shipped_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == "state/ is valid: 40 users, 12 groups, 70 memberships, 38 licenses, 3 directory roles in 8 files\n"
    )
    assert result.stderr == ""


def test_validate_quiet_prints_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(main, ["-q", "validate"])
    assert (result.exit_code, result.stdout) == (0, "")


def test_validate_reports_every_problem_and_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "state/a.yaml", "users:\n  - userPrincipalName: a@contoso.example\n    jobTitel: x\n")
    write(tmp_path, "state/b.yaml", "groups:\n  - mailNickname: grp-a\n    members: [{group: grp-a}]\n")
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: state/a.yaml:3:5: users[0]: unknown key 'jobTitel' (did you mean 'jobTitle'?)",
        "error: state/b.yaml:3:15: grp-a cannot be a member of itself",
    ]


def test_validate_uses_state_dir_of_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "infra/entraform.yaml", "state_dir: desired\n")
    write(tmp_path, "infra/desired/a.yaml", "users:\n  - userPrincipalName: a@contoso.example\n")
    result = CliRunner().invoke(main, ["--config", "infra/entraform.yaml", "validate"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "infra/desired/ is valid: 1 user, 0 groups, 0 memberships, 0 licenses in 1 file\n"


def test_validate_with_a_broken_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "entraform.yaml", "state_dri: state\n")
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: entraform.yaml:1:1: ")


def test_schema_writes_both_schemas(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["schema", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["config.schema.json", "state.schema.json"]
    state = json.loads((tmp_path / "out" / "state.schema.json").read_text(encoding="utf-8"))
    assert set(state["properties"]) == {"users", "groups", "roles"}
    config = json.loads((tmp_path / "out" / "config.schema.json").read_text(encoding="utf-8"))
    assert "base_dir" not in config["properties"]
    assert "state_dir" in config["properties"]


@pytest.mark.parametrize(
    ("setup", "args", "expected"),
    [
        (
            lambda p: (p / "cfg").mkdir(),
            ["--config", "cfg", "validate"],
            "error: cfg: cannot read the config file: it is a directory, not a file",
        ),
        (lambda p: None, ["--config", "nope.yaml", "plan"], "error: nope.yaml: no such config file"),
        (
            lambda p: (p / "entraform.yaml").write_bytes(b"tenant: \xff\n"),
            ["validate"],
            "error: entraform.yaml:1:9: not UTF-8 text (byte 0xff); save the config file as UTF-8",
        ),
        (
            lambda p: (p / "out").write_text("x"),
            ["schema", "--out", "out"],
            "error: out: cannot create the directory: it exists and is a file",
        ),
    ],
    ids=["config is a directory", "config missing", "config not UTF-8", "schema --out is a file"],
)
def test_a_bad_path_is_one_error_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: Any, args: list[str], expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    setup(tmp_path)
    result = CliRunner().invoke(main, args)
    assert (result.exit_code, result.stderr.splitlines()) == (1, [expected])
