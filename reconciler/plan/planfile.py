"""Plan ⇄ JSON (SPEC §4), saved plans (`plan --out`) and the stale check of `apply FILE`.

The top level has exactly the documented keys. This is the one place the typed changes are flattened:
a change carries `id`, `action`, `kind`, the names of the objects it touches (`key`, or `group`,
`member`, `owner`, `user`, `manager`), their Graph ids where they exist (`object_id` of the object
written to, `target_id` of the other end), `after`/`diff`, the SKU fields (`disabledPlans` in Graph's
camelCase), `revoke_sessions` when true and `depends_on` when not empty — always in that key order.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, assert_never, get_args

from reconciler import __version__
from reconciler.desired.model import Invitation
from reconciler.errors import PlanError
from reconciler.files import read_text, write_text
from reconciler.plan.describe import attribute_diff, describe, one_line
from reconciler.plan.model import (
    ORDER,
    RESTORABLE_DAYS,
    Action,
    Change,
    Create,
    Effects,
    HeldItem,
    Invite,
    LicenseChange,
    ManagerChange,
    MemberEffect,
    MembershipChange,
    ObjectKind,
    ObjectRef,
    OwnershipChange,
    Plan,
    Remove,
    Restore,
    RoleChange,
    RoleRef,
    SeatEffect,
    UnsafeItem,
    Update,
    WrittenDigests,
)

FORMAT_VERSION = 1
ACTIONS: tuple[str, ...] = get_args(Action)
_TOP_KEYS = (
    "format_version",
    "tenant",
    "created_at",
    "entraform_version",
    "desired_digest",
    "live_digest",
    "summary",
    "unsafe",
    "held",
    "changes",
)
_UNSAFE_FIELDS = {f.name for f in fields(UnsafeItem)}
_UNSAFE_REASONS = ("delete_fraction", "purge_fraction", "update_fraction")
_HELD_FIELDS = {f.name for f in fields(HeldItem)}
_KEY_ORDER = (
    "id",
    "action",
    "kind",
    "key",
    "object_id",
    "deletedDateTime",
    "invitation",
    "after",
    "diff",
    "replaces_id",
    "restorable_days",
    "purge",
    "group",
    "member",
    "owner",
    "user",
    "manager",
    "sku",
    "sku_id",
    "disabledPlans",
    "disabled_plan_ids",
    "role",
    "role_definition_id",
    "principal",
    "directoryScopeId",
    "target_id",
    "revoke_sessions",
    "depends_on",
)
_COMMON = frozenset({"id", "action", "kind", "depends_on"})
# The keys each shape of change may carry besides the common ones.
_SHAPES: dict[str, frozenset[str]] = {
    "create": frozenset({"key", "after", "invitation", "replaces_id"}),
    "restore": frozenset({"key", "object_id", "deletedDateTime"}),
    "update": frozenset({"key", "object_id", "diff", "revoke_sessions"}),
    "remove": frozenset({"key", "object_id", "revoke_sessions", "restorable_days", "purge"}),
    "manager": frozenset({"object_id", "user", "manager", "target_id"}),
    "membership": frozenset({"object_id", "group", "member", "target_id"}),
    "owner": frozenset({"object_id", "group", "owner", "target_id"}),
    "role": frozenset(
        {"object_id", "role", "role_definition_id", "principal", "directoryScopeId", "target_id"}
    ),
    "license": frozenset(
        {"object_id", "diff", "user", "group", "sku", "sku_id", "disabledPlans", "disabled_plan_ids"}
    ),
}


def change_to_dict(change: Change) -> dict[str, Any]:
    out: dict[str, Any] = {"id": change.id, "action": change.action, "kind": change.kind}
    match change:
        case Restore():
            out |= {"key": change.subject.key, "object_id": change.subject.id}
            out["deletedDateTime"] = change.deleted_at or None
        case Create():
            out |= {"key": change.subject.key, "after": dict(change.after), "replaces_id": change.gone_id}
        case Invite():
            out |= {"key": change.subject.key, "after": dict(change.after)}
            out["invitation"] = {
                "invitedUserEmailAddress": change.invitation.email,
                "sendInvitationMessage": change.invitation.send_message,
                "inviteRedirectUrl": change.invitation.redirect_url,
            }
        case Update():
            out |= {"key": change.subject.key, "object_id": change.subject.id, "diff": attribute_diff(change)}
            out["revoke_sessions"] = change.revoke_sessions
        case Remove():
            out |= {"key": change.subject.key, "object_id": change.subject.id}
            out["revoke_sessions"] = change.revoke_sessions
            out["restorable_days"] = RESTORABLE_DAYS if change.restorable else None
            out["purge"] = change.purge
        case ManagerChange():
            out |= {"object_id": change.user.id, "user": change.user.key, "manager": change.manager.key}
            out["target_id"] = change.manager.id
        case MembershipChange():
            out |= {"object_id": change.group.id, "group": change.group.key, "member": change.member.label}
            out["target_id"] = change.member.id
        case OwnershipChange():
            out |= {"object_id": change.group.id, "group": change.group.key, "owner": change.owner.key}
            out["target_id"] = change.owner.id
        case LicenseChange():
            out |= {"object_id": change.holder.id, "diff": attribute_diff(change) or None}
            out[change.holder.kind] = change.holder.key
            out |= {"sku": change.sku, "sku_id": change.sku_id}
            if change.action != "remove_license":
                out["disabledPlans"] = list(change.disabled_plans)
                out["disabled_plan_ids"] = list(change.disabled_plan_ids)
        case RoleChange():
            out |= {
                "object_id": change.assignment_id,
                "role": change.role.name,
                "role_definition_id": change.role.id,
            }
            out |= {"principal": change.principal.label, "directoryScopeId": change.directory_scope_id}
            out["target_id"] = change.principal.id
        case _:
            assert_never(change)
    out["depends_on"] = list(change.depends_on)
    present = {
        k: v for k, v in out.items() if v is not None and v is not False and not (k == "depends_on" and not v)
    }
    return {key: present[key] for key in _KEY_ORDER if key in present}


def summary(plan: Plan) -> dict[str, int]:
    """Every action with its count, zeros included, in the order of SPEC §4."""
    counts = plan.summary()
    return {action: counts.get(action, 0) for action in ACTIONS}


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "tenant": plan.tenant,
        "created_at": plan.created_at,
        "entraform_version": __version__,
        "desired_digest": plan.digests.desired,
        "live_digest": plan.digests.live,
        "summary": summary(plan),
        "unsafe": [
            {k: v for k, v in vars(item).items() if v is not None and v != []} for item in plan.unsafe
        ],
        "held": [asdict(item) for item in plan.held],
        "changes": [change_to_dict(c) for c in plan.changes],
        **({"targets": plan.targets} if plan.targets else {}),
        **({"effects": _effects_to_dict(plan.effects)} if not plan.effects.is_empty else {}),
    }


def dumps(plan: Plan) -> str:
    return json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False) + "\n"


def save(plan: Plan, path: str | Path) -> None:
    """Write the plan for a later `apply FILE`, stamping `created_at` if the caller has not."""
    if not plan.created_at:
        plan.created_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    write_text(Path(path), dumps(plan), "plan")


def load(path: str | Path, expected_tenant: str | None = None) -> Plan:
    text = read_text(Path(path), "plan")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"{path}:{exc.lineno}:{exc.colno}: not a plan file: invalid JSON ({exc.msg})"
        ) from None
    return plan_from_dict(data, expected_tenant, source=str(path))


def plan_from_dict(data: Any, expected_tenant: str | None = None, source: str = "plan") -> Plan:
    """A plan read back; a wrong format_version or tenant, or a damaged file, is a clear `PlanError`."""
    if not isinstance(data, dict) or "format_version" not in data:
        raise PlanError(
            f"{source}: not an entraform plan file (no format_version); make one with `plan --out`"
        )
    if data["format_version"] != FORMAT_VERSION:
        raise PlanError(
            f"{source}: plan format_version {data['format_version']!r} is not {FORMAT_VERSION}, the one this "
            f"entraform {__version__} reads; make a new plan"
        )
    # Plans saved before held items existed have no `held` list: nothing was held then.
    missing = [key for key in _TOP_KEYS if key not in data and key != "held"]
    extra = sorted(set(data) - set(_TOP_KEYS) - {"targets", "effects"})
    if missing or extra:
        raise PlanError(
            f"{source}: corrupt plan file: missing {missing or 'nothing'}, unexpected {extra or 'nothing'}"
        )
    if expected_tenant is not None and data["tenant"] != expected_tenant:
        raise PlanError(f"{source}: the plan was made for tenant {data['tenant']!r}, not {expected_tenant!r}")
    try:
        changes = [change_from_dict(c) for c in data["changes"]]
        unsafe = [_unsafe(u) for u in data["unsafe"]]
        held = [_held(h) for h in data.get("held", [])]
        plan = Plan(
            tenant=str(data["tenant"]),
            digests=WrittenDigests(str(data["desired_digest"]), str(data["live_digest"])),
            changes=changes,
            unsafe=unsafe,
            held=held,
            created_at=str(data["created_at"]),
            targets=[str(t) for t in data.get("targets", [])],
            effects=_effects(data.get("effects") or {}),
        )
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise PlanError(f"{source}: corrupt plan file: {exc}") from None
    if summary(plan) != data["summary"]:
        raise PlanError(f"{source}: corrupt plan file: its summary does not match its changes")
    return plan


# The actions of each variant, by name: reading a plan turns a JSON string into the variant's literal.
_REMOVES: dict[str, Literal["disable", "delete"]] = {"disable": "disable", "delete": "delete"}
_MANAGERS: dict[str, Literal["set_manager", "clear_manager"]] = {
    "set_manager": "set_manager",
    "clear_manager": "clear_manager",
}
_MEMBERS: dict[str, Literal["add_member", "remove_member"]] = {
    "add_member": "add_member",
    "remove_member": "remove_member",
}
_OWNERS: dict[str, Literal["add_owner", "remove_owner"]] = {
    "add_owner": "add_owner",
    "remove_owner": "remove_owner",
}
_LICENSES: dict[str, Literal["assign_license", "update_license", "remove_license"]] = {
    "assign_license": "assign_license",
    "update_license": "update_license",
    "remove_license": "remove_license",
}
_ROLES: dict[str, Literal["assign_role", "remove_role"]] = {
    "assign_role": "assign_role",
    "remove_role": "remove_role",
}
_OBJECTS: dict[str, ObjectKind] = {"user": "user", "group": "group"}


def change_from_dict(raw: Any) -> Change:
    """A change read back from its plan JSON; a damaged one raises `ValueError` saying what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError(f"a change is {type(raw).__name__}, not an object")
    if (raw.get("action"), raw.get("kind")) not in ORDER:
        raise ValueError(
            f"change {raw.get('id')!r}: no action {raw.get('action')!r} on kind {raw.get('kind')!r}"
        )
    action, kind = str(raw["action"]), str(raw["kind"])
    shape = "remove" if action in ("disable", "delete") else action if kind in ("user", "group") else kind
    unknown = sorted(set(raw) - _COMMON - _SHAPES[shape])
    if unknown:
        raise ValueError(f"change {raw.get('id')!r} has unknown keys {unknown}")
    numbered: dict[str, Any] = {"id": _text(raw, "id"), "depends_on": tuple(_texts(raw, "depends_on"))}
    if kind in _OBJECTS:
        subject = ObjectRef(_OBJECTS[kind], _text(raw, "key"), _id(raw, "object_id"))
        if action == "restore":
            return Restore(subject, str(raw.get("deletedDateTime") or ""), **numbered)
        if action == "create" and "invitation" in raw:
            return Invite(subject, _invitation(raw), _mapping(raw, "after"), **numbered)
        if action == "create":
            return Create(subject, _mapping(raw, "after"), _id(raw, "replaces_id"), **numbered)
        if action == "update":
            return Update(subject, _mapping(raw, "diff"), bool(raw.get("revoke_sessions")), **numbered)
        restorable = raw.get("restorable_days") is not None
        return Remove(_REMOVES[action], subject, bool(raw.get("purge")), restorable, **numbered)
    if kind == "manager":
        user = ObjectRef("user", _text(raw, "user"), _id(raw, "object_id"))
        return ManagerChange(
            _MANAGERS[action],
            user,
            ObjectRef("user", _text(raw, "manager"), _id(raw, "target_id")),
            **numbered,
        )
    if kind == "role":
        return RoleChange(
            _ROLES[action],
            RoleRef(_text(raw, "role_definition_id"), _text(raw, "role")),
            _labelled(_text(raw, "principal"), _id(raw, "target_id")),
            _text(raw, "directoryScopeId"),
            _id(raw, "object_id"),
            **numbered,
        )
    if kind in ("membership", "owner"):
        group = ObjectRef("group", _text(raw, "group"), _id(raw, "object_id"))
        if kind == "owner":
            return OwnershipChange(
                _OWNERS[action],
                group,
                ObjectRef("user", _text(raw, "owner"), _id(raw, "target_id")),
                **numbered,
            )
        member = _labelled(_text(raw, "member"), _id(raw, "target_id"))
        return MembershipChange(_MEMBERS[action], group, member, **numbered)
    holder_kind: ObjectKind = "user" if "user" in raw else "group"
    before = ((raw.get("diff") or {}).get("disabledPlans") or {}).get("before") or []
    return LicenseChange(
        _LICENSES[action],
        ObjectRef(holder_kind, _text(raw, holder_kind), _id(raw, "object_id")),
        _text(raw, "sku"),
        _text(raw, "sku_id"),
        disabled_plans=tuple(_texts(raw, "disabledPlans")),
        disabled_plan_ids=tuple(_texts(raw, "disabled_plan_ids")),
        plans_before=tuple(str(p) for p in before),
        **numbered,
    )


