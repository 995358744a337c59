"""Faults, each against an emulator served in a process of its own and an apply of ~100 writes run as
`entraform apply` in another: 429 storms with Retry-After, 503 bursts, replication lag of seconds,
connections reset after the write was applied, a token that expires mid-apply, and SIGKILL at seeded
points. After each: applying again converges (the final plan is empty), nothing outside the plan was
touched, and the journal accounts for every write that reached the tenant (faultrun.check)."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from faultrun import (
    ENTRAFORM,
    MAX_RUNS,
    Measured,
    Served,
    check,
    planned_keys,
    seed_tenant,
    serve,
    snapshot,
    write_state,
)
from workdir import Workdir, make_workdir

WRITE_STEPS = "^(POST|PATCH|PUT|DELETE) /(users|groups)"
BATCH = r"^POST /\$batch$"
SIGKILL_SCENARIO = "SIGKILL at seeded points"
SIGKILL_POINTS = 3  # kills per SIGKILL scenario, each at a seeded number of writes into an apply
LAG_RERUN_SCENARIO = "apply rerun during a 4 s lag"

# What a scenario does while its first apply runs, given the emulator and the apply's process; returns how
# many faults it caused itself (kills, a clock jump).
During = Callable[[Served, "subprocess.Popen[bytes]"], int]


@dataclass(frozen=True)
class Scenario:
    name: str
    config: dict[str, Any] = field(default_factory=dict)  # emulator config for the faulted apply
    during: During | None = None
    settle_s: float = 0.0  # emulated seconds the clock moves on after the faulted apply (lag)
    # A change whose answers are all lost is given up after a few sends (the retry policy's limit for no
    # answer): the apply may then exit 1 naming it, and the rerun converges.
    may_give_up: bool = False


def wait_for_writes(
    served: Served, apply: subprocess.Popen[bytes], writes: int, counter: str = "writes"
) -> bool:
    """Poll the emulator's `counter` until it reaches `writes`; False when the apply ended first."""
    deadline = time.monotonic() + 120
    while served.stats()[counter] < writes:
        if apply.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.01)  # polling the emulator's counter, not waiting for a guessed duration
    return True


def expire_token(served: Served, apply: subprocess.Popen[bytes]) -> int:
    """Thirty writes in, the emulator's clock moves past the token's lifetime (3,599 s): the token the apply
    holds is expired for Graph while the client still thinks it good (clock skew, or a long apply)."""
    if not wait_for_writes(served, apply, served.stats()["writes"] + 30):
        raise AssertionError("the apply ended before its token could expire")
    served.configure(clock_offset_s=3700)
    return 1


def burst_of_503s(served: Served, apply: subprocess.Popen[bytes]) -> int:
    """Ten writes in, every write step is refused (503, no Retry-After) until 40 have been; then the
    service comes back to its usual rate of failures."""
    if not wait_for_writes(served, apply, served.stats()["writes"] + 10):
        raise AssertionError("the apply ended before the burst")
    usual = served.admin.get("config").json()["faults"]
    served.configure(faults=[{"route": WRITE_STEPS, "status": 503, "rate": 1.0}, *usual])
    reached = wait_for_writes(served, apply, served.stats()["faults"] + 40, counter="faults")
    served.configure(faults=usual)
    assert reached, "the apply ended during the burst"
    return 0


SCENARIOS = [
    Scenario(
        "429 storm with Retry-After",
        {"faults": [{"route": WRITE_STEPS, "status": 429, "rate": 0.5, "retry_after": 1}]},
    ),
    Scenario(
        "503 bursts",
        {
            "faults": [
                {"route": BATCH, "status": 503, "rate": 0.2, "retry_after": 1},
                {"route": WRITE_STEPS, "status": 503, "rate": 0.2},  # no Retry-After: backoff
            ]
        },
        during=burst_of_503s,
    ),
    Scenario("replication lag of 4 s", {"lag_ms": 4000}, settle_s=10),
    Scenario(
        "connection reset after the write",
        # A dropped answer is resent up to 4 times: at 0.15 an envelope loses every answer 1 time in 2,000.
        {"faults": [{"route": BATCH, "kind": "reset", "rate": 0.35}]},
        may_give_up=True,
    ),
    Scenario("token expired mid-apply", during=expire_token),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("served"))


