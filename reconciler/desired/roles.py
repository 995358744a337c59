"""`roles:` entries: who holds a directory role at a scope (SPEC §3).

A role is named by its definition's displayName or templateId; whether the tenant has it is for
pre-flight to say (the names are the tenant's). What the YAML alone can tell is checked here.
"""

from __future__ import annotations

import re

from reconciler.desired import grouptypes
from reconciler.desired.model import DesiredGroup, DesiredRole, MemberRef
from reconciler.desired.rules import nickname_problem, upn_problem
from reconciler.desired.schema import GroupRefModel, RoleSpec
from reconciler.desired.typecheck import join_path, type_check
from reconciler.errors import Location, Problem
from reconciler.yamlload import MarkedList, MarkedMap

# Graph's directory scopes: the tenant, an administrative unit, or an application object.
_SCOPE = re.compile(r"/|/administrativeUnits/[0-9a-fA-F-]{36}|/[0-9a-fA-F-]{36}")


def read_role(item: MarkedMap, path: str) -> tuple[DesiredRole | None, list[Problem]]:
    """One `roles:` item: the role it declares (None when it has problems) and its problems."""
    checked = type_check(RoleSpec, item, path)
    spec = checked.spec
    problems = list(checked.problems)
    if spec is None:
        return None, problems
    if not spec.role.strip():
        problems.append(
            Problem(f"{path}.role: name the role (its displayName or templateId)", item.location_of("role"))
        )
    if not _SCOPE.fullmatch(spec.directoryScopeId):
        place = item.location_of("directoryScopeId") if "directoryScopeId" in item else item.location
        message = (
            f"{path}.directoryScopeId: {spec.directoryScopeId!r} is not a directory scope; write / (the "
            "tenant) or /administrativeUnits/{id}"
        )
        problems.append(Problem(message, place))
    locations = item["principals"].item_locations if isinstance(item.get("principals"), MarkedList) else []
    principals: list[MemberRef] = []
    seen: dict[tuple[str, str], Location] = {}
    for index, (principal, location) in enumerate(zip(spec.principals, locations, strict=True)):
        where = join_path(join_path(path, "principals"), index)
        if isinstance(principal, GroupRefModel):
            ref = MemberRef("group", principal.group.lower(), *location)
            reason = nickname_problem(principal.group, "group")
        else:
            ref = MemberRef("user", principal.lower(), *location)
            reason = (
                upn_problem(principal)
                if "@" in principal
                else (f"{principal!r} is not a UPN; for a role-assignable group write `group: {principal}`")
            )
        if reason:
            problems.append(Problem(f"{where}: {reason}", location))
        elif (ref.kind, ref.key) in seen:
            first = seen[(ref.kind, ref.key)].line
            problems.append(
                Problem(f"{where}: {ref.key} is listed twice (first at line {first}); keep one", location)
            )
        else:
            seen[(ref.kind, ref.key)] = location
            principals.append(ref)
    if problems:
        return None, problems
    role = DesiredRole(
        spec.role.strip(), spec.directoryScopeId, tuple(principals), spec.principalsMode, item.location
    )
    return role, []


def principal_problems(
    roles: dict[tuple[str, str], DesiredRole], groups: dict[str, DesiredGroup]
) -> list[Problem]:
    """A declared group named as a role principal must be role-assignable (Graph refuses others)."""
    problems: list[Problem] = []
    for role in roles.values():
        for principal in role.principals:
            group = groups.get(principal.key) if principal.kind == "group" else None
            if group is not None and not grouptypes.is_role_assignable(group.attrs):
                message = (
                    f"group {group.key} ({group.location}) holds role {role.role}, but only role-assignable "
                    "groups can: declare it with isAssignableToRole: true (set when it is created)"
                )
                problems.append(Problem(message, principal.location or role.location))
    return problems