def _invitation(raw: dict[str, Any]) -> Invitation:
    invitation = _mapping(raw, "invitation")
    return Invitation(
        _text(invitation, "invitedUserEmailAddress"),
        bool(invitation.get("sendInvitationMessage")),
        _text(invitation, "inviteRedirectUrl"),
    )


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str):
        raise ValueError(f"change {raw.get('id')!r}: {key} must be a string, not {value!r}")
    return value


def _labelled(label: str, object_id: str | None) -> ObjectRef:
    """An edge's other end as the plan names it: a UPN, or `group:NICK`."""
    if label.startswith("group:"):
        return ObjectRef("group", label.removeprefix("group:"), object_id)
    return ObjectRef("user", label, object_id)


def _mapping(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"change {raw.get('id')!r}: {key} must be an object, not {value!r}")
    return value


def _id(raw: dict[str, Any], key: str) -> str | None:
    return None if raw.get(key) is None else _text(raw, key)


def _texts(raw: dict[str, Any], key: str) -> list[str]:
    values = raw.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"change {raw.get('id')!r}: {key} must be a list of strings")
    return values


def _unsafe(raw: Any) -> UnsafeItem:
    if not isinstance(raw, dict) or raw.get("reason") not in _UNSAFE_REASONS or set(raw) - _UNSAFE_FIELDS:
        raise ValueError(f"bad unsafe item {raw!r}")
    return UnsafeItem(**raw)


