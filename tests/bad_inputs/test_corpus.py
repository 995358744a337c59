"""The bad-input corpus: every folder beside this file is one input entraform must refuse (README.md).

Each case runs in a fresh folder holding copies of its files, against the session's served emulator,
and must exit 1 with exactly the lines of its `expected.txt` on stderr (so: no traceback, every
`FILE:LINE:COL`), nothing on stdout, and no write to Graph; `validate` must not call Graph at all.
Cases run in-process through click's CliRunner, except those with a `limits.txt`, which run in a
process of their own bounded in time and memory, so that a regression cannot hang or swamp the suite.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.plan import planfile

CORPUS = Path(__file__).parent
CASES = sorted(path.name for path in CORPUS.iterdir() if (path / "expected.txt").is_file())
SECRET_VARIABLE = "EF_TEST_CLIENT_SECRET"  # the writer app's secret, as `${EF_TEST_CLIENT_SECRET}`
WRONG_SECRET_VARIABLE = "EF_TEST_WRONG_SECRET"  # a secret the emulator refuses
# The case's own files that describe the run rather than being read by it.
_CASE_FILES = {"args.txt", "expected.txt", "limits.txt"}
# Runs the CLI under an address-space limit (the first argument, in bytes) in a process of its own.
_BOUNDED = (
    "import resource, sys; limit = int(sys.argv.pop(1)); "
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit)); sys.argv[0] = 'entraform'; "
    "from reconciler.cli import main; main()"
)


def _huge_state(workdir: Path) -> None:
    """20,000 valid users (2.6 MB) and one wrong value at the very end: reported at its line, quickly."""
    lines = ["users:"]
    for i in range(20_000):
        lines += [
            f"  - userPrincipalName: user{i:05d}@contoso.example",
            f"    displayName: User {i}",
            "    department: Engineering",
            "    usageLocation: GB",
        ]
    lines.append("    accountEnabled: maybe")
    (workdir / "state").mkdir()
    (workdir / "state" / "huge.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


# Inputs too large to keep in git, written by code when the case is laid out.
GENERATED: dict[str, Callable[[Path], None]] = {"yaml-huge-file": _huge_state}


def _placeholders(info: dict[str, Any], workdir: Path) -> dict[str, str]:
    """`{{name}}` in any file of a case stands for the value of the emulator or workdir here."""
    values = {
        "tenant_id": info["tenant_id"],
        "graph_url": info["graph_url"],
        "authority": info["authority"],
        "ca_bundle": info["ca_bundle"],
        "reader_client_id": info["apps"]["reader"]["client_id"],
        "writer_client_id": info["apps"]["writer"]["client_id"],
        "workdir": workdir.resolve().as_posix(),
        "host": socket.gethostname(),
    }
    # The config of a case without an entraform.yaml; a case's own may start with it, too.
    values["emulator_config"] = (
        f"tenant: {values['tenant_id']}\n"
        f"graph_url: {values['graph_url']}\n"
        f"authority: {values['authority']}\n"
        f"ca_bundle: {values['ca_bundle']}\n"
        "auth:\n"
        "  method: client_secret\n"
        f"  client_id: {values['writer_client_id']}\n"
        f"  client_secret: ${{{SECRET_VARIABLE}}}\n"
        "state_dir: state"
    )
    return values


def _substitute(data: bytes, values: dict[str, str]) -> bytes:
    for name, value in values.items():
        data = data.replace(b"{{" + name.encode() + b"}}", value.encode())
    if b'"{{summary}}"' in data:
        data = _with_summary(data)
    return data


def _with_summary(data: bytes) -> bytes:
    """A plan file's `"summary": "{{summary}}"` made the true count per action of its own changes, so that
    a case about something else stays valid when the plan format gains actions."""
    plan = json.loads(data)
    counts = Counter(change["action"] for change in plan["changes"])
    plan["summary"] = {action: counts[action] for action in planfile.ACTIONS}
    return (json.dumps(plan, indent=2, ensure_ascii=False) + "\n").encode()


@dataclass(frozen=True)
class Case:
    name: str
    args: list[str]
    expected: str
    limits: dict[str, int]

    @staticmethod
    def lay_out(name: str, workdir: Path, values: dict[str, str]) -> Case:
        """Copy the case's files into `workdir` (links stay links, bytes stay bytes) and read the rest."""
        folder = CORPUS / name
        for source in sorted(folder.rglob("*")):
            relative = source.relative_to(folder)
            target = workdir / _substitute(relative.as_posix().encode(), values).decode()
            if relative.as_posix() in _CASE_FILES:
                continue
            if source.is_symlink():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(os.readlink(source))
            elif source.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(_substitute(source.read_bytes(), values))
        if name in GENERATED:
            GENERATED[name](workdir)
        if not (workdir / "entraform.yaml").exists():
            (workdir / "entraform.yaml").write_text(values["emulator_config"] + "\n", encoding="utf-8")

        def text(file: str, default: str = "") -> str:
            path = folder / file
            return _substitute(path.read_bytes(), values).decode() if path.exists() else default

        written = [line for line in text("args.txt", "validate").splitlines() if not line.startswith("#")]
        limits = {
            key: int(value) for key, value in (line.split() for line in text("limits.txt").splitlines())
        }
        return Case(name, shlex.split(" ".join(written)), text("expected.txt"), limits)

    def run(self, workdir: Path) -> tuple[int, str, str]:
        if not self.limits:
            result = CliRunner().invoke(main, self.args)
            return result.exit_code, result.stdout, result.stderr
        memory = str(self.limits["memory_mib"] << 20)
        proc = subprocess.run(
            [sys.executable, "-c", _BOUNDED, memory, *self.args],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=self.limits["timeout_s"],
            check=False,
        )
        return proc.returncode, proc.stdout, proc.stderr


def test_the_corpus_has_its_cases() -> None:
    assert len(CASES) >= 60, CASES
    strays = [p.name for p in CORPUS.iterdir() if p.is_dir() and p.name not in CASES and p.name[0] != "_"]
    assert strays == [], "a case folder without expected.txt is never run"


@pytest.mark.parametrize("name", CASES)
def test_bad_input(
    name: str,
    tmp_path: Path,
    reset_emulator: dict[str, Any],
    admin: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SECRET_VARIABLE, reset_emulator["apps"]["writer"]["client_secret"])
    monkeypatch.setenv(WRONG_SECRET_VARIABLE, "not-the-secret")
    monkeypatch.chdir(tmp_path)
    case = Case.lay_out(name, tmp_path, _placeholders(reset_emulator, tmp_path))
    code, stdout, stderr = case.run(tmp_path)
    assert stderr == case.expected
    assert (code, stdout) == (1, "")
    stats = admin.get("stats").json()
    assert stats["writes"] == 0
    if "validate" in case.args:
        assert stats["requests"] == 0, "validate calls no Graph API"


def test_a_case_is_laid_out_byte_for_byte(tmp_path: Path) -> None:
    """The runner itself: placeholders are substituted, every other byte (a Latin-1 é) kept as it is."""
    assert _substitute(b"\xef\xbb\xbftenant: {{tenant_id}} \xe9", {"tenant_id": "t-1"}) == (
        b"\xef\xbb\xbftenant: t-1 \xe9"
    )
    Case.lay_out("yaml-not-utf8", tmp_path, {"emulator_config": "state_dir: state"})
    source = CORPUS / "yaml-not-utf8" / "state" / "people.yaml"
    assert (tmp_path / "state" / "people.yaml").read_bytes() == source.read_bytes()
    assert (tmp_path / "entraform.yaml").read_text() == "state_dir: state\n"
