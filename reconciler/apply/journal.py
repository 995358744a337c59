"""The apply journal: one JSON line per change outcome, appended as it happens (SPEC §5).

Lines carry the time, change id, action, key, outcome and Graph's request id, and for a failure
Graph's error code and message; never a password or any other secret.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, assert_never

from reconciler.plan.model import (
    Change,
    Create,
    LicenseChange,
    ManagerChange,
    MembershipChange,
    OwnershipChange,
    Remove,
    Update,
)

DEFAULT_JOURNAL = ".entraform/journal.jsonl"


def change_key(change: Change) -> str:
    """What a change is about, in the plan's own words: an object key, or both ends of an edge."""
    match change:
        case Create() | Update() | Remove():
            return change.subject.key
        case MembershipChange():
            return f"{change.group.key} ← {change.member.label}"
        case OwnershipChange():
            return f"{change.group.key} ← owner {change.owner.key}"
        case ManagerChange():
            return f"{change.user.key} → manager {change.manager.key}"
        case LicenseChange():
            return f"{change.holder.key} · {change.sku}"
        case _:
            assert_never(change)


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def __enter__(self) -> Journal:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def record(self, change: Change, outcome: str, request_id: str = "", error: str = "") -> None:
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "change": change.id,
            "action": change.action,
            "kind": change.kind,
            "key": change_key(change),
            "outcome": outcome,
            "request_id": request_id,
        }
        if error:
            entry["error"] = error
        # Bandit B101: a programming error, not input; without asserts the write below fails on None too.
        assert self._file is not None, "Journal used outside its `with` block"  # nosec B101
        # One line per write and flushed at once: an interrupted apply leaves every finished change on disk.
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._file.flush()
