"""The apply journal: one JSON line per change outcome, appended as it happens (SPEC §5).

Lines carry the time, change id, action, key, outcome and Graph's request id, and for a failure
Graph's error code and message; never a password or any other secret. Each write is journaled twice:
outcome `sent` (with the `client-request-id` it goes out with, which Graph's audit records carry as
their correlationId) before it leaves, then its final outcome. So a write whose answer was lost, or
whose process was killed, is still in the journal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, assert_never

from reconciler.plan.model import (
    Change,
    Create,
    Invite,
    LicenseChange,
    ManagerChange,
    MembershipChange,
    OwnershipChange,
    Remove,
    Restore,
    RoleChange,
    Update,
)

DEFAULT_JOURNAL = ".entraform/journal.jsonl"


def change_key(change: Change) -> str:
    """What a change is about, in the plan's own words: an object key, or both ends of an edge."""
    match change:
        case Restore() | Create() | Invite() | Update() | Remove():
            return change.subject.key
        case MembershipChange():
            return f"{change.group.key} ← {change.member.label}"
        case OwnershipChange():
            return f"{change.group.key} ← owner {change.owner.key}"
        case ManagerChange():
            return f"{change.user.key} → manager {change.manager.key}"
        case LicenseChange():
            return f"{change.holder.key} · {change.sku}"
        case RoleChange():
            return f"{change.principal.label} · role {change.role.name} at {change.directory_scope_id}"
        case _:
            assert_never(change)


class Journal:
    """`tenant` and `app` (the client id that writes) go on every line: drift tells entraform's own
    writes from the tenant's by them."""

    def __init__(self, path: Path, tenant: str = "", app: str = "") -> None:
        self.path = path
        self.tenant = tenant
        self.app = app
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
            "tenant": self.tenant,
            "app": self.app,
        }
        if error:
            entry["error"] = error
        # Bandit B101: a programming error, not input; without asserts the write below fails on None too.
        assert self._file is not None, "Journal used outside its `with` block"  # nosec B101
        # One line per write and flushed at once: an interrupted apply leaves every finished change on disk.
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._file.flush()


@dataclass(frozen=True)
class JournalFacts:
    """What the journal says of entraform's writes to one tenant."""

    last_write_at: str | None  # ISO-8601 time of the newest line
    request_ids: frozenset[str]
    app_ids: frozenset[str]


def recent_creates(path: Path, tenant: str, since: datetime) -> frozenset[tuple[str, str]]:
    """(kind, key) of the users and groups whose create the journal shows sent to `tenant` at or after
    `since`, whatever came of it (a killed apply, a lost answer): they may exist but not be readable
    yet (replication lag), so an apply must look for them before creating them again."""
    found: set[tuple[str, str]] = set()
    for entry in _entries(path, tenant):
        if entry.get("action") != "create" or entry.get("outcome") not in ("sent", "applied", "already"):
            continue
        try:
            at = datetime.fromisoformat(str(entry.get("time")))
        except ValueError:
            continue
        if at >= since:
            found.add((str(entry.get("kind")), str(entry.get("key"))))
    return frozenset(found)


def _entries(path: Path, tenant: str) -> list[dict[str, Any]]:
    """The journal's lines for `tenant` (a missing journal has none; bad lines are skipped: the journal is
    appended to by interrupted runs too)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    entries = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("tenant", tenant) == tenant:
            entries.append(entry)
    return entries


def read_journal(path: Path, tenant: str) -> JournalFacts:
    """The facts of the journal's lines for `tenant`."""
    last: str | None = None
    requests: set[str] = set()
    apps: set[str] = set()
    for entry in _entries(path, tenant):
        last = max(last or "", str(entry.get("time") or "")) or None
        if entry.get("request_id"):
            requests.add(str(entry["request_id"]))
        if entry.get("app"):
            apps.add(str(entry["app"]))
    return JournalFacts(last, frozenset(requests), frozenset(apps))
