"""Plan ⇄ JSON (SPEC §4), saved plans (`plan --out`) and the stale check of `apply FILE`.

The top level has exactly the documented keys. A change carries its non-empty fields under their
names, except `disabledPlans` (Graph's camelCase, as in the YAML); None fields are left out.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

from reconciler import __version__
from reconciler.errors import PlanError
from reconciler.files import read_text, write_text
from reconciler.plan.describe import describe, one_line
from reconciler.plan.model import ORDER, Action, Change, HeldItem, Plan, UnsafeItem

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
_JSON_NAMES = {"disabled_plans": "disabledPlans"}
_FIELD_NAMES = {v: k for k, v in _JSON_NAMES.items()}
_CHANGE_FIELDS = {f.name for f in fields(Change)}
_UNSAFE_FIELDS = {f.name for f in fields(UnsafeItem)}
_UNSAFE_REASONS = ("delete_fraction", "update_fraction")
_HELD_FIELDS = {f.name for f in fields(HeldItem)}


def change_to_dict(change: Change) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(Change):
        value = getattr(change, f.name)
        if value is None or value is False or (f.name == "depends_on" and not value):
            continue
        out[_JSON_NAMES.get(f.name, f.name)] = value
    return out


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
        "desired_digest": plan.desired_digest,
        "live_digest": plan.live_digest,
        "summary": summary(plan),
        "unsafe": [
            {k: v for k, v in vars(item).items() if v is not None and v != []} for item in plan.unsafe
        ],
        "held": [asdict(item) for item in plan.held],
        "changes": [change_to_dict(c) for c in plan.changes],
        **({"targets": plan.targets} if plan.targets else {}),
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
    extra = sorted(set(data) - set(_TOP_KEYS) - {"targets"})
    if missing or extra:
        raise PlanError(
            f"{source}: corrupt plan file: missing {missing or 'nothing'}, unexpected {extra or 'nothing'}"
        )
    if expected_tenant is not None and data["tenant"] != expected_tenant:
        raise PlanError(f"{source}: the plan was made for tenant {data['tenant']!r}, not {expected_tenant!r}")
    try:
        changes = [_change(c) for c in data["changes"]]
        unsafe = [_unsafe(u) for u in data["unsafe"]]
        held = [_held(h) for h in data.get("held", [])]
        plan = Plan(
            tenant=str(data["tenant"]),
            desired_digest=str(data["desired_digest"]),
            live_digest=str(data["live_digest"]),
            changes=changes,
            unsafe=unsafe,
            held=held,
            created_at=str(data["created_at"]),
            targets=[str(t) for t in data.get("targets", [])],
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise PlanError(f"{source}: corrupt plan file: {exc}") from None
    if summary(plan) != data["summary"]:
        raise PlanError(f"{source}: corrupt plan file: its summary does not match its changes")
    return plan


def _change(raw: Any) -> Change:
    if not isinstance(raw, dict):
        raise ValueError(f"a change is {type(raw).__name__}, not an object")
    values: dict[str, Any] = {_FIELD_NAMES.get(str(k), str(k)): v for k, v in raw.items()}
    unknown = sorted(set(values) - _CHANGE_FIELDS)
    if unknown:
        raise ValueError(f"change {raw.get('id')!r} has unknown keys {unknown}")
    if (values.get("action"), values.get("kind")) not in ORDER:
        raise ValueError(
            f"change {raw.get('id')!r}: no action {values.get('action')!r} on kind {values.get('kind')!r}"
        )
    return Change(**values)


def _unsafe(raw: Any) -> UnsafeItem:
    if not isinstance(raw, dict) or raw.get("reason") not in _UNSAFE_REASONS or set(raw) - _UNSAFE_FIELDS:
        raise ValueError(f"bad unsafe item {raw!r}")
    return UnsafeItem(**raw)


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
    return describe(change) if change.action == "create" else one_line(change)


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
