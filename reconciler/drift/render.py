"""A drift report as text (a terminal, a CI log), markdown (an issue) and JSON (SPEC §4.1)."""

from __future__ import annotations

import json
from typing import Any

from reconciler.drift.model import DriftItem, DriftReport
from reconciler.plan.describe import value
from reconciler.wording import counted

FORMAT_VERSION = 1
NO_DRIFT = "No drift. The tenant matches git."


def headline(report: DriftReport) -> str:
    if report.is_empty:
        return NO_DRIFT
    summary = report.summary()
    parts = [f"The tenant differs from git in {counted(summary['items'], 'place')}"]
    detail = [
        f"{summary['changed_in_tenant']} changed in the tenant",
        f"{summary['not_applied']} not applied from git yet",
        f"{summary['unknown']} of unknown origin",
    ]
    if summary["added_to_scope"]:
        detail.append(f"{summary['added_to_scope']} added to an authoritative scope")
    held = f"; {counted(summary['held'], 'held item')} on protected principals" if report.held else ""
    return f"{parts[0]}: {', '.join(detail)}{held}."


def what(item: DriftItem) -> str:
    """The object or edge a difference is about, in the plan's words."""
    names = item.names
    if item.kind in ("user", "group"):
        return f"{item.kind} {names.get('key', '')}"
    if item.kind == "membership":
        return f"member {names.get('member', '')} of {names.get('group', '')}"
    if item.kind == "owner":
        return f"owner {names.get('owner', '')} of {names.get('group', '')}"
    if item.kind == "manager":
        return f"manager of {names.get('user', '')}"
    if item.kind == "license":
        holder = names.get("user") or f"group {names.get('group', '')}"
        return f"license {names.get('sku', '')} of {holder}"
    scope = names.get("directoryScopeId", "/")
    at = "" if scope == "/" else f" at {scope}"
    return f"role {names.get('role', '')}{at} held by {names.get('principal', '')}"


def difference(item: DriftItem) -> str:
    """`user ada@…: jobTitle: git "Staff Engineer", tenant "Drift Check Engineer"` and the like."""
    if item.attribute is not None:
        return f"{what(item)}: {item.attribute}: git {value(item.git)}, tenant {value(item.tenant)}"
    if item.deleted_in_tenant:
        return f"{what(item)}: deleted in the tenant; still declared"
    if item.added_to_scope:
        return f"{what(item)}: in the tenant, in an authoritative scope, declared nowhere"
    return f"{what(item)}: git {item.git}, tenant {item.tenant}"


def provenance(item: DriftItem) -> str:
    who = item.attribution
    if who.origin == "git":
        return "not applied yet: the YAML changed since the last apply"
    if who.origin == "unknown":
        return "who and when unknown"
    by = who.changed_by
    actor = (by.user or by.app_name or by.app or "someone") if by else "someone"
    app = f" (app {by.app_name or by.app})" if by and by.user and (by.app_name or by.app) else ""
    return f"{who.activity} by {actor}{app} at {who.changed_at}"


def render_text(report: DriftReport) -> str:
    lines = [*(f"note: {note}" for note in report.notes)]
    if report.held:
        lines.append("Held (protected principals stay as they are):")
        lines += [f"  !! {h.principal}: git wants: {h.wants}" for h in report.held]
        lines.append("")
    if report.items:
        lines += ["Drift (the tenant differs from git):", ""]
        for item in report.items:
            lines.append(f"  {item.id} {difference(item)}")
            lines.append(f"        {provenance(item)}; fixed by plan change {item.fix}")
        lines.append("")
    lines.append(headline(report))
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def render_markdown(report: DriftReport) -> str:
    out = ["### entraform drift", "", f"**{_escape(headline(report))}**", ""]
    out += [f"> {_escape(note)}" for note in report.notes] + ([""] if report.notes else [])
    if report.held:
        out += ["> [!WARNING]", "> 🔒 **Held**: protected principals stay as they are.", ">"]
        out += [f"> - **{_escape(h.principal)}**: git wants: {_escape(h.wants)}" for h in report.held]
        out.append("")
    if report.items:
        out += ["| | difference | origin | who and when |", "|---|---|---|---|"]
        for item in report.items:
            who = item.attribution
            origin = {"tenant": "changed in the tenant", "git": "not applied", "unknown": "unknown"}[
                who.origin
            ]
            out.append(
                f"| {item.id} | {_escape(difference(item))} | {origin} | {_escape(provenance(item))} |"
            )
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def report_to_dict(report: DriftReport) -> dict[str, Any]:
    summary = report.summary()
    return {
        "format_version": FORMAT_VERSION,
        "kind": "drift",
        "tenant": report.tenant,
        "checked_at": report.checked_at,
        "summary": {
            "items": summary["items"],
            "changed_in_tenant": summary["changed_in_tenant"],
            "not_applied": summary["not_applied"],
            "unknown": summary["unknown"],
            "added_to_scope": summary["added_to_scope"],
            "held": summary["held"],
        },
        "items": [_item(item) for item in report.items],
        "held": [{"principal": h.principal, "wants": h.wants} for h in report.held],
        "notes": list(report.notes),
    }


def _item(item: DriftItem) -> dict[str, Any]:
    who = item.attribution
    by = who.changed_by
    out: dict[str, Any] = {"id": item.id, "kind": item.kind, **item.names}
    if item.attribute is not None:
        out["attribute"] = item.attribute
    out |= {
        "git": item.git,
        "tenant": item.tenant,
        "origin": who.origin,
        "changed_by": None if by is None else {"app": by.app, "app_name": by.app_name, "user": by.user},
        "changed_at": who.changed_at,
        "activity": who.activity,
        "fix": item.fix,
    }
    return out


def render_json(report: DriftReport) -> str:
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"
