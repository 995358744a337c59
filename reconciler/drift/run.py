"""`entraform drift`: plan, read the differences as drift, and ask the audit log who made them (SPEC §4.1).

The audit log is read only for the objects and edges that differ, since the last apply the journal
records (or a bounded window), one `$filter` by target id each, in `$batch` envelopes. Without the
permission to read it, drift still works and says once that who and when are unavailable.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from reconciler.applied import Applied, applied_path, read_applied
from reconciler.apply.journal import DEFAULT_JOURNAL, read_journal
from reconciler.config import Config
from reconciler.drift.audit import AuditRecord, OwnWrites, attribute, record_from_json
from reconciler.drift.items import drift_items
from reconciler.drift.model import DriftItem, DriftReport
from reconciler.errors import GraphError
from reconciler.graph.client import GraphClient
from reconciler.plan.digest import object_fingerprint
from reconciler.planning import Planned, make_plan, run_sync
from reconciler.progress import ProgressDisplay

AUDIT_WINDOW_DAYS = 30  # Entra keeps audit logs for 30 days (with a P1/P2 licence; 7 without)
AUDIT_PATH = "/auditLogs/directoryAudits"
_NO_AUDIT = (
    "who and when are unavailable: the app may not read the directory audit log (grant it AuditLog.Read.All "
    "and Directory.Read.All)"
)


def make_drift(config: Config, progress: ProgressDisplay | None = None, cached: bool = True) -> DriftReport:
    planned = make_plan(config, [], progress, cached=cached)
    now = datetime.now(UTC)
    journal = read_journal(config.path(DEFAULT_JOURNAL), planned.plan.tenant)
    since = _since(journal.last_write_at, now)
    applied = read_applied(applied_path(config.path(DEFAULT_JOURNAL)), planned.plan.tenant)
    items = drift_items(planned.plan, planned.live, _known_ids(planned, applied))
    report = DriftReport(planned.plan.tenant, now.strftime("%Y-%m-%dT%H:%M:%SZ"), held=planned.plan.held)
    records, note = run_sync(_read_audits(config, items, since))
    if note:
        report.notes.append(note)
    own = OwnWrites(
        app_ids=journal.app_ids | frozenset(config.drift.apply_apps), request_ids=journal.request_ids
    )
    changed = _yaml_changed(planned, applied)
    report.items = attribute(items, records, own, since, changed)
    return report


def _since(last_write: str | None, now: datetime) -> str:
    """Audit records after the last apply, but no further back than the log keeps them."""
    floor = now - timedelta(days=AUDIT_WINDOW_DAYS)
    if last_write:
        with contextlib.suppress(ValueError):  # a hand-edited journal line: keep the window
            floor = max(floor, datetime.fromisoformat(last_write.replace("Z", "+00:00")))
    return floor.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _known_ids(planned: Planned, applied: Applied | None) -> dict[tuple[str, str], str]:
    """Ids of declared objects, pinned or as the last apply saw them: a deleted one is looked for in the
    audit log by its id."""
    known: dict[tuple[str, str], str] = {}
    for name, object_id in (applied.ids if applied else {}).items():
        kind, _, key = name.partition(":")
        known[(kind, key)] = object_id
    known |= {("user", key): user.id for key, user in planned.desired.users.items() if user.id}
    known |= {("group", key): group.id for key, group in planned.desired.groups.items() if group.id}
    return known


async def _read_audits(config: Config, items: list[DriftItem], since: str) -> tuple[list[AuditRecord], str]:
    """The audit records naming any differing object since `since`, and a note when there are none to
    read because the app may not."""
    targets = sorted({item.target_ids[0] for item in items if item.target_ids})
    if not targets:
        return [], ""
    from reconciler.graph.connect import open_client

    client = open_client(config, read_only=True)
    try:
        return await _audits_of(client, targets, since), ""
    except GraphError as exc:
        if exc.status == 403:
            return [], _NO_AUDIT
        raise
    finally:
        await client.aclose()


async def _audits_of(client: GraphClient, targets: list[str], since: str) -> list[AuditRecord]:
    from urllib.parse import quote

    from reconciler.graph.reads import read_many

    paths = {
        target: f"{AUDIT_PATH}?$filter="
        + quote(f"activityDateTime ge {since} and targetResources/any(t:t/id eq '{target}')")
        for target in targets
    }
    found = await read_many(client, paths)
    unique = {item["id"]: item for items in found.values() for item in items if "id" in item}
    return [record_from_json(item) for item in unique.values()]


def _yaml_changed(planned: Planned, applied: Applied | None) -> Callable[[DriftItem], bool]:
    """Whether the YAML of an item's object differs from what the last apply saw (False when no apply
    is recorded: then nothing can be told)."""
    now: dict[str, str | None] = {}  # by object: a group's many member items digest its YAML once

    def changed(item: DriftItem) -> bool:
        if applied is None:
            return False
        key = _fingerprint_key(item, planned)
        if key is None:
            return False
        if key not in now:
            now[key] = object_fingerprint(planned.desired, planned.live, key)
        return applied.fingerprints.get(key) != now[key]

    return changed


def _fingerprint_key(item: DriftItem, planned: Planned) -> str | None:
    """The declared object whose YAML says what an item's git side is."""
    names = item.names
    if item.kind in ("user", "group"):
        return f"{item.kind}:{names.get('key', '')}"
    if item.kind in ("membership", "owner"):
        return f"group:{names.get('group', '')}"
    if item.kind == "manager":
        return f"user:{names.get('user', '')}"
    if item.kind == "license":
        return f"user:{names['user']}" if "user" in names else f"group:{names.get('group', '')}"
    definition = planned.live.role_definition(names.get("role", ""))
    return f"role:{definition.id}|{names.get('directoryScopeId', '/')}" if definition else None
