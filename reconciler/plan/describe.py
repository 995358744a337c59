"""One line per change, shared by the renderers, held and unsafe messages, and the stale check."""

from __future__ import annotations

import json
from typing import Any, assert_never

from reconciler.plan.model import (
    RESTORABLE_DAYS,
    Action,
    Change,
    Create,
    Effects,
    Invite,
    LicenseChange,
    ManagerChange,
    MembershipChange,
    ObjectRef,
    OwnershipChange,
    Remove,
    Restore,
    RoleChange,
    Update,
)

MAX_NAMED = 10  # users named in one effect line; the count says the rest
SYMBOLS: dict[Action, str] = {
    "create": "+",
    "add_member": "+",
    "add_owner": "+",
    "assign_license": "+",
    "update": "~",
    "set_manager": "~",
    "update_license": "~",
    "clear_manager": "-",
    "remove_member": "-",
    "remove_owner": "-",
    "remove_license": "-",
    "disable": "-",
    "delete": "-",
    "assign_role": "+",
    "remove_role": "-",
    "restore": "+",
}


def value(v: Any) -> str:
    """A value as JSON (strings quoted, null for cleared), so that types and emptiness stay visible."""
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


def _holder(ref: ObjectRef) -> str:
    return ref.key if ref.kind == "user" else f"group {ref.key}"


def describe(change: Change) -> str:
    """`create user ada@…`, `add member ada@… to grp-eng`, … (no symbol, no attribute details)."""
    match change:
        case Restore():
            when = f", deleted {change.deleted_at}" if change.deleted_at else ""
            return (
                f"restore {change.kind} {change.subject.key} from deletedItems "
                f"(keeps its id {change.subject.id}{when})"
            )
        case Create() if change.gone_id:
            return (
                f"create group {change.subject.key} (its pinned id {change.gone_id} is gone: Graph deletes "
                "security groups permanently and cannot restore them; the new group gets a new id)"
            )
        case Invite():
            return f"invite guest {change.subject.key} (POST /invitations; Graph assigns its #EXT# UPN)"
        case Create() | Update():
            return f"{change.action} {change.kind} {change.subject.key}"
        case Remove(action="disable"):
            return f"disable user {change.subject.key} (accountEnabled false, sign-in sessions revoked)"
        case Remove(purge=True):
            return f"delete {change.kind} {change.subject.key} permanently (then purged from deletedItems)"
        case Remove(restorable=True):
            return (
                f"delete {change.kind} {change.subject.key} (restorable from deletedItems for "
                f"{RESTORABLE_DAYS} days)"
            )
        case Remove():
            return f"delete {change.kind} {change.subject.key} (permanently: Graph cannot restore it)"
        case ManagerChange(action="set_manager"):
            return f"set manager of {change.user.key} to {change.manager.key}"
        case ManagerChange():
            return f"clear manager of {change.user.key} (was {change.manager.key})"
        case MembershipChange(action="add_member"):
            return f"add member {change.member.label} to {change.group.key}"
        case MembershipChange():
            return f"remove member {change.member.label} from {change.group.key}"
        case OwnershipChange(action="add_owner"):
            return f"add owner {change.owner.key} to {change.group.key}"
        case OwnershipChange():
            return f"remove owner {change.owner.key} from {change.group.key}"
        case LicenseChange(action="assign_license"):
            plans = f" (disabledPlans: {', '.join(change.disabled_plans)})" if change.disabled_plans else ""
            return f"assign license {change.sku} to {_holder(change.holder)}{plans}"
        case LicenseChange(action="update_license"):
            return f"update license {change.sku} of {_holder(change.holder)}"
        case LicenseChange():
            return f"remove license {change.sku} from {_holder(change.holder)}"
        case RoleChange():
            verb, word = ("assign", "to") if change.action == "assign_role" else ("remove", "from")
            scope = "" if change.directory_scope_id == "/" else f" at {change.directory_scope_id}"
            return f"{verb} role {change.role.name}{scope} {word} {change.principal.label}"
        case _:
            assert_never(change)


def attribute_diff(change: Change) -> dict[str, dict[str, Any]]:
    """`{attr: {"before": …, "after": …}}` of an update, or of the disabled plans of a license update."""
    if isinstance(change, Update):
        return {name: dict(d) for name, d in change.diff.items()}
    if isinstance(change, LicenseChange) and change.action == "update_license":
        return {"disabledPlans": {"before": list(change.plans_before), "after": list(change.disabled_plans)}}
    return {}


def details(change: Change) -> list[str]:
    """The attribute lines under a change: `attr: value` for a create, `attr: before → after` otherwise."""
    lines = [f"{name}: {value(v)}" for name, v in change.after.items()] if isinstance(change, Create) else []
    if isinstance(change, Invite):
        invitation = change.invitation
        lines.append(f"invitedUserEmailAddress: {value(invitation.email)}")
        lines.append(f"sendInvitationMessage: {value(invitation.send_message)}")
        lines.append(f"inviteRedirectUrl: {value(invitation.redirect_url)}")
        lines += [f"{name}: {value(v)}" for name, v in change.after.items()]
    lines += [
        f"{name}: {value(d['before'])} → {value(d['after'])}" for name, d in attribute_diff(change).items()
    ]
    if isinstance(change, Update) and change.revoke_sessions:
        lines.append("sign-in sessions revoked")
    return lines


def effect_lines(effects: Effects) -> list[str]:
    """The blast radius in words: who gains or loses what, and the seats per SKU after the plan."""
    lines = []
    for m in effects.members:
        users = m.gained or m.lost
        sign, verb = ("+", "join") if m.gained else ("-", "leave")
        shown = ", ".join(users[:MAX_NAMED])
        more = f", … {len(users) - MAX_NAMED} more" if len(users) > MAX_NAMED else ""
        text = f"{m.change}: {sign}{len(users)} user{'s' if len(users) != 1 else ''} {verb} {m.group}"
        text += f" ({shown}{more})" if users else ""
        if m.reached:
            text += f"; through it also {', '.join(m.reached)}"
        if m.licenses:
            text += f"; {m.group} assigns {', '.join(m.licenses)} (to its direct user members)"
        if m.roles:
            text += f"; {m.group} holds {', '.join(m.roles)}"
        lines.append(text)
    lines += [f"seats {s.sku}: {s.before} → {s.after} of {s.enabled}" for s in effects.seats]
    return lines


def one_line(change: Change) -> str:
    """A change with its details folded in, for messages that must stand alone."""
    extra = details(change)
    return f"{describe(change)}: {'; '.join(extra)}" if extra else describe(change)
