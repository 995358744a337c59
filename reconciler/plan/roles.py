"""Directory role changes: who holds each declared role at its scope (SPEC §3, §4).

Only roles the YAML declares are read and planned; a role left out is never touched. `replace` (the
default) removes holders not listed; `append` keeps them. Service principals holding a declared role
cannot be declared (principals are users and role-assignable groups), so they are left as they are.
"""

from __future__ import annotations

from reconciler.plan.matching import Draft, Index, needs_of
from reconciler.plan.model import RoleChange, RoleRef


def role_drafts(index: Index) -> list[Draft]:
    live = index.live
    drafts: list[Draft] = []
    for key in sorted(index.desired.roles):
        declared = index.desired.roles[key]
        definition = live.role_definition(declared.role)
        if definition is None:
            continue  # an unknown role is a pre-flight problem
        role = RoleRef(definition.id, definition.display_name)
        scope = declared.directory_scope_id
        current = {
            a.principal_id: a
            for a in live.role_assignments.values()
            if a.role_definition_id == definition.id and a.directory_scope_id == scope
        }
        wanted: set[str] = set()
        for principal in declared.principals:
            ref = index.user(principal.key) if principal.kind == "user" else index.group(principal.key)
            if ref is None:
                continue  # an unknown reference is a pre-flight problem
            if ref.id is not None:
                wanted.add(ref.id)
                if ref.id in current:
                    continue
            drafts.append(Draft(RoleChange("assign_role", role, ref, scope), needs_of(ref)))
        if declared.mode == "append":
            continue
        for principal_id, assignment in sorted(current.items()):
            if principal_id in wanted:
                continue
            if principal_id in live.users:
                holder = index.live_user(principal_id)
            elif principal_id in live.groups:
                holder = index.live_group(principal_id)
            else:
                continue  # a service principal, or an object this read does not cover
            drafts.append(Draft(RoleChange("remove_role", role, holder, scope, assignment.id)))
    return drafts
