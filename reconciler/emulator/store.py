"""The tenant: every object and edge in memory (dicts and sets), written through to SQLite (database.py).

Reads never touch SQLite; each write updates memory and then the matching rows, so a restart (`Store.open`
on the same file) gives back every object, edge, deleted item, delta record and meta value. What is computed
from them lives beside: license states and seats (licensing.py) and the members of dynamic groups
(dynamic.py), which the store keeps up to date after each write.

Delta bookkeeping: `version` is a tenant-wide counter; every write to an object stamps it with the next
value (`version_of`), deletes leave a tombstone, and membership and ownership changes after seeding go to
`member_log`, `owner_log` and `manager_log`.
A delta token is just a version: everything stamped later has changed since.

Besides: the directory role assignments (roles.py) and the audit log (audit.py), each written through too.
"""

from __future__ import annotations

import json
import time

from reconciler.emulator.audit import AuditLog
from reconciler.emulator.database import Database, LogEntry
from reconciler.emulator.dynamic import DynamicGroups
from reconciler.emulator.licensing import LICENSE_PROPERTIES, Licensing
from reconciler.emulator.roles import RoleAssignments, new_assignment
from reconciler.emulator.signins import sign_in_activity
from reconciler.emulator.types import Json, SeedData


class Store:
    def __init__(self, db: Database) -> None:
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
        self.licensing = Licensing(self)  # license states and seats, computed from the above
        self.deleted: dict[str, Json] = {}  # id -> {"kind", "props", "deletedDateTime", "memberOf"}
        self.version = 0
        self.version_of: dict[str, int] = {}
        # id -> property -> version of its last change ("*": the object was created or restored then)
        self.changed_at: dict[str, dict[str, int]] = {}
        self.visible_at: dict[str, float] = {}
        self.tombstones: dict[str, tuple[str, int, str]] = {}  # id -> (kind, version, "changed"|"deleted")
        self.member_log: list[LogEntry] = []  # (version, group, member, removed)
        self.owner_log: list[LogEntry] = []  # (version, group, owner, removed)
        self.manager_log: list[LogEntry] = []  # (version, user, manager, removed)
        self._listings: dict[str, list[Json]] = {}  # kind -> objects in store order, until the next write
        # A delta round's ids (routes/delta.py), until the next write: each page of a round asks again, and
        # answering afresh made reading a large tenant's groups quadratic.
        self.round_ids: dict[tuple[object, ...], list[str]] = {}
        self.dynamic = DynamicGroups()
        self.roles = RoleAssignments(self.db)
        self.audit = AuditLog(self.db)

    # ---- opening, meta -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str) -> Store:
        store = cls(Database(path))
        store._load()
        return store

    def close(self) -> None:
        self.db.close()

    def get_meta(self, key: str) -> str | None:
        return self.db.get_meta(key)

    def set_meta(self, key: str, value: str) -> None:
        self.db.set_meta(key, value)

    @property
    def seeded(self) -> bool:
        return bool(self.organization)

    @property
    def tenant_id(self) -> str:
        return str(self.organization.get("id", ""))

    # ---- loading -------------------------------------------------------------------------------

    def _load(self) -> None:
        db = self.db
        self.organization = json.loads(db.get_meta("organization") or "{}")
        self.skus = json.loads(db.get_meta("skus") or "{}")
        self.version = int(db.get_meta("version") or "0")
        for oid, kind, props, version, visible_at, changes in db.objects():
            self._put(kind, props)
            self.version_of[oid] = version
            if changes is not None:
                self.changed_at[oid] = changes
            if visible_at:
                self.visible_at[oid] = visible_at
        for kind, src, dst in db.edges():
            self._link(kind, src, dst)
        for user_id, sku_id, plans in db.licenses():
            self.direct_licenses.setdefault(user_id, {})[sku_id] = plans
        self.deleted = dict(db.deleted())
        self.tombstones = {oid: (kind, version, reason) for oid, kind, version, reason in db.tombstones()}
        self.member_log = db.read_log("member_log")
        self.owner_log = db.read_log("owner_log")
        self.manager_log = db.read_log("manager_log")
        self.roles.load(db.role_assignments())
        self.audit.load()
        self.licensing.refresh_all()

    def load_seed(self, seed: SeedData, now: float | None = None) -> None:
        """Replace the whole tenant by `seed` (one transaction, bulk inserts), seeded at `now` (default:
        the real time): its users' last sign-ins are that long before it."""
        at = time.time() if now is None else now
        for user in seed.users:
            ages = seed.sign_ins.get(user["id"])
            user["signInActivity"] = sign_in_activity(user["id"], ages, at) if ages else None
        self._clear()
        self.organization = seed.organization
        self.skus = seed.skus
        self.version = 1
        for user in seed.users:
            self._put("user", user)
        for group in seed.groups:
            self._put("group", group)
        for oid in self.users.keys() | self.groups.keys():
            self.version_of[oid] = 1
        edges = [("members", g, m) for g, m in seed.members]
        edges += [("members", g, u) for g, u in self.dynamic.seed_members(self.groups, seed.users)]
        edges += [("owners", g, o) for g, o in seed.owners]
        edges += [("manager", u, m) for u, m in seed.managers]
        for kind, src, dst in edges:
            self._link(kind, src, dst)
        for user_id, sku_id, plans in seed.licenses:
            self.direct_licenses.setdefault(user_id, {})[sku_id] = list(plans)
        assignments = [new_assignment(*row) for row in seed.role_assignments]
        self.roles.load(assignments)
        self.db.replace(seed, edges, assignments)
        self.licensing.refresh_all()

    # ---- in-memory primitives ------------------------------------------------------------------

    def _put(self, kind: str, props: Json) -> None:
        self._listings.pop(kind, None)
        self.round_ids.clear()
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
        self.round_ids.clear()
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
        self.db.save_object(oid, kind, props, version, visible_at, marks)
        if old is None or any(k in changes for k in ("groupTypes", "membershipRule", "*")) or kind == "user":
            self._apply_rules(kind, oid)

    def _apply_rules(self, kind: str, oid: str) -> None:
        """Keep dynamic groups' members in step with their rules after a write to `oid`."""
        for group_id, user_id, add in self.dynamic.updates(kind, oid, self.users, self.groups, self.members):
            (self.add_edge if add else self.remove_edge)("members", group_id, user_id)

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
        # A deleted principal holds no role; a soft-deleted user keeps its roles for a restore (Entra
        # docs: recover-from-deletions, "Properties maintained with soft delete").
        roles = [self.roles.remove(a["id"]) for a in self.roles.of_principal(oid)]
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
        self.db.delete_object(oid)
        self.db.put_tombstone(oid, kind, version, reason)
        if soft:
            record: Json = {
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
                record["roleAssignments"] = roles
            self.deleted[oid] = record
            self.db.put_deleted(oid, record)
        if kind == "user":
            self.direct_licenses.pop(oid, None)
            self.db.drop_licenses(oid)
            self.licensing.refresh(oid)
        self.licensing.forget(oid)
        self.dynamic.forget(oid)

    def restore(self, oid: str) -> Json:
        record = self.deleted.pop(oid)
        self.db.drop_deleted(oid)
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
        for assignment in record.get("roleAssignments", []):
            self.roles.add(assignment)
        return dict(record["props"])

    def purge(self, oid: str) -> None:
        """Permanently delete a soft-deleted object."""
        kind = self.deleted.pop(oid)["kind"]
        version = self._bump()
        self.tombstones[oid] = (kind, version, "deleted")
        self.db.drop_deleted(oid)
        self.db.put_tombstone(oid, kind, version, "deleted")

    # ---- writes: edges -------------------------------------------------------------------------

    def add_edge(self, kind: str, src: str, dst: str) -> None:
        if kind == "manager" and src in self.manager:
            self.remove_edge("manager", src, self.manager[src])
        self._link(kind, src, dst)
        self.db.add_edge(kind, src, dst)
        self._edge_changed(kind, src, dst, removed=False)

    def remove_edge(self, kind: str, src: str, dst: str) -> None:
        self._unlink(kind, src, dst)
        self.db.remove_edge(kind, src, dst)
        self._edge_changed(kind, src, dst, removed=True)

    def _edge_changed(self, kind: str, src: str, dst: str, removed: bool) -> None:
        if kind == "members":
            self._log(self.member_log, "member_log", (self._bump(), src, dst, removed))
            if dst in self.users:
                before = self.licensing.effective.get(dst)
                self.licensing.refresh(dst)
                if self.licensing.effective.get(dst) != before:
                    self.touch(dst, LICENSE_PROPERTIES)
        elif kind == "owners":
            self._log(self.owner_log, "owner_log", (self._bump(), src, dst, removed))
        elif kind == "manager" and src in self.users:
            self.touch(src, ("manager",))
            # The entry carries the version `touch` stamped the user's change with, as delta compares both.
            self._log(self.manager_log, "manager_log", (self.version_of[src], src, dst, removed))

    def _log(self, log: list[LogEntry], table: str, entry: LogEntry) -> None:
        log.append(entry)
        self.db.append_log(table, entry)

    # ---- licenses ------------------------------------------------------------------------------

    def set_direct_license(
        self, user_id: str, sku_id: str, disabled_plans: list[str] | None, beyond_seats: bool = False
    ) -> None:
        """Assign (plans given) or remove (None) a direct license; the caller has checked the seats."""
        if disabled_plans is None:
            self.direct_licenses.get(user_id, {}).pop(sku_id, None)
        else:
            self.direct_licenses.setdefault(user_id, {})[sku_id] = list(disabled_plans)
        self.db.set_license(user_id, sku_id, disabled_plans)
        self.licensing.refresh(user_id, beyond_seats)
        self.touch(user_id, LICENSE_PROPERTIES)
