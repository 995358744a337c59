"""docs/reliability.md (written by bench/reliability.py) is current: its counts are those of the corpus and
the fault scenarios as they are, and it names every scenario."""

from __future__ import annotations

import json
from pathlib import Path

from test_faults import LAG_RERUN_SCENARIO, SCENARIOS, SIGKILL_SCENARIO

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "reliability.md"
COUNTS_MARK = "<!-- counts:"


def test_the_reliability_doc_counts_the_corpus_and_the_scenarios_as_they_are() -> None:
    text = DOC.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith(COUNTS_MARK))
    counts = json.loads(line.removeprefix(COUNTS_MARK).removesuffix("-->"))
    cases = sum(1 for case in (REPO / "tests" / "bad_inputs").iterdir() if (case / "expected.txt").is_file())
    names = [s.name for s in SCENARIOS] + [SIGKILL_SCENARIO, LAG_RERUN_SCENARIO]  # the last two: own tests
    rerun = "the counts changed: run `.venv/bin/python -m bench.reliability` and commit docs/reliability.md"
    assert counts == {"bad_input_cases": cases, "fault_scenarios": len(names), "writes_lost": 0}, rerun
    assert all(f"| {name} |" in text for name in names), rerun


def test_the_readme_links_it() -> None:
    assert "(docs/reliability.md)" in (REPO / "README.md").read_text(encoding="utf-8")
