"""What makes a plan unsafe (SPEC §4): removals or updates over the `safety` fractions of the managed
objects and edges of each kind (memberships and licenses count); and what is held instead of changed:
every draft touching a protected principal."""

from __future__ import annotations

from reconciler.plan.describe import describe, one_line
from reconciler.plan.groups import in_group_scope
from reconciler.plan.matching import Draft, Index
from reconciler.plan.model import Change, HeldItem, Remove, UnsafeItem
from reconciler.plan.users import in_user_scope

# kind → (actions that remove, actions that update), counted against the existing managed ones.
_COUNTED: dict[str, tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]] = {
    "user": (frozenset({("disable", "user"), ("delete", "user")}), frozenset({("update", "user")})),
    "group": (frozenset({("delete", "group")}), frozenset({("update", "group")})),
    "membership": (frozenset({("remove_member", "membership")}), frozenset()),
    "owner": (frozenset({("remove_owner", "owner")}), frozenset()),
    "license": (frozenset({("remove_license", "license")}), frozenset({("update_license", "license")})),
    "role": (frozenset({("remove_role", "role")}), frozenset()),
}
_PLURAL = {
    "user": "users",
    "group": "groups",
    "membership": "memberships",
    "owner": "owners",
    "license": "licenses",
    "role": "role assignments",
}


def split_protected(index: Index, drafts: list[Draft]) -> tuple[list[Draft], list[HeldItem]]:
    """Drafts touching a protected principal at either end (object, group, member, owner, manager) are
    not changes but held items saying what the YAML wants."""
    kept: list[Draft] = []
    items: list[HeldItem] = []
    for draft in drafts:
        principal = index.protected_end(draft.change)
        if principal is None:
            kept.append(draft)
        else:
            items.append(HeldItem(principal=principal, wants=one_line(draft.change)))
    return kept, items


def existing_counts(index: Index) -> dict[str, int]:
    """The managed objects and edges of each kind that exist live: those entraform could change."""
    live = index.live
    users = [u for u in live.users.values() if u.id in index.declared_user_keys or in_user_scope(index, u)]
    groups = [
        g for g in live.groups.values() if g.id in index.declared_group_keys or in_group_scope(index, g)
    ]
    declared_groups = [g for g in groups if g.id in index.declared_group_keys]
    return {
        "user": len(users),
        "group": len(groups),
        "membership": sum(len(g.member_user_ids) + len(g.member_group_ids) for g in declared_groups),
        "owner": sum(len(g.owner_ids) for g in declared_groups),
        "license": sum(len(u.direct_licenses) for u in users) + sum(len(g.licenses) for g in declared_groups),
        "role": _managed_role_assignments(index),
    }


def _managed_role_assignments(index: Index) -> int:
    """Assignments of the declared roles at their declared scopes: those a plan could remove."""
    managed = {
        (definition.id, role.directory_scope_id)
        for role in index.desired.roles.values()
        if (definition := index.live.role_definition(role.role)) is not None
    }
    assignments = index.live.role_assignments.values()
    return sum(1 for a in assignments if (a.role_definition_id, a.directory_scope_id) in managed)


def fraction_items(index: Index, changes: list[Change]) -> list[UnsafeItem]:
    safety = index.config.safety
    existing = existing_counts(index)
    items: list[UnsafeItem] = []
    for kind, (removing, updating) in _COUNTED.items():
        have = existing[kind]
        if have == 0 or have < safety.min_existing:
            continue
        removals = [c for c in changes if (c.action, c.kind) in removing]
        if len(removals) / have > safety.max_delete_fraction:
            message = _fraction_message(
                kind, removals, have, "removed", "max_delete_fraction", safety.max_delete_fraction
            )
            items.append(UnsafeItem("delete_fraction", message, kind, change_ids=[c.id for c in removals]))
        purges: list[Change] = [c for c in changes if isinstance(c, Remove) and c.kind == kind and c.purge]
        if purges and len(purges) / have > safety.max_purge_fraction:
            # A purge has no undo (no deletedItems to restore from): it has a margin of its own.
            message = _fraction_message(
                kind, purges, have, "purged", "max_purge_fraction", safety.max_purge_fraction
            )
            items.append(UnsafeItem("purge_fraction", message, kind, change_ids=[c.id for c in purges]))
        updates = [c for c in changes if (c.action, c.kind) in updating]
        if len(updates) / have > safety.max_update_fraction:
            message = _fraction_message(
                kind, updates, have, "updated", "max_update_fraction", safety.max_update_fraction
            )
            items.append(UnsafeItem("update_fraction", message, kind, change_ids=[c.id for c in updates]))
    return items


def _fraction_message(kind: str, hits: list[Change], have: int, verb: str, setting: str, limit: float) -> str:
    return (
        f"{len(hits)} of {have} {_PLURAL[kind]} ({len(hits) / have:.0%}) would be {verb}, over "
        f"safety.{setting} {limit:.0%}; first: {describe(hits[0])}"
    )
