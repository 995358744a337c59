"""`entraform report access`: every directory role with its holders — the admin-role audit (pure).

A holder holds a role directly, or through a role-assignable group it is a member of (such groups
cannot nest, so one level is all there is). Each holder is shown with its last sign-in and whether the
YAML declares it: an undeclared holder of a privileged role is what an auditor asks about first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.desired.model import DesiredState
from reconciler.live import LiveState
from reconciler.reports.signins import SignIns


@dataclass(frozen=True)
class Holder:
    principal: str  # UPN, `group:NICK`, or the id of an object entraform does not read (a service principal)
    kind: str  # user, group, other
    via: str | None  # `group:NICK` a user holds the role through
    last_sign_in: str | None
    declared: bool  # the YAML declares this principal for this role and scope


@dataclass(frozen=True)
class RoleHolders:
    role: str
    role_id: str
    scope: str
    holders: tuple[Holder, ...]

    @property
    def undeclared(self) -> tuple[Holder, ...]:
        return tuple(h for h in self.holders if not h.declared and h.via is None)


@dataclass
class AccessReport:
    roles: list[RoleHolders] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sign_ins_available: bool = True


def access_report(live: LiveState, sign_ins: SignIns, desired: DesiredState | None) -> AccessReport:
    declared: dict[tuple[str, str], set[str]] = {}
    for role in desired.roles.values() if desired else ():
        definition = live.role_definition(role.role)
        if definition is not None:
            labels = {p.key if p.kind == "user" else f"group:{p.key}" for p in role.principals}
            declared.setdefault((definition.id, role.directory_scope_id), set()).update(labels)
    held: dict[tuple[str, str], list[Holder]] = {}
    for assignment in live.role_assignments.values():
        key = (assignment.role_definition_id, assignment.directory_scope_id)
        wanted = declared.get(key, set())
        holders = held.setdefault(key, [])
        user = live.users.get(assignment.principal_id)
        group = live.groups.get(assignment.principal_id)
        if user is not None:
            holders.append(Holder(user.upn, "user", None, sign_ins.of(user.id), user.key in wanted))
        elif group is not None:
            label = f"group:{group.mail_nickname}"
            holders.append(Holder(label, "group", None, None, label.lower() in wanted))
            for member_id in sorted(group.member_user_ids):
                member = live.users.get(member_id)
                if member is not None:
                    holders.append(
                        Holder(member.upn, "user", label, sign_ins.of(member.id), label.lower() in wanted)
                    )
        else:
            holders.append(Holder(assignment.principal_id, "other", None, None, False))
    report = AccessReport(sign_ins_available=sign_ins.available)
    for (role_id, scope), holders in held.items():
        definition = live.role_definitions.get(role_id)
        name = definition.display_name if definition else role_id
        ordered = tuple(sorted(holders, key=lambda h: (h.via is not None, h.via or "", h.principal.lower())))
        report.roles.append(RoleHolders(name, role_id, scope, ordered))
    report.roles.sort(key=lambda r: (r.role.lower(), r.scope))
    if not sign_ins.available:
        report.notes.append(
            "last sign-ins are unavailable: the app may not read signInActivity (AuditLog.Read.All)"
        )
    return report
