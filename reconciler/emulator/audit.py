"""The directory audit log: one `directoryAudit` record per successful write, as Graph shapes them (Graph
docs: resources/directoryaudit, resources/targetresource, resources/modifiedproperty, resources/appidentity).

A handler says what it changed with `note(req, activity, targets)`; the pipeline keeps those notes only if
the request succeeds and completes them with what the request knows (`complete`): when, which app, the
correlation id. Activity names and categories are Microsoft's (Entra docs: reference-audit-activities,
"Core Directory"). The log is kept in memory, newest last, and written through to SQLite.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.emulator.database import Database
from reconciler.emulator.types import GraphRequest, Json

LOGGED_BY = "Core Directory"
# activity -> (category, operationType), for the activities the emulator's writes make.
ACTIVITIES: dict[str, tuple[str, str]] = {
    "Add user": ("UserManagement", "Add"),
    "Update user": ("UserManagement", "Update"),
    "Delete user": ("UserManagement", "Delete"),
    "Hard Delete user": ("UserManagement", "Delete"),
    "Invite external user": ("UserManagement", "Add"),
    "Restore user": ("UserManagement", "Update"),
    "Disable account": ("UserManagement", "Update"),
    "Reset password": ("UserManagement", "Update"),
    "Enable account": ("UserManagement", "Update"),
    "Change user license": ("UserManagement", "Update"),
    "Set user manager": ("UserManagement", "Update"),
    # The reference lists no activity for clearing a manager; this is the name the emulator logs.
    "Remove user manager": ("UserManagement", "Update"),
    "Update StsRefreshTokenValidFrom Timestamp": ("UserManagement", "Update"),
    "Add group": ("GroupManagement", "Add"),
    "Update group": ("GroupManagement", "Update"),
    "Delete group": ("GroupManagement", "Delete"),
    "Hard Delete group": ("GroupManagement", "Delete"),
    "Restore group": ("GroupManagement", "Update"),
    "Add member to group": ("GroupManagement", "Assign"),
    "Remove member from group": ("GroupManagement", "Unassign"),
    "Add owner to group": ("GroupManagement", "Assign"),
    "Remove owner from group": ("GroupManagement", "Unassign"),
    "Set group license": ("GroupManagement", "Update"),
    "Add member to role": ("RoleManagement", "Assign"),
    "Remove member from role": ("RoleManagement", "Unassign"),
    "Add scoped member to role": ("RoleManagement", "Assign"),
    "Remove scoped member from role": ("RoleManagement", "Unassign"),
}


# ---- what a handler notes ---------------------------------------------------------------------------


def value_text(value: Any) -> str:
    """A modifiedProperty value as Entra writes them: JSON text of a list, "[]" when there is none."""
    if value is None:
        return "[]"
    return json.dumps(value if isinstance(value, list) else [value], ensure_ascii=False)


def modified(name: str, old: Any, new: Any) -> Json:
    return {"displayName": name, "oldValue": value_text(old), "newValue": value_text(new)}


def changes(old: Json, new: Json, names: list[str]) -> list[Json]:
    """One modifiedProperty per name whose value differs between `old` and `new`."""
    return [modified(n, old.get(n), new.get(n)) for n in names if old.get(n) != new.get(n)]


def user_target(user: Json, props: list[Json] | None = None) -> Json:
    return {
        "id": user["id"],
        "displayName": user.get("displayName"),
        "type": "User",
        "userPrincipalName": user.get("userPrincipalName"),
        "groupType": None,
        "modifiedProperties": props or [],
    }


def group_target(group: Json, props: list[Json] | None = None) -> Json:
    unified = "Unified" in (group.get("groupTypes") or [])
    return {
        "id": group["id"],
        "displayName": group.get("displayName"),
        "type": "Group",
        "userPrincipalName": None,
        # The enumeration Graph uses here: unifiedGroups (Microsoft 365) or azureAD (security groups).
        "groupType": "unifiedGroups" if unified else "azureAD",
        "modifiedProperties": props or [],
    }


def object_target(kind: str, obj: Json, props: list[Json] | None = None) -> Json:
    return user_target(obj, props) if kind == "user" else group_target(obj, props)


def role_target(role_id: str, display_name: str, props: list[Json] | None = None) -> Json:
    return {
        "id": role_id,
        "displayName": display_name,
        "type": "Role",
        "userPrincipalName": None,
        "groupType": None,
        "modifiedProperties": props or [],
    }


def note(req: GraphRequest, activity: str, targets: list[Json], details: list[Json] | None = None) -> None:
    """Record that this request did `activity` to `targets` (kept if the request succeeds)."""
    category, operation = ACTIVITIES[activity]
    req.audit.append(
        {
            "category": category,
            "activityDisplayName": activity,
            "operationType": operation,
            "targetResources": targets,
            "additionalDetails": list(details or []),
        }
    )


# ---- what the pipeline adds ---------------------------------------------------------------------------


def correlation_id(req: GraphRequest) -> str:
    """The client's `client-request-id` if it sent one, else the `request-id` the emulator answers with
    (they are the same value then: pipeline.py answers a client's id as its request-id)."""
    return req.headers.get("client-request-id") or req.request_id


def complete(req: GraphRequest, noted: Json, sequence: int, at: str, service_principal: str) -> Json:
    app = req.app
    correlation = correlation_id(req)
    details = list(noted["additionalDetails"])
    agent = req.headers.get("user-agent")
    if agent:
        details.append({"key": "User-Agent", "value": agent})
    return {
        "id": f"Directory_{correlation}_{sequence:08d}",
        "category": noted["category"],
        "correlationId": correlation,
        "result": "success",
        "resultReason": "",
        "activityDisplayName": noted["activityDisplayName"],
        "activityDateTime": at,
        "loggedByService": LOGGED_BY,
        "operationType": noted["operationType"],
        "initiatedBy": {
            "app": {
                "appId": app.client_id if app else None,
                "displayName": app.display_name if app else None,
                "servicePrincipalId": service_principal,
                "servicePrincipalName": app.display_name if app else None,
            },
            "user": None,
        },
        "targetResources": noted["targetResources"],
        "additionalDetails": details,
    }


class AuditLog:
    """Every record, oldest first, each with the emulator time (seconds) it happened at."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.entries: list[tuple[float, Json]] = []

    def load(self) -> None:
        self.entries = list(self.db.audit_records())

    @property
    def next_sequence(self) -> int:
        return len(self.entries) + 1

    def append(self, at: float, record: Json) -> None:
        self.entries.append((at, record))
        self.db.append_audit(at, record)

    def visible(self, now: float, delay_s: float) -> list[Json]:
        """Records visible at `now`: those at least `delay_s` old, newest first."""
        return [record for at, record in reversed(self.entries) if at + delay_s <= now]
