"""Running the `entraform` CLI in-process against the served emulator, as its reader or writer app."""

from __future__ import annotations

import json
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
class Workdir:
    """A folder with `entraform.yaml` for the served emulator and a copy of the demo `state/`."""

    path: Path
    info: dict[str, Any]
    admin: httpx.Client

    def cli(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, ["--config", str(self.path / "entraform.yaml"), *args], input=input)

    def stats(self) -> dict[str, Any]:
        reply = self.admin.get("stats")
        reply.raise_for_status()
        data: dict[str, Any] = reply.json()
        return data

    def configure(self, **settings: Any) -> None:
        self.admin.put("config", json=settings).raise_for_status()

    def journal(self) -> list[dict[str, Any]]:
        lines = (self.path / ".entraform" / "journal.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines]

    def outcomes(self) -> list[dict[str, Any]]:
        """The journal's final outcome lines (without the `sent` line each write leaves first)."""
        return [line for line in self.journal() if line["outcome"] != "sent"]

    def write_state(self, name: str, text: str) -> None:
        (self.path / "state" / name).write_text(text, encoding="utf-8")


def make_workdir(
    tmp_path: Path,
    info: dict[str, Any],
    admin: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    *,
    app: str = "admin",
    secret: str = "",
    extra: str = "",
) -> Workdir:
    """`app` is the emulator's "reader" (reads only), "writer" (no role writes) or "admin" (all of entraform's
    permissions, what the demo plan needs); `secret` overrides its secret."""
    shutil.copytree(REPO / "state", tmp_path / "state")
    creds = info["apps"][app]
    monkeypatch.setenv("EF_TEST_CLIENT_SECRET", secret or creds["client_secret"])
    (tmp_path / "entraform.yaml").write_text(
        f"tenant: {info['tenant_id']}\n"
        f"graph_url: {info['graph_url']}\n"
        f"authority: {info['authority']}\n"
        f"ca_bundle: {info['ca_bundle']}\n"
        "auth:\n"
        "  method: client_secret\n"
        f"  client_id: {creds['client_id']}\n"
        "  client_secret: ${EF_TEST_CLIENT_SECRET}\n"
        "state_dir: state\n" + extra
    )
    monkeypatch.chdir(tmp_path)
    return Workdir(tmp_path, info, admin)
