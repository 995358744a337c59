"""The committed JSON Schemas in `schemas/` must match the models; `make schema` regenerates them."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from reconciler.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_committed_schemas_are_up_to_date(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["schema", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in ("state.schema.json", "config.schema.json"):
        committed = (REPO / "schemas" / name).read_text(encoding="utf-8")
        fresh = (tmp_path / name).read_text(encoding="utf-8")
        assert committed == fresh, f"schemas/{name} is out of date: run `make schema` and commit it"


def test_schemas_are_deterministic(tmp_path: Path) -> None:
    for out in ("one", "two"):
        assert CliRunner().invoke(main, ["schema", "--out", str(tmp_path / out)]).exit_code == 0
    for name in ("state.schema.json", "config.schema.json"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