def _effects_to_dict(effects: Effects) -> dict[str, Any]:
    return {"members": [asdict(m) for m in effects.members], "seats": [asdict(s) for s in effects.seats]}


def _effects(raw: dict[str, Any]) -> Effects:
    """The blast radius read back (it says what the plan brings; nothing is applied from it)."""
    members = tuple(
        MemberEffect(
            str(m["change"]),
            str(m["group"]),
            tuple(m["gained"]),
            tuple(m["lost"]),
            tuple(m["reached"]),
            tuple(m["licenses"]),
            tuple(m["roles"]),
        )
        for m in raw.get("members", [])
    )
    seats = tuple(
        SeatEffect(str(s["sku"]), int(s["before"]), int(s["after"]), int(s["enabled"]))
        for s in raw.get("seats", [])
    )
    return Effects(members, seats)


def _held(raw: Any) -> HeldItem:
    if (
        not isinstance(raw, dict)
        or set(raw) != _HELD_FIELDS
        or not all(isinstance(v, str) for v in raw.values())
    ):
        raise ValueError(f"bad held item {raw!r}")
    return HeldItem(**raw)


def _signature(change: Change) -> str:
    # Ids and depends_on renumber when anything before them moves; what a change does is the rest.
    content = {k: v for k, v in change_to_dict(change).items() if k not in ("id", "depends_on")}
    return json.dumps(content, sort_keys=True, ensure_ascii=False)


