"""Running `entraform plan`/`drift` against the served emulator as the read-only "reader" app."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from reconciler.cli import main

REPO = Path(__file__).resolve().parents[2]


@dataclass
class ReaderDir:
    """A folder with `entraform.yaml` for the served emulator (reader app) and a copy of the demo `state/`."""

    path: Path
    info: dict[str, Any]
    admin: httpx.Client

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["--config", str(self.path / "entraform.yaml"), *args])

    def stats(self) -> dict[str, Any]:
        reply = self.admin.get("stats")
        reply.raise_for_status()
        data: dict[str, Any] = reply.json()
        return data

    def write_state(self, name: str, text: str) -> None:
        (self.path / "state" / name).write_text(text, encoding="utf-8")


def reader_dir(
    tmp_path: Path,
    info: dict[str, Any],
    admin: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    secret: str = "",
) -> ReaderDir:
    # The session's emulator may have been reseeded by another test: `reset` alone keeps that seed.
    admin.post("seed", json={"seed": "demo"}).raise_for_status()
    admin.post("stats/reset").raise_for_status()
    shutil.copytree(REPO / "state", tmp_path / "state")
    reader = info["apps"]["reader"]
    monkeypatch.setenv("EF_READER_SECRET", secret or reader["client_secret"])
    (tmp_path / "entraform.yaml").write_text(
        f"tenant: {info['tenant_id']}\n"
        f"graph_url: {info['graph_url']}\n"
        f"authority: {info['authority']}\n"
        f"ca_bundle: {info['ca_bundle']}\n"
        "auth:\n"
        "  method: client_secret\n"
        f"  client_id: {reader['client_id']}\n"
        "  client_secret: ${EF_READER_SECRET}\n"
        "state_dir: state\n"
    )
    monkeypatch.chdir(tmp_path)
    return ReaderDir(tmp_path, info, admin)