def start_apply(work: Workdir) -> subprocess.Popen[bytes]:
    command = [ENTRAFORM, "--config", "entraform.yaml", "apply", "--auto-approve"]
    return subprocess.Popen(command, cwd=work.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def prepare(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rng_seed: int
) -> tuple[Workdir, dict[str, Any], set[str]]:
    """The tenant seeded, the desired state written; the plan's named objects and the tenant before."""
    seed_tenant(served, rng_seed)
    # Retitling 10 of the 12 users is over the default update fraction: this plan is meant as it is.
    safety = "safety:\n  max_update_fraction: 1.0\n"
    work = make_workdir(tmp_path, served.info, served.admin, monkeypatch, app="writer", extra=safety)
    write_state(work.path)
    planned = work.cli("plan", "--out", "plan.json")
    assert planned.exit_code == 0, planned.output
    plan = json.loads((work.path / "plan.json").read_text())
    return work, plan, planned_keys(plan)


def converge(served: Served, work: Workdir, named: set[str], measured: Measured) -> None:
    """Apply again (no faults) until the plan is empty; every later plan may only name planned objects."""
    while True:
        final = work.cli("plan", "--detailed-exitcode", "--out", "again.json")
        if final.exit_code == 0:
            return
        assert final.exit_code == 2, final.output
        again = json.loads((work.path / "again.json").read_text())
        assert planned_keys(again) <= named, planned_keys(again) - named
        assert measured.runs < MAX_RUNS, f"no convergence after {measured.runs} applies: {final.output}"
        measured.runs += 1
        result = work.cli("apply", "again.json")
        assert result.exit_code in (0, 1), result.output


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_apply_under_a_fault_converges_touches_nothing_else_and_journals_every_write(
    scenario: Scenario, served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work, plan, named = prepare(served, tmp_path, monkeypatch, SCENARIOS.index(scenario) + 7)
    before = snapshot(served)
    measured = Measured(scenario.name, planned_changes=len(plan["changes"]))
    served.admin.post("stats/reset").raise_for_status()
    served.configure(**scenario.config)
    apply = start_apply(work)
    caused = scenario.during(served, apply) if scenario.during else 0
    out, err = apply.communicate(timeout=300)
    assert apply.returncode in (0, 1), err.decode()
    assert "Traceback" not in err.decode() and "Apply complete" in out.decode(), err.decode()
    if scenario.may_give_up and apply.returncode == 1:
        failed = [line for line in err.decode().splitlines() if line.startswith("error: c")]
        assert failed and all("NoResponse" in line for line in failed), err.decode()
    else:
        assert apply.returncode == 0, out.decode() + err.decode()
    stats = served.stats()
    measured.runs = 1
    measured.faults_injected = caused + stats["faults"]
    # The storm passes; the clock moves on past any lag, never back (a token scenario moved it on).
    offset = served.admin.get("config").json()["clock_offset_s"]
    served.configure(faults=[], lag_ms=0, clock_offset_s=offset + scenario.settle_s)
    converge(served, work, named, measured)
    measured.extra = {"first_apply_exit": apply.returncode, "token_requests": stats["token_requests"]}
    check(served, work.path, before, named, measured)


def test_sigkill_at_seeded_points_of_an_apply_then_a_rerun_converges(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work, plan, named = prepare(served, tmp_path, monkeypatch, 41)
    before = snapshot(served)
    measured = Measured(SIGKILL_SCENARIO, planned_changes=len(plan["changes"]))
    rng = random.Random(13)
    lock = work.path / ".entraform" / f"apply-{served.info['tenant_id']}.lock"
    # Each round trip takes a while, so that a kill lands among writes rather than after the last one.
    served.configure(latency_ms=60)
    kills = []
    for _ in range(SIGKILL_POINTS):
        apply = start_apply(work)
        point = served.stats()["writes"] + rng.randint(1, 10)
        if wait_for_writes(served, apply, point):
            apply.send_signal(signal.SIGKILL)
            kills.append(point)
        apply.communicate(timeout=300)
        measured.runs += 1
        if lock.exists():
            # A killed apply leaves its lock; the next one refuses to take it over and says how to clear it.
            refused = work.cli("apply", "--auto-approve")
            assert refused.exit_code == 1
            assert "the apply lock is stale" in refused.stderr and f"rm {lock.as_posix()}" in refused.stderr
            lock.unlink()
    assert len(kills) == SIGKILL_POINTS, f"the applies ended before their kill points: killed at {kills}"
    measured.faults_injected = len(kills)
    served.configure(latency_ms=0)
    converge(served, work, named, measured)
    measured.extra = {"killed_at_writes": kills}
    check(served, work.path, before, named, measured)


def test_an_apply_rerun_while_the_last_one_replicates_makes_nothing_twice(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work, plan, named = prepare(served, tmp_path, monkeypatch, 53)
    before = snapshot(served)
    measured = Measured(LAG_RERUN_SCENARIO, planned_changes=len(plan["changes"]))
    served.configure(lag_ms=4000)
    first = start_apply(work)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, out.decode() + err.decode()
    # At once, as a user would: the objects the last apply made are still invisible to reads.
    again = work.cli("apply", "--auto-approve")
    assert again.exit_code in (0, 1), again.output
    measured.runs = 2
    served.configure(lag_ms=0, clock_offset_s=10)
    converge(served, work, named, measured)
    check(served, work.path, before, named, measured)