def _short(change: Change) -> str:
    # A create lists every attribute sent: its headline says enough to find it in the plan.
    return describe(change) if isinstance(change, Create) else one_line(change)


def compare(saved: Plan, fresh: Plan) -> list[str]:
    """What moved between a saved plan and a fresh one of the same inputs; empty when it is not stale."""
    lines: list[str] = []
    if saved.tenant != fresh.tenant:
        lines.append(f"tenant: the plan is for {saved.tenant}, the tenant read is {fresh.tenant}")
    old = Counter(_signature(c) for c in saved.changes)
    new = Counter(_signature(c) for c in fresh.changes)
    gone, added = old - new, new - old
    for change in saved.changes:
        if gone[_signature(change)] > 0:
            gone[_signature(change)] -= 1
            lines.append(f"no longer needed: {_short(change)}")
    for change in fresh.changes:
        if added[_signature(change)] > 0:
            added[_signature(change)] -= 1
            lines.append(f"now also needed: {_short(change)}")
    # Fraction messages quote live counts; what matters is whether the same things are unsafe.
    old_unsafe = {(u.reason, u.kind, u.key): u.message for u in saved.unsafe}
    new_unsafe = {(u.reason, u.kind, u.key): u.message for u in fresh.unsafe}
    lines += [f"no longer unsafe: {m}" for k, m in old_unsafe.items() if k not in new_unsafe]
    lines += [f"now unsafe: {m}" for k, m in new_unsafe.items() if k not in old_unsafe]
    return lines
