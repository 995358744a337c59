"""No secret in anything entraform writes (SPEC §4, §5): the demo end to end against the served emulator,
then every output, report, plan, journal and file under `.entraform/` scanned for the apps' client
secrets, bearer tokens, private keys and the initial passwords apply generated."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from workdir import Workdir, make_workdir

# A bearer token, whoever issued it: a JWT's header and payload, each base64url of JSON (so starting with
# `eyJ`, of `{"`), and a dot after each. A delta link's `$deltatoken` may start with `eyJ` too: no dots.
JWT = re.compile(r"eyJ[\w-]*\.eyJ[\w-]*\.")
WRONG_SECRET = "wrong-5ecret-a-user-typed"


def _run(work: Workdir, *args: str, verbose_process: bool = False) -> str:
    """Run the CLI and return all it printed; `verbose_process`: in a process of its own with -v, so a
    traceback is printed as a user would see it."""
    if verbose_process:
        entraform = str(Path(sys.executable).parent / "entraform")
        command = [entraform, "-v", "--config", "entraform.yaml", *args]
        proc = subprocess.run(
            command, cwd=work.path, capture_output=True, text=True, env=os.environ, check=False
        )
        return proc.stdout + proc.stderr
    result = work.cli("-v", *args)
    return result.stdout + result.stderr


def test_no_secret_reaches_any_output_or_file(
    tmp_path: Path,
    reset_emulator: dict[str, Any],
    admin: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    graph_http: Any,
) -> None:
    reader = make_workdir(tmp_path / "reader", reset_emulator, admin, monkeypatch, app="reader")
    outputs = [_run(reader, "apply", "--auto-approve", verbose_process=True)]  # refused writes, with -v
    work = make_workdir(tmp_path / "writer", reset_emulator, admin, monkeypatch)
    outputs += [
        _run(work, "validate"),
        _run(work, "plan"),
        _run(work, "plan", "--format", "markdown"),
        _run(work, "plan", "--format", "json", "--out", "plan.json"),
        _run(work, "apply", "plan.json", "--initial-passwords", "secrets/pw.csv"),
        _run(work, "plan", "--detailed-exitcode"),
        _run(work, "drift", "--format", "markdown", "--report", "drift.md"),
        _run(work, "import", "--out", "imported", "--with-ids"),
        _run(work, "apply", "plan.json"),  # refused: applied already
    ]
    work.write_state(
        "broken.yaml", "users:\n  - userPrincipalName: [ada]\n    passwordProfile: {password: x}\n"
    )
    outputs.append(_run(work, "plan", verbose_process=True))  # a validation error, with -v
    (work.path / "state" / "broken.yaml").unlink()
    monkeypatch.setenv("EF_TEST_CLIENT_SECRET", WRONG_SECRET)
    outputs.append(_run(work, "plan", verbose_process=True))  # a refused token, with -v

    rows = list(csv.reader((work.path / "secrets" / "pw.csv").open()))[1:]
    assert rows and all(len(password) >= 16 for _, password in rows)
    apps = reset_emulator["apps"]
    # A token from the emulator's token endpoint: the shape the scan looks for is the one it issues.
    assert JWT.match(graph_http("writer").headers["Authorization"].removeprefix("Bearer "))
    secrets = {
        "the writer's client secret": apps["writer"]["client_secret"],
        "the reader's client secret": apps["reader"]["client_secret"],
        "a wrong client secret": WRONG_SECRET,
        "a private key": "PRIVATE KEY",
        **{f"the initial password of {upn}": password for upn, password in rows},
    }
    written = {
        path: path.read_text(encoding="utf-8", errors="replace")
        for folder in (work.path, reader.path)
        for path in folder.rglob("*")
        if path.is_file() and path.name != "pw.csv" and "state" not in path.relative_to(folder).parts
    }
    assert work.path / ".entraform" / "journal.jsonl" in written
    assert {work.path / "plan.json", work.path / "drift.md", work.path / "imported" / "users.yaml"} <= set(
        written
    )
    places = {f"output {i}": text for i, text in enumerate(outputs)}
    places |= {path.relative_to(tmp_path).as_posix(): text for path, text in written.items()}
    leaks = [
        f"{what} in {place}" for place, text in places.items() for what, s in secrets.items() if s in text
    ]
    leaks += [f"a bearer token in {place}" for place, text in places.items() if JWT.search(text)]
    assert leaks == []
    assert all("Traceback" in outputs[i] for i in (0, -2, -1))  # -v printed them: the scan saw them
