"""References between declared objects: managers, owners, members, nested-group cycles.

A reference to a user or group that no YAML declares is not an error here: it may exist in the
tenant, so it becomes a `Reference` that `plan` checks against the live state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from reconciler.desired import grouptypes
from reconciler.desired.model import DesiredGroup, Kind, Reference
from reconciler.errors import Location, Problem


class PendingRef(NamedTuple):
    """A reference as written, resolved once every file is read (a tuple: there is one per manager and
    owner, and one per member no file declares)."""

    kind: Kind
    key: str  # lower-cased
    location: Location
    role: str  # "manager", "owner", "member"


def resolve(
    refs: Iterable[PendingRef],
    declared: dict[Kind, set[str]],
    renamed: dict[Kind, dict[str, str]],
) -> tuple[list[Reference], list[Problem]]:
    """Split references into external ones (must exist live) and errors (a former key of a renamed object)."""
    external: list[Reference] = []
    problems: list[Problem] = []
    for ref in refs:
        if ref.key in declared[ref.kind]:
            continue
        new_key = renamed[ref.kind].get(ref.key)
        if new_key is not None:
            message = f"{ref.key} was renamed to {new_key} (see its renamedFrom); refer to {new_key}"
            problems.append(Problem(f"{ref.role} {message}", ref.location))
        else:
            external.append(Reference(ref.kind, ref.key, ref.location, ref.role))
    return external, problems


def nesting_cycles(groups: dict[str, DesiredGroup]) -> list[Problem]:
    """One error per membership that closes a cycle of nested declared groups, at that membership."""
    edges = {key: _nested_declared(group, groups) for key, group in groups.items()}
    problems: list[Problem] = []
    done: set[str] = set()
    for root in sorted(edges):
        if root in done:
            continue
        # Iterative depth-first search: nesting can be deeper than Python's recursion limit.
        path = [root]
        on_path = {root}
        stack = [iter(edges[root])]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                continue
            child, location = step
            if child in on_path:
                cycle = " → ".join([*path[path.index(child) :], child])
                message = f"nested groups form a cycle: {cycle}; remove one of these memberships"
                if child == path[-1]:
                    message = f"{child} cannot be a member of itself"
                problems.append(Problem(message, location or Location("", 0, 0)))
            elif child not in done:
                path.append(child)
                on_path.add(child)
                stack.append(iter(edges[child]))
    return problems


def _nested_declared(
    group: DesiredGroup, groups: dict[str, DesiredGroup]
) -> list[tuple[str, Location | None]]:
    """The declared groups `group` lists as members, and where."""
    members = group.members
    if not members:
        return []
    return [
        (key, members.location(n))
        for n, (kind, key) in enumerate(members.pairs())
        if kind == "group" and key in groups
    ]


def nested_microsoft_365_groups(groups: dict[str, DesiredGroup]) -> list[Problem]:
    """A declared Microsoft 365 group listed as a member of another declared group, at that membership.

    Graph's rule the parent cannot tell on its own (a Microsoft 365 or role-assignable parent already says
    it takes no groups at all, in `rules.check_group`).
    """
    problems: list[Problem] = []
    for parent in groups.values():
        members = parent.members
        if not members or grouptypes.parent_refusal(parent.attrs) or grouptypes.is_read_only(parent.attrs):
            continue
        for n, (kind, key) in enumerate(members.pairs()):
            child = groups.get(key) if kind == "group" else None
            refused = grouptypes.child_refusal(child.attrs) if child else None
            if child is not None and refused:
                message = (
                    f"group {child.key} is {grouptypes.kind_of(child.attrs)} ({child.location}): {refused}"
                )
                problems.append(Problem(message, members.location(n) or parent.location))
    return problems
