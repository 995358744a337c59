"""The tenant's SQLite file: its schema, reading it all back, replacing it all with a seed, and one method
for each kind of row the store writes through (the store keeps the tenant in memory; see store.py).

Rows hold JSON text for objects, deleted items, license plans, role assignments and audit records;
`version` and the delta logs are the store's counters as they were at each write.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterable, Iterator

from reconciler.emulator.types import Json, SeedData

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, props TEXT NOT NULL, version INTEGER NOT NULL,
  visible_at REAL NOT NULL DEFAULT 0, changes TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS edges (kind TEXT NOT NULL, src TEXT NOT NULL, dst TEXT NOT NULL,
  PRIMARY KEY (kind, src, dst)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS licenses (user_id TEXT NOT NULL, sku_id TEXT NOT NULL,
  disabled_plans TEXT NOT NULL, PRIMARY KEY (user_id, sku_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deleted (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tombstones (id TEXT PRIMARY KEY, kind TEXT NOT NULL, version INTEGER NOT NULL,
  reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS member_log (version INTEGER NOT NULL, group_id TEXT NOT NULL,
  member_id TEXT NOT NULL, removed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS owner_log (version INTEGER NOT NULL, group_id TEXT NOT NULL,
  owner_id TEXT NOT NULL, removed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS manager_log (version INTEGER NOT NULL, user_id TEXT NOT NULL,
  manager_id TEXT NOT NULL, removed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS role_assignments (id TEXT PRIMARY KEY, assignment TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, at REAL NOT NULL, record TEXT NOT NULL);
"""
# The delta logs: table -> its (source, target) id columns.
_LOGS = {
    "member_log": ("group_id", "member_id"),
    "owner_log": ("group_id", "owner_id"),
    "manager_log": ("user_id", "manager_id"),
}
_TABLES = (
    "meta",
    "objects",
    "edges",
    "licenses",
    "deleted",
    "tombstones",
    *_LOGS,
    "role_assignments",
    "audit",
)
# The meta values that are the tenant itself (a seed replaces them; the others, keys and counters, stay).
_TENANT_META = ("organization", "skus", "version")

LogEntry = tuple[int, str, str, bool]  # (version, source id, target id, removed)
StoredObject = tuple[str, str, Json, int, float, dict[str, int] | None]


