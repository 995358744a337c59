"""The license and access reports as text (a terminal), markdown (a monthly issue) and JSON (dashboards)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from reconciler.plan.describe import value
from reconciler.reports.access import AccessReport
from reconciler.reports.licenses import LicenseReport
from reconciler.reports.show import Shown
from reconciler.wording import counted


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    return [line, *("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)]


def _md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    escape = [[c.replace("|", "\\|") for c in r] for r in rows]
    return [
        f"| {' | '.join(headers)} |",
        f"|{'---|' * len(headers)}",
        *(f"| {' | '.join(r)} |" for r in escape),
    ]


def _sku_rows(report: LicenseReport) -> list[list[str]]:
    return [
        [
            s.part_number,
            str(s.enabled),
            str(s.consumed),
            str(s.free),
            str(s.direct),
            str(s.via_group),
            str(s.on_disabled),
            str(s.on_inactive),
        ]
        for s in report.skus
    ]


_SKU_HEADERS = ["SKU", "enabled", "consumed", "free", "direct", "via group", "on disabled", "on inactive"]


def _reclaim_lines(report: LicenseReport) -> list[str]:
    lines = []
    for r in report.reclaimable:
        where = f"{r.location}: " if r.location else ""
        seen = f", last sign-in {r.last_sign_in}" if r.last_sign_in else ""
        lines.append(f"{r.sku} on {r.user} ({r.reason}{seen}): {where}{r.edit}")
    return lines


def licenses_text(report: LicenseReport) -> str:
    lines = [*(f"note: {n}" for n in report.notes), *_table(_SKU_HEADERS, _sku_rows(report)), ""]
    reclaim = _reclaim_lines(report)
    lines.append(
        f"Reclaimable: {counted(len(reclaim), 'seat')} "
        f"(disabled, or no sign-in for {report.inactive_days} days)"
    )
    lines += [f"  {line}" for line in reclaim]
    return "\n".join(lines) + "\n"


def licenses_markdown(report: LicenseReport) -> str:
    out = ["### entraform license report", "", *(f"> {n}" for n in report.notes)]
    out += [""] if report.notes else []
    out += [*_md_table(_SKU_HEADERS, _sku_rows(report)), ""]
    reclaim = _reclaim_lines(report)
    out.append(
        f"**{counted(len(reclaim), 'reclaimable seat')}** "
        f"(disabled, or no sign-in for {report.inactive_days} days)"
    )
    if reclaim:
        out += ["", "<details>", "<summary>Reclaimable seats and the edit that frees each</summary>", ""]
        out += [f"- {line}" for line in reclaim] + ["", "</details>"]
    return "\n".join(out) + "\n"


def licenses_json(report: LicenseReport) -> str:
    skus = [{**asdict(s), "free": s.free} for s in report.skus]
    reclaim = [{**asdict(r), "location": str(r.location) if r.location else None} for r in report.reclaimable]
    body: dict[str, Any] = {
        "kind": "licenses",
        "inactive_days": report.inactive_days,
        "skus": skus,
        "reclaimable": reclaim,
        "notes": report.notes,
    }
    return json.dumps(body, indent=2) + "\n"


def _holder_rows(report: AccessReport) -> list[list[str]]:
    rows = []
    for role in report.roles:
        at = "" if role.scope == "/" else f" ({role.scope})"
        for h in role.holders:
            via = f"via {h.via}" if h.via else "direct"
            row = [role.role + at, h.principal, via, "yes" if h.declared else "NO"]
            if report.sign_ins_available:
                row.insert(3, h.last_sign_in or ("never" if h.kind == "user" else "-"))
            rows.append(row)
    return rows


def _access_headers(report: AccessReport) -> list[str]:
    seen = ["last sign-in"] if report.sign_ins_available else []
    return ["role", "holder", "how", *seen, "in YAML"]


def access_text(report: AccessReport) -> str:
    undeclared = sum(len(r.undeclared) for r in report.roles)
    lines = [
        *(f"note: {n}" for n in report.notes),
        *_table(_access_headers(report), _holder_rows(report)),
        "",
    ]
    lines.append(
        f"{counted(len(report.roles), 'role')} held; {counted(undeclared, 'holder')} not declared in YAML."
    )
    return "\n".join(lines) + "\n"


def access_markdown(report: AccessReport) -> str:
    undeclared = sum(len(r.undeclared) for r in report.roles)
    out = ["### entraform access report", "", *(f"> {n}" for n in report.notes)]
    out += [""] if report.notes else []
    out.append(
        f"**{counted(len(report.roles), 'role')} held; "
        f"{counted(undeclared, 'holder')} not declared in YAML.**"
    )
    out += ["", *_md_table(_access_headers(report), _holder_rows(report))]
    return "\n".join(out) + "\n"


def access_json(report: AccessReport) -> str:
    roles = [
        {
            "role": r.role,
            "role_id": r.role_id,
            "directoryScopeId": r.scope,
            "holders": [asdict(h) for h in r.holders],
        }
        for r in report.roles
    ]
    return json.dumps({"kind": "access", "roles": roles, "notes": report.notes}, indent=2) + "\n"


def show_text(shown: Shown) -> str:
    declared = "declared in YAML" if shown.declared else "not declared in YAML"
    lines = [*(f"note: {n}" for n in shown.notes), f"{shown.kind} {shown.key} (id {shown.id}; {declared})"]
    width = max((len(a.name) for a in shown.attributes), default=0)
    for a in shown.attributes:
        mark = f"   ≠ git: {value(a.git)}" if a.differs else ""
        lines.append(f"  {a.name.ljust(width)}  {value(a.tenant)}{mark}")
    if shown.kind == "user":
        chain = " → ".join(shown.managers) if shown.managers else "(none)"
        lines += [f"manager chain: {chain}", f"direct reports: {shown.direct_reports}"]
        if shown.sign_in_readable:  # else the note at the top says why there is none, once
            lines.append(f"last sign-in: {shown.last_sign_in or 'never'}")
    else:
        lines.append(f"owners ({len(shown.owners)}): {', '.join(shown.owners) or '(none)'}")
        lines.append(f"members: {len(shown.members)} direct, {len(shown.transitive_members)} transitive")
        lines += [f"  {m}" for m in shown.members]
        extra = sorted(set(shown.transitive_members) - set(shown.members))
        lines += [f"  {m} (through a nested group)" for m in extra]
    lines.append(f"groups ({len(shown.groups)}):")
    for g in shown.groups:
        how = "direct" if len(g.path) == 1 else "via " + " → ".join(g.path)
        lines.append(f"  {g.nickname}  ({how})")
    lines.append(f"licenses ({len(shown.licenses)}):")
    for lic in shown.licenses:
        plans = f"; disabledPlans: {', '.join(lic.disabled_plans)}" if lic.disabled_plans else ""
        lines.append(f"  {lic.sku}  ({f'via group {lic.via}' if lic.via else 'direct'}{plans})")
    lines.append(f"directory roles ({len(shown.roles)}):")
    for role in shown.roles:
        scope = "" if role.scope == "/" else f" at {role.scope}"
        lines.append(f"  {role.role}{scope}  ({f'via group {role.via}' if role.via else 'direct'})")
    return "\n".join(lines) + "\n"


def show_json(shown: Shown) -> str:
    body = asdict(shown)
    body.pop("requests")
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
