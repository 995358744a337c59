"""The tenant: every object and edge in memory (dicts and sets), written through to SQLite.

Reads never touch SQLite; each write updates memory and then the matching rows, so a restart (`Store.open`
on the same file) gives back every object, edge, deleted item, delta record and meta value.

Delta bookkeeping: `version` is a tenant-wide counter; every write to an object stamps it with the next
value (`version_of`), deletes leave a tombstone, and membership and ownership changes after seeding go to
`member_log`, `owner_log` and `manager_log`.
A delta token is just a version: everything stamped later has changed since.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from dataclasses import dataclass

from reconciler.emulator.dynamic import Rule, RuleError, compile_rule
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
"""


# The user properties that license assignments change.
LICENSE_PROPERTIES = ("assignedLicenses", "licenseAssignmentStates", "assignedPlans")


@dataclass(frozen=True)
class LicenseState:
    """One SKU on one user: direct (`assigned_by_group` None) or inherited from a group."""

    sku_id: str
    disabled_plans: tuple[str, ...]
    assigned_by_group: str | None
    error: str | None  # "CountViolation" when no seat was left; the license is then not active


class Store:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._clear()

    def _clear(self) -> None:
        """Forget the tenant held in memory (not the database)."""
        self.organization: Json = {}
        self.skus: dict[str, Json] = {}
        self.users: dict[str, Json] = {}
        self.groups: dict[str, Json] = {}
        self.upn_index: dict[str, str] = {}  # lower-cased userPrincipalName -> id
        self.members: dict[str, dict[str, None]] = {}  # group id -> member ids (ordered)
        self.owners: dict[str, dict[str, None]] = {}
        self.member_of: dict[str, set[str]] = {}  # object id -> group ids (direct)
        self.manager: dict[str, str] = {}
        self.reports: dict[str, set[str]] = {}
        self.direct_licenses: dict[str, dict[str, list[str]]] = {}  # user id -> skuId -> disabledPlans
        self.effective: dict[str, dict[str, list[LicenseState]]] = {}  # user id -> skuId -> states
        self.seat_holders: dict[str, set[str]] = {}  # skuId -> user ids consuming a seat
        self.deleted: dict[str, Json] = {}  # id -> {"kind", "props", "deletedDateTime", "memberOf"}
        self.version = 0
        self.version_of: dict[str, int] = {}
        # id -> property -> version of its last change ("*": the object was created or restored then)
        self.changed_at: dict[str, dict[str, int]] = {}
        self.visible_at: dict[str, float] = {}
        self.tombstones: dict[str, tuple[str, int, str]] = {}  # id -> (kind, version, "changed"|"deleted")
        self.member_log: list[tuple[int, str, str, bool]] = []  # (version, group, member, removed)
        self.owner_log: list[tuple[int, str, str, bool]] = []  # (version, group, owner, removed)
        self.manager_log: list[tuple[int, str, str, bool]] = []  # (version, user, manager, removed)
        self._listings: dict[str, list[Json]] = {}  # kind -> objects in store order, until the next write
        self._rules: dict[str, Rule | None] = {}  # group id -> its compiled membership rule, if dynamic

    # ---- opening, meta -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str) -> Store:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if path != ":memory:":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(objects)")}
        if "changes" not in columns:  # a tenant saved before per-property delta tracking
            db.execute("ALTER TABLE objects ADD COLUMN changes TEXT NOT NULL DEFAULT '{}'")
        store = cls(db)
        store._load()
        return store

    def close(self) -> None:
        self.db.close()

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    @property
    def seeded(self) -> bool:
        return bool(self.organization)

    @property
    def tenant_id(self) -> str:
        return str(self.organization.get("id", ""))

    # ---- loading -------------------------------------------------------------------------------

    def _load(self) -> None:
        self.organization = json.loads(self.get_meta("organization") or "{}")
        self.skus = json.loads(self.get_meta("skus") or "{}")
        self.version = int(self.get_meta("version") or "0")
        for oid, kind, props, version, visible_at, changes in self.db.execute(
            "SELECT id, kind, props, version, visible_at, changes FROM objects ORDER BY rowid"
        ):
            # Interned keys: json.loads makes fresh key strings per object, ~200 MiB on a big tenant.
            self._put(kind, {sys.intern(key): value for key, value in json.loads(props).items()})
            self.version_of[oid] = version
            if changes != "{}":
                self.changed_at[oid] = json.loads(changes)
            if visible_at:
                self.visible_at[oid] = visible_at
        for kind, src, dst in self.db.execute("SELECT kind, src, dst FROM edges"):
            self._link(kind, src, dst)
        for user_id, sku_id, plans in self.db.execute("SELECT user_id, sku_id, disabled_plans FROM licenses"):
            self.direct_licenses.setdefault(user_id, {})[sku_id] = json.loads(plans)
        for oid, record in self.db.execute("SELECT id, record FROM deleted"):
            self.deleted[oid] = json.loads(record)
        for oid, kind, version, reason in self.db.execute("SELECT id, kind, version, reason FROM tombstones"):
            self.tombstones[oid] = (kind, version, reason)
        self.member_log = [
            (v, g, m, bool(r))
            for v, g, m, r in self.db.execute("SELECT version, group_id, member_id, removed FROM member_log")
        ]
        self.owner_log = [
            (v, g, o, bool(r))
            for v, g, o, r in self.db.execute("SELECT version, group_id, owner_id, removed FROM owner_log")
        ]
        self.manager_log = [
            (v, u, m, bool(r))
            for v, u, m, r in self.db.execute("SELECT version, user_id, manager_id, removed FROM manager_log")
        ]
        self.refresh_all_licenses()

    def load_seed(self, seed: SeedData) -> None:
        """Replace the whole tenant by `seed` (one transaction, bulk inserts)."""
        kept_meta = {k: v for k, v in self.db.execute("SELECT key, value FROM meta")}
        self._clear()
        db = self.db
        db.execute("BEGIN")
        for table in (
            "meta",
            "objects",
            "edges",
            "licenses",
            "deleted",
            "tombstones",
            "member_log",
            "owner_log",
            "manager_log",
        ):
            db.execute(f"DELETE FROM {table}")
        db.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [(k, v) for k, v in kept_meta.items() if k not in ("organization", "skus", "version")],
        )
        self.organization = seed.organization
        self.skus = seed.skus
        self.version = 1
        for user in seed.users:
            self._put("user", user)
        for group in seed.groups:
            self._put("group", group)
        for oid in self.users.keys() | self.groups.keys():
            self.version_of[oid] = 1
        rows = [(u["id"], "user", json.dumps(u), 1) for u in seed.users]
        rows += [(g["id"], "group", json.dumps(g), 1) for g in seed.groups]
        db.executemany("INSERT INTO objects (id, kind, props, version) VALUES (?, ?, ?, ?)", rows)
        edges = [("members", g, m) for g, m in seed.members]
        for group_id, rule in self.dynamic_rules().items():
            edges += [("members", group_id, u["id"]) for u in seed.users if rule(u)]
        edges += [("owners", g, o) for g, o in seed.owners]
        edges += [("manager", u, m) for u, m in seed.managers]
        for kind, src, dst in edges:
            self._link(kind, src, dst)
        db.executemany("INSERT OR IGNORE INTO edges (kind, src, dst) VALUES (?, ?, ?)", edges)
        for user_id, sku_id, plans in seed.licenses:
            self.direct_licenses.setdefault(user_id, {})[sku_id] = list(plans)
        db.executemany(
            "INSERT INTO licenses (user_id, sku_id, disabled_plans) VALUES (?, ?, ?)",
            [(u, s, json.dumps(p)) for u, s, p in seed.licenses],
        )
        self.set_meta("organization", json.dumps(self.organization))
        self.set_meta("skus", json.dumps(self.skus))
        self.set_meta("version", "1")
        db.execute("COMMIT")
        self.refresh_all_licenses()

    # ---- in-memory primitives ------------------------------------------------------------------

    def _put(self, kind: str, props: Json) -> None:
        self._listings.pop(kind, None)
        oid = props["id"]
        if kind == "user":
            old = self.users.get(oid)
            if old is not None:
                self.upn_index.pop(old["userPrincipalName"].lower(), None)
            self.users[oid] = props
            self.upn_index[props["userPrincipalName"].lower()] = oid
        else:
            self.groups[oid] = props
            self.members.setdefault(oid, {})
            self.owners.setdefault(oid, {})

    def _link(self, kind: str, src: str, dst: str) -> None:
        if kind == "members":
            self.members.setdefault(src, {})[dst] = None
            self.member_of.setdefault(dst, set()).add(src)
        elif kind == "owners":
            self.owners.setdefault(src, {})[dst] = None
        else:
            self.manager[src] = dst
            self.reports.setdefault(dst, set()).add(src)

    def _unlink(self, kind: str, src: str, dst: str) -> None:
        if kind == "members":
            self.members.get(src, {}).pop(dst, None)
            self.member_of.get(dst, set()).discard(src)
        elif kind == "owners":
            self.owners.get(src, {}).pop(dst, None)
        else:
            self.manager.pop(src, None)
            self.reports.get(dst, set()).discard(src)

    def _bump(self) -> int:
        self.version += 1
        self.set_meta("version", str(self.version))
        return self.version

    # ---- queries -------------------------------------------------------------------------------

    def kind_of(self, oid: str) -> str | None:
        if oid in self.users:
            return "user"
        if oid in self.groups:
            return "group"
        return None

    def get(self, oid: str) -> Json | None:
        return self.users.get(oid) or self.groups.get(oid)

    def listing(self, kind: str) -> list[Json]:
        """Every user or group in store order; cached between writes, since paging asks for it per page."""
        if kind not in self._listings:
            self._listings[kind] = list((self.users if kind == "user" else self.groups).values())
        return self._listings[kind]

    def is_visible(self, oid: str, now: float) -> bool:
        return self.visible_at.get(oid, 0.0) <= now

    def user_id_for(self, key: str) -> str | None:
        """A user's id from its id or its userPrincipalName."""
        if key in self.users:
            return key
        return self.upn_index.get(key.lower())

    def consumed_units(self, sku_id: str) -> int:
        return len(self.seat_holders.get(sku_id, ()))

    # ---- writes: objects -----------------------------------------------------------------------

    def save(self, kind: str, props: Json, visible_at: float = 0.0, changed: tuple[str, ...] = ()) -> None:
        """Create or replace an object and record, for delta, which of its properties changed."""
        oid = props["id"]
        old = self.users.get(oid) if kind == "user" else self.groups.get(oid)
        self._put(kind, props)
        version = self._bump()
        self.version_of[oid] = version
        if old is None:
            changes = {"*"}
        else:
            changes = {k for k in props.keys() | old.keys() if props.get(k) != old.get(k)} | set(changed)
        marks = self.changed_at.setdefault(oid, {})
        marks.update(dict.fromkeys(changes, version))
        self.tombstones.pop(oid, None)
        if visible_at:
            self.visible_at[oid] = visible_at
        self.db.execute("DELETE FROM tombstones WHERE id = ?", (oid,))
        self.db.execute(
            "INSERT INTO objects (id, kind, props, version, visible_at, changes) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET props = excluded.props, version = excluded.version, "
            "changes = excluded.changes",
            (oid, kind, json.dumps(props), version, visible_at, json.dumps(marks)),
        )
        if old is None or any(k in changes for k in ("groupTypes", "membershipRule", "*")) or kind == "user":
            self._apply_rules(kind, oid)

    def dynamic_rules(self) -> dict[str, Rule]:
        """The membership rules of the dynamic groups whose processing is on."""
        rules = {}
        for group_id, group in self.groups.items():
            if group_id not in self._rules:
                self._rules[group_id] = _group_rule(group)
            rule = self._rules[group_id]
            if rule is not None:
                rules[group_id] = rule
        return rules

    def _apply_rules(self, kind: str, oid: str) -> None:
        """Keep dynamic groups' members in step with their rules after a write to `oid`."""
        if kind == "group":
            self._rules.pop(oid, None)
        rules = self.dynamic_rules()
        if kind == "group":
            pairs = [(oid, user) for user in self.users] if oid in rules else []
        else:
            pairs = [(group_id, oid) for group_id in rules]
        for group_id, user_id in pairs:
            wanted = rules[group_id](self.users[user_id])
            if wanted != (user_id in self.members.get(group_id, {})):
                (self.add_edge if wanted else self.remove_edge)("members", group_id, user_id)

    def touch(self, oid: str, changed: tuple[str, ...]) -> None:
        """Record a change of computed or related properties (licenses, manager) for delta."""
        kind = self.kind_of(oid)
        if kind is not None:
            self.save(kind, self.users[oid] if kind == "user" else self.groups[oid], changed=changed)

    def set_on_premises_sync(self, user_id: str, enabled: bool) -> None:
        """What Entra Connect does (admin API only): Graph then refuses changes to synced attributes."""
        user = dict(self.users[user_id])
        user["onPremisesSyncEnabled"] = enabled
        self.save("user", user)

    def delete(self, oid: str, soft: bool, deleted_at: str) -> None:
        """Delete a user or group: soft into deletedItems (restorable) or permanently."""
        kind = self.kind_of(oid)
        assert kind is not None
        props = self.users.pop(oid) if kind == "user" else self.groups.pop(oid)
        self._listings.pop(kind, None)
        if kind == "user":
            self.upn_index.pop(props["userPrincipalName"].lower(), None)
        groups = sorted(self.member_of.get(oid, ()))
        owns = sorted(g for g, owners in self.owners.items() if oid in owners)
        manager = self.manager.get(oid)
        own_members = list(self.members.get(oid, {})) if kind == "group" else []
        own_owners = list(self.owners.get(oid, {})) if kind == "group" else []
        for group_id in groups:
            self.remove_edge("members", group_id, oid)
        for group_id, owners in self.owners.items():
            if oid in owners:
                self.remove_edge("owners", group_id, oid)
        if oid in self.manager:
            self.remove_edge("manager", oid, self.manager[oid])
        for report in sorted(self.reports.get(oid, ())):
            self.remove_edge("manager", report, oid)
        if kind == "group":
            for member in list(self.members.pop(oid, {})):
                self.remove_edge("members", oid, member)
            self.owners.pop(oid, None)
        self.version_of.pop(oid, None)
        self.changed_at.pop(oid, None)
        self.visible_at.pop(oid, None)
        version = self._bump()
        reason = "changed" if soft else "deleted"
        self.tombstones[oid] = (kind, version, reason)
        self.db.execute("DELETE FROM objects WHERE id = ?", (oid,))
        self.db.execute(
            "INSERT OR REPLACE INTO tombstones (id, kind, version, reason) VALUES (?, ?, ?, ?)",
            (oid, kind, version, reason),
        )
        if soft:
            record = {
                "kind": kind,
                "props": props,
                "deletedDateTime": deleted_at,
                "memberOf": groups,
                "members": own_members,
                "owners": own_owners,
                "owns": owns,
                "manager": manager,
            }
            if kind == "user":
                record["licenses"] = self.direct_licenses.get(oid, {})
            self.deleted[oid] = record
            self.db.execute(
                "INSERT OR REPLACE INTO deleted (id, record) VALUES (?, ?)", (oid, json.dumps(record))
            )
        if kind == "user":
            self.direct_licenses.pop(oid, None)
            self.db.execute("DELETE FROM licenses WHERE user_id = ?", (oid,))
            self.refresh_licenses(oid)
        self.effective.pop(oid, None)
        self._rules.pop(oid, None)

    def restore(self, oid: str) -> Json:
        record = self.deleted.pop(oid)
        self.db.execute("DELETE FROM deleted WHERE id = ?", (oid,))
        self.save(record["kind"], record["props"])
        if record["kind"] == "user":
            # "Licenses assigned at the time of deletion are restored even if there are no seats."
            for sku_id, plans in record.get("licenses", {}).items():
                self.set_direct_license(oid, sku_id, plans, beyond_seats=True)
        for group_id in record["memberOf"]:
            if group_id in self.groups:
                self.add_edge("members", group_id, oid)
        for relation in ("members", "owners"):
            for other in record.get(relation, []):
                if self.kind_of(other) is not None:
                    self.add_edge(relation, oid, other)
        for group_id in record.get("owns", []):
            if group_id in self.groups:
                self.add_edge("owners", group_id, oid)
        if record.get("manager") in self.users:
            self.add_edge("manager", oid, record["manager"])
        return dict(record["props"])

    def purge(self, oid: str) -> None:
        """Permanently delete a soft-deleted object."""
        kind = self.deleted.pop(oid)["kind"]
        version = self._bump()
        self.tombstones[oid] = (kind, version, "deleted")
        self.db.execute("DELETE FROM deleted WHERE id = ?", (oid,))
        self.db.execute(
            "INSERT OR REPLACE INTO tombstones (id, kind, version, reason) VALUES (?, ?, ?, ?)",
            (oid, kind, version, "deleted"),
        )

    # ---- writes: edges -------------------------------------------------------------------------

    def add_edge(self, kind: str, src: str, dst: str) -> None:
        if kind == "manager" and src in self.manager:
            self.remove_edge("manager", src, self.manager[src])
        self._link(kind, src, dst)
        self.db.execute("INSERT OR IGNORE INTO edges (kind, src, dst) VALUES (?, ?, ?)", (kind, src, dst))
        self._edge_changed(kind, src, dst, removed=False)

    def remove_edge(self, kind: str, src: str, dst: str) -> None:
        self._unlink(kind, src, dst)
        self.db.execute("DELETE FROM edges WHERE kind = ? AND src = ? AND dst = ?", (kind, src, dst))
        self._edge_changed(kind, src, dst, removed=True)

    def _edge_changed(self, kind: str, src: str, dst: str, removed: bool) -> None:
        if kind == "members":
            version = self._bump()
            self.member_log.append((version, src, dst, removed))
            self.db.execute(
                "INSERT INTO member_log (version, group_id, member_id, removed) VALUES (?, ?, ?, ?)",
                (version, src, dst, int(removed)),
            )
            if dst in self.users:
                before = self.effective.get(dst)
                self.refresh_licenses(dst)
                if self.effective.get(dst) != before:
                    self.touch(dst, LICENSE_PROPERTIES)
        elif kind == "owners":
            version = self._bump()
            self.owner_log.append((version, src, dst, removed))
            self.db.execute(
                "INSERT INTO owner_log (version, group_id, owner_id, removed) VALUES (?, ?, ?, ?)",
                (version, src, dst, int(removed)),
            )
        elif kind == "manager" and src in self.users:
            self.touch(src, ("manager",))
            # The entry carries the version `touch` stamped the user's change with, as delta compares both.
            version = self.version_of[src]
            self.manager_log.append((version, src, dst, removed))
            self.db.execute(
                "INSERT INTO manager_log (version, user_id, manager_id, removed) VALUES (?, ?, ?, ?)",
                (version, src, dst, int(removed)),
            )

    # ---- licenses ------------------------------------------------------------------------------

    def set_direct_license(
        self, user_id: str, sku_id: str, disabled_plans: list[str] | None, beyond_seats: bool = False
    ) -> None:
        """Assign (plans given) or remove (None) a direct license; the caller has checked the seats."""
        if disabled_plans is None:
            self.direct_licenses.get(user_id, {}).pop(sku_id, None)
            self.db.execute("DELETE FROM licenses WHERE user_id = ? AND sku_id = ?", (user_id, sku_id))
        else:
            self.direct_licenses.setdefault(user_id, {})[sku_id] = list(disabled_plans)
            self.db.execute(
                "INSERT OR REPLACE INTO licenses (user_id, sku_id, disabled_plans) VALUES (?, ?, ?)",
                (user_id, sku_id, json.dumps(disabled_plans)),
            )
        self.refresh_licenses(user_id, beyond_seats)
        self.touch(user_id, LICENSE_PROPERTIES)

    def refresh_all_licenses(self) -> None:
        self.effective = {}
        self.seat_holders = {}
        licensed = set(self.direct_licenses)
        for group_id, group in self.groups.items():
            if group.get("assignedLicenses"):
                licensed.update(m for m in self.members.get(group_id, {}) if m in self.users)
        for user_id in self.users:
            if user_id in licensed:
                self.refresh_licenses(user_id)

    def refresh_licenses(self, user_id: str, beyond_seats: bool = False) -> None:
        """Recompute a user's license states (direct + from its groups) and the seats they hold; a license
        without a free seat is in error (CountViolation) unless `beyond_seats` (a restore)."""
        states: dict[str, list[LicenseState]] = {}
        if user_id in self.users:
            for sku_id, plans in self.direct_licenses.get(user_id, {}).items():
                states.setdefault(sku_id, []).append(LicenseState(sku_id, tuple(plans), None, None))
            for group_id in sorted(self.member_of.get(user_id, ())):
                for lic in self.groups[group_id].get("assignedLicenses") or ():
                    states.setdefault(lic["skuId"], []).append(
                        LicenseState(lic["skuId"], tuple(lic.get("disabledPlans", [])), group_id, None)
                    )
        for sku_id, holders in self.seat_holders.items():
            if sku_id not in states:
                holders.discard(user_id)
        for sku_id, sku_states in states.items():
            holders = self.seat_holders.setdefault(sku_id, set())
            if user_id in holders:
                continue
            prepaid = self.skus.get(sku_id, {}).get("prepaidUnits", {}).get("enabled", 0)
            if len(holders) < prepaid or beyond_seats:
                holders.add(user_id)
            else:
                states[sku_id] = [
                    LicenseState(s.sku_id, s.disabled_plans, s.assigned_by_group, "CountViolation")
                    for s in sku_states
                ]
        if states:
            self.effective[user_id] = states
        else:
            self.effective.pop(user_id, None)


def _group_rule(group: Json) -> Rule | None:
    if "DynamicMembership" not in (group.get("groupTypes") or []):
        return None
    if group.get("membershipRuleProcessingState") != "On" or not group.get("membershipRule"):
        return None
    try:
        return compile_rule(group["membershipRule"])
    except RuleError:
        return None
