"""Directory role assignments: who holds which role definition at which directory scope.

The store owns one `RoleAssignments` and writes it through to SQLite (database.py). An assignment's id is
built as Graph builds the ids its docs show: the role definition's and the principal's GUIDs, as bytes,
base64url without padding, then "-1" (rbacapplication-list-roleassignments: "lAPpYvVpN0KRkAEhdxReEMmO4Kw…-1"
is Global Administrator 62e90394-… for principal ace08ec9-…). Graph's docs show no id for a scope other
than the tenant; the emulator appends that scope's own GUID's bytes so that the ids stay unique.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable

from reconciler.emulator.database import Database
from reconciler.emulator.types import Json

TENANT_SCOPE = "/"


def assignment_id(role_id: str, principal_id: str, scope: str) -> str:
    raw = uuid.UUID(role_id).bytes_le + uuid.UUID(principal_id).bytes_le
    if scope != TENANT_SCOPE:
        raw += uuid.UUID(scope.rsplit("/", 1)[-1]).bytes_le
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + "-1"


def new_assignment(role_id: str, principal_id: str, scope: str) -> Json:
    """A unifiedRoleAssignment as the directory provider returns it (rbacapplication-list-roleassignments
    examples: `resourceScope` beside `directoryScopeId`; resources/unifiedroleassignment: `appScopeId`)."""
    return {
        "id": assignment_id(role_id, principal_id, scope),
        "principalId": principal_id,
        "resourceScope": scope,
        "directoryScopeId": scope,
        "appScopeId": None,
        "roleDefinitionId": role_id,
    }


class RoleAssignments:
    """The tenant's role assignments by id, in the order they were made, with a principal index."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.by_id: dict[str, Json] = {}

    def load(self, rows: Iterable[Json]) -> None:
        self.by_id = {row["id"]: row for row in rows}

    def listing(self) -> list[Json]:
        return list(self.by_id.values())

    def find(self, role_id: str, principal_id: str, scope: str) -> Json | None:
        return self.by_id.get(assignment_id(role_id, principal_id, scope))

    def of_principal(self, principal_id: str) -> list[Json]:
        return [a for a in self.by_id.values() if a["principalId"] == principal_id]

    def add(self, assignment: Json) -> None:
        self.by_id[assignment["id"]] = assignment
        self.db.put_role_assignment(assignment)

    def remove(self, assignment_id_: str) -> Json:
        assignment = self.by_id.pop(assignment_id_)
        self.db.drop_role_assignment(assignment_id_)
        return assignment