class Database:
    def __init__(self, path: str) -> None:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if path != ":memory:":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(objects)")}
        if "changes" not in columns:  # a tenant saved before per-property delta tracking
            db.execute("ALTER TABLE objects ADD COLUMN changes TEXT NOT NULL DEFAULT '{}'")
        self.sql = db

    def close(self) -> None:
        self.sql.close()

    def get_meta(self, key: str) -> str | None:
        row = self.sql.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.sql.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # ---- reading it all back -------------------------------------------------------------------

    def objects(self) -> Iterator[StoredObject]:
        """(id, kind, props, version, visible_at, changes or None), in the order they were first written."""
        for oid, kind, props, version, visible_at, changes in self.sql.execute(
            "SELECT id, kind, props, version, visible_at, changes FROM objects ORDER BY rowid"
        ):
            # Interned keys: json.loads makes fresh key strings per object, ~200 MiB on a big tenant.
            obj = {sys.intern(key): value for key, value in json.loads(props).items()}
            yield oid, kind, obj, version, visible_at, json.loads(changes) if changes != "{}" else None

    def edges(self) -> Iterable[tuple[str, str, str]]:
        return self.sql.execute("SELECT kind, src, dst FROM edges")

    def licenses(self) -> Iterator[tuple[str, str, list[str]]]:
        for user_id, sku_id, plans in self.sql.execute(
            "SELECT user_id, sku_id, disabled_plans FROM licenses"
        ):
            yield user_id, sku_id, json.loads(plans)

    def deleted(self) -> Iterator[tuple[str, Json]]:
        for oid, record in self.sql.execute("SELECT id, record FROM deleted"):
            yield oid, json.loads(record)

    def tombstones(self) -> Iterable[tuple[str, str, int, str]]:
        return self.sql.execute("SELECT id, kind, version, reason FROM tombstones")

    def role_assignments(self) -> Iterator[Json]:
        for (assignment,) in self.sql.execute("SELECT assignment FROM role_assignments ORDER BY rowid"):
            yield json.loads(assignment)

    def audit_records(self) -> Iterator[tuple[float, Json]]:
        for at, record in self.sql.execute("SELECT at, record FROM audit ORDER BY seq"):
            yield at, json.loads(record)

    def read_log(self, table: str) -> list[LogEntry]:
        src, dst = _LOGS[table]
        rows = self.sql.execute(f"SELECT version, {src}, {dst}, removed FROM {table}")
        return [(v, s, d, bool(r)) for v, s, d, r in rows]

    # ---- replacing it all ------------------------------------------------------------------------

    def replace(self, seed: SeedData, edges: list[tuple[str, str, str]], assignments: list[Json]) -> None:
        """The tenant `seed` (with `edges`: its own plus the computed ones, and its role `assignments`) at
        version 1, with an empty audit log, in one transaction; meta values other than the tenant's are
        kept."""
        db = self.sql
        kept_meta = {k: v for k, v in db.execute("SELECT key, value FROM meta")}
        db.execute("BEGIN")
        for table in _TABLES:
            db.execute(f"DELETE FROM {table}")
        db.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [(k, v) for k, v in kept_meta.items() if k not in _TENANT_META],
        )
        rows = [(u["id"], "user", json.dumps(u), 1) for u in seed.users]
        rows += [(g["id"], "group", json.dumps(g), 1) for g in seed.groups]
        db.executemany("INSERT INTO objects (id, kind, props, version) VALUES (?, ?, ?, ?)", rows)
        db.executemany("INSERT OR IGNORE INTO edges (kind, src, dst) VALUES (?, ?, ?)", edges)
        db.executemany(
            "INSERT INTO licenses (user_id, sku_id, disabled_plans) VALUES (?, ?, ?)",
            [(u, s, json.dumps(p)) for u, s, p in seed.licenses],
        )
        db.executemany(
            "INSERT INTO role_assignments (id, assignment) VALUES (?, ?)",
            [(a["id"], json.dumps(a)) for a in assignments],
        )
        self.set_meta("organization", json.dumps(seed.organization))
        self.set_meta("skus", json.dumps(seed.skus))
        self.set_meta("version", "1")
        db.execute("COMMIT")

    # ---- writing through -------------------------------------------------------------------------

    def save_object(
        self, oid: str, kind: str, props: Json, version: int, visible_at: float, changes: dict[str, int]
    ) -> None:
        self.sql.execute("DELETE FROM tombstones WHERE id = ?", (oid,))
        self.sql.execute(
            "INSERT INTO objects (id, kind, props, version, visible_at, changes) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET props = excluded.props, version = excluded.version, "
            "changes = excluded.changes",
            (oid, kind, json.dumps(props), version, visible_at, json.dumps(changes)),
        )

    def delete_object(self, oid: str) -> None:
        self.sql.execute("DELETE FROM objects WHERE id = ?", (oid,))

    def put_tombstone(self, oid: str, kind: str, version: int, reason: str) -> None:
        self.sql.execute(
            "INSERT OR REPLACE INTO tombstones (id, kind, version, reason) VALUES (?, ?, ?, ?)",
            (oid, kind, version, reason),
        )

    def put_deleted(self, oid: str, record: Json) -> None:
        self.sql.execute(
            "INSERT OR REPLACE INTO deleted (id, record) VALUES (?, ?)", (oid, json.dumps(record))
        )

    def drop_deleted(self, oid: str) -> None:
        self.sql.execute("DELETE FROM deleted WHERE id = ?", (oid,))

    def add_edge(self, kind: str, src: str, dst: str) -> None:
        self.sql.execute("INSERT OR IGNORE INTO edges (kind, src, dst) VALUES (?, ?, ?)", (kind, src, dst))

    def remove_edge(self, kind: str, src: str, dst: str) -> None:
        self.sql.execute("DELETE FROM edges WHERE kind = ? AND src = ? AND dst = ?", (kind, src, dst))

    def append_log(self, table: str, entry: LogEntry) -> None:
        src, dst = _LOGS[table]
        version, source, target, removed = entry
        self.sql.execute(
            f"INSERT INTO {table} (version, {src}, {dst}, removed) VALUES (?, ?, ?, ?)",
            (version, source, target, int(removed)),
        )

    def put_role_assignment(self, assignment: Json) -> None:
        self.sql.execute(
            "INSERT OR REPLACE INTO role_assignments (id, assignment) VALUES (?, ?)",
            (assignment["id"], json.dumps(assignment)),
        )

    def drop_role_assignment(self, assignment_id: str) -> None:
        self.sql.execute("DELETE FROM role_assignments WHERE id = ?", (assignment_id,))

    def append_audit(self, at: float, record: Json) -> None:
        self.sql.execute("INSERT INTO audit (at, record) VALUES (?, ?)", (at, json.dumps(record)))

    def set_license(self, user_id: str, sku_id: str, disabled_plans: list[str] | None) -> None:
        """Assign (plans given) or remove (None) a direct license."""
        if disabled_plans is None:
            self.sql.execute("DELETE FROM licenses WHERE user_id = ? AND sku_id = ?", (user_id, sku_id))
        else:
            self.sql.execute(
                "INSERT OR REPLACE INTO licenses (user_id, sku_id, disabled_plans) VALUES (?, ?, ?)",
                (user_id, sku_id, json.dumps(disabled_plans)),
            )

    def drop_licenses(self, user_id: str) -> None:
        self.sql.execute("DELETE FROM licenses WHERE user_id = ?", (user_id,))
