"""Who changed a difference, and when: directory audit records matched to drift items (pure).

A record explains an item when it is about the same object (or both ends of the same edge), is of an
activity that makes that kind of difference, names the attribute where the log says which attributes
changed, happened after the last apply, and was not entraform's own write. The newest such record
wins. Real audit logs lag by minutes: with no record, an item is `git` when the YAML of its object
changed since the last apply, and `unknown` otherwise — never guessed to be the tenant's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from reconciler.drift.model import Attribution, ChangedBy, DriftItem

# Microsoft Entra audit activities (Entra docs: reference-audit-activities), by the difference they make:
# (kind, what the tenant has) → activities. "present" means the tenant has something git does not.
ACTIVITIES: dict[tuple[str, str], frozenset[str]] = {
    ("user", "attribute"): frozenset({"Update user", "Disable account", "Enable account"}),
    ("group", "attribute"): frozenset({"Update group"}),
    ("user", "absent"): frozenset({"Delete user", "Hard Delete user"}),
    ("group", "absent"): frozenset({"Delete group", "Hard Delete group"}),
    ("user", "present"): frozenset({"Add user", "Restore user", "Enable account"}),
    ("group", "present"): frozenset({"Add group", "Restore group"}),
    ("membership", "absent"): frozenset({"Remove member from group"}),
    ("membership", "present"): frozenset({"Add member to group"}),
    ("owner", "absent"): frozenset({"Remove owner from group"}),
    ("owner", "present"): frozenset({"Add owner to group"}),
    # The reference lists only "Set user manager"; a removal may also be logged as the user's update.
    ("manager", "attribute"): frozenset({"Set user manager", "Remove user manager", "Update user"}),
    ("license", "attribute"): frozenset({"Change user license", "Set group license"}),
    ("license", "absent"): frozenset({"Change user license", "Set group license"}),
    ("license", "present"): frozenset({"Change user license", "Set group license"}),
    ("role", "absent"): frozenset({"Remove member from role", "Remove eligible member from role"}),
    ("role", "present"): frozenset({"Add member to role", "Add eligible member to role"}),
}


@dataclass(frozen=True)
class AuditRecord:
    id: str
    activity: str
    at: datetime  # activityDateTime: Graph writes up to 7 fractional digits, so never compared as text
    changed_by: ChangedBy
    target_ids: frozenset[str]
    modified: frozenset[str]  # modifiedProperties' names, lower-cased
    correlation_id: str
    succeeded: bool


def record_from_json(item: dict[str, Any]) -> AuditRecord:
    initiated = item.get("initiatedBy") or {}
    app = initiated.get("app") or {}
    user = initiated.get("user") or {}
    targets = item.get("targetResources") or []
    modified = {
        str(prop.get("displayName") or "").lower()
        for target in targets
        for prop in target.get("modifiedProperties") or []
    }
    return AuditRecord(
        id=str(item.get("id") or ""),
        activity=str(item.get("activityDisplayName") or ""),
        at=instant(str(item.get("activityDateTime") or "")),
        changed_by=ChangedBy(
            app=app.get("appId") or None,
            app_name=app.get("displayName") or None,
            user=user.get("userPrincipalName") or None,
        ),
        target_ids=frozenset(str(t["id"]) for t in targets if t.get("id")),
        modified=frozenset(modified - {""}),
        correlation_id=str(item.get("correlationId") or ""),
        succeeded=str(item.get("result") or "success").lower() == "success",
    )


def instant(text: str) -> datetime:
    """An ISO-8601 UTC time as Graph writes it (`Z`, 0–7 fractional digits); the epoch when unreadable."""
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        return datetime.fromtimestamp(0, UTC)


@dataclass(frozen=True)
class OwnWrites:
    """What marks a record as entraform's own: its apps, and the requests its journal holds."""

    app_ids: frozenset[str] = frozenset()
    request_ids: frozenset[str] = frozenset()

    def wrote(self, record: AuditRecord) -> bool:
        return record.correlation_id in self.request_ids or (record.changed_by.app or "") in self.app_ids


def attribute(
    items: Iterable[DriftItem],
    records: Iterable[AuditRecord],
    own: OwnWrites,
    since: str,
    yaml_changed: Callable[[DriftItem], bool],
) -> list[DriftItem]:
    """Each item with its origin, and who and when for the tenant's changes."""
    after = instant(since)
    useful = sorted(
        (r for r in records if r.succeeded and r.at >= after and not own.wrote(r)),
        key=lambda r: (r.at, r.id),
        reverse=True,
    )
    by_target: dict[str, list[AuditRecord]] = {}
    for record in useful:
        for target in record.target_ids:
            by_target.setdefault(target, []).append(record)
    attributed: list[DriftItem] = []
    for item in items:
        match = _newest_match(item, by_target)
        if match is not None:
            at = match.at.strftime("%Y-%m-%dT%H:%M:%SZ")
            who = Attribution("tenant", match.changed_by, at, match.activity)
        elif yaml_changed(item):
            who = Attribution("git")
        else:
            who = Attribution("unknown")
        attributed.append(replace(item, attribution=who))
    return _with_deletions(attributed)


def _with_deletions(items: list[DriftItem]) -> list[DriftItem]:
    """An edge lost with a deleted object (a deleted group's members, a deleted user's memberships) was
    removed by that deletion: it gets the deletion's who and when. The log names no such edge."""
    deleted = {
        item.target_ids[0]: item.attribution
        for item in items
        if item.deleted_in_tenant and item.target_ids and item.attribution.origin == "tenant"
    }
    out: list[DriftItem] = []
    for item in items:
        cause = next((deleted[t] for t in item.target_ids if t in deleted), None)
        if cause is not None and not item.deleted_in_tenant and item.attribution.origin == "unknown":
            item = replace(item, attribution=cause)
        out.append(item)
    return out


def _newest_match(item: DriftItem, by_target: dict[str, list[AuditRecord]]) -> AuditRecord | None:
    if not item.target_ids:
        return None
    shape = "attribute" if item.attribute is not None else str(item.tenant)
    activities = ACTIVITIES.get((item.kind, shape), frozenset())
    needed = set(item.target_ids)
    for record in by_target.get(item.target_ids[0], []):
        if record.activity not in activities or not needed <= record.target_ids:
            continue
        attribute_named = (
            item.attribute is None or not record.modified or item.attribute.lower() in record.modified
        )
        if attribute_named:
            return record
    return None
