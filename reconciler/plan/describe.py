"""One line per change, shared by the renderers, unsafe messages and the stale check."""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan.model import Change

SYMBOLS: dict[str, str] = {
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
}


def value(v: Any) -> str:
    """A value as JSON (strings quoted, null for cleared), so that types and emptiness stay visible."""
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


def _holder(change: Change) -> str:
    return change.user if change.user is not None else f"group {change.group}"


def describe(change: Change) -> str:
    """`create user ada@…`, `add member ada@… to grp-eng`, … (no symbol, no attribute details)."""
    a = change.action
    if a in ("create", "update", "delete"):
        return f"{a} {change.kind} {change.key}"
    if a == "disable":
        return f"disable user {change.key} (accountEnabled false, sign-in sessions revoked)"
    if a == "set_manager":
        return f"set manager of {change.user} to {change.manager}"
    if a == "clear_manager":
        return f"clear manager of {change.user} (was {change.manager})"
    if a == "add_member":
        return f"add member {change.member} to {change.group}"
    if a == "remove_member":
        return f"remove member {change.member} from {change.group}"
    if a == "add_owner":
        return f"add owner {change.owner} to {change.group}"
    if a == "remove_owner":
        return f"remove owner {change.owner} from {change.group}"
    plans = f" (disabledPlans: {', '.join(change.disabled_plans)})" if change.disabled_plans else ""
    if a == "assign_license":
        return f"assign license {change.sku} to {_holder(change)}{plans}"
    if a == "update_license":
        return f"update license {change.sku} of {_holder(change)}"
    return f"remove license {change.sku} from {_holder(change)}"


def details(change: Change) -> list[str]:
    """The attribute lines under a change: `attr: value` for a create, `attr: before → after` otherwise."""
    lines = [f"{name}: {value(v)}" for name, v in (change.after or {}).items()]
    lines += [
        f"{name}: {value(d['before'])} → {value(d['after'])}" for name, d in (change.diff or {}).items()
    ]
    if change.action == "update" and change.revoke_sessions:
        lines.append("sign-in sessions revoked")
    return lines


def one_line(change: Change) -> str:
    """A change with its details folded in, for messages that must stand alone."""
    extra = details(change)
    return f"{describe(change)}: {'; '.join(extra)}" if extra else describe(change)
