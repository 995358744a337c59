"""The plan as a pull-request comment: unsafe and held items first, a summary table, a section per kind
(changes in ```diff blocks so that GitHub colours them), folded in `<details>` when long; the
privileged-access section, first, is never folded (SPEC §4: role changes are loud in review)."""

from __future__ import annotations

from reconciler.plan.describe import SYMBOLS, describe, details, effect_lines
from reconciler.plan.model import Change, Plan
from reconciler.plan.planfile import summary
from reconciler.plan.render_text import HELD_HEADLINE, summary_line

FOLD_OVER_LINES = 20
_SECTIONS = (
    ("role", "🔑 Privileged access (directory roles)"),
    ("user", "Users"),
    ("group", "Groups"),
    ("manager", "Managers"),
    ("membership", "Memberships"),
    ("owner", "Owners"),
    ("license", "Licenses"),
)


def _escape(text: str) -> str:
    # Names and values come from YAML and the tenant: keep them from opening HTML or table cells.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _block(changes: list[Change]) -> list[str]:
    lines: list[str] = []
    for change in changes:
        symbol = SYMBOLS[change.action]
        lines.append(f"{symbol} {describe(change)}")
        lines += [f"{symbol}     {detail}" for detail in details(change)]
    return lines


def render_markdown(plan: Plan) -> str:
    out = ["### entraform plan", ""]
    if plan.unsafe:
        out += [
            "> [!CAUTION]",
            "> ⚠️ **Unsafe plan**: `apply` refuses it without `--force`.",
            ">",
        ]
        out += [f"> - ⚠️ **{item.reason}**: {_escape(item.message)}" for item in plan.unsafe]
        out.append("")
    if plan.held:
        out += ["> [!WARNING]", f"> 🔒 **Held**: {HELD_HEADLINE}.", ">"]
        out += [
            f"> - 🔒 **{_escape(item.principal)}**: the desired state wants: {_escape(item.wants)}"
            for item in plan.held
        ]
        out.append("")
    if not plan.changes:
        out.append(summary_line(plan))
        return "\n".join(out) + "\n"
    out += ["| action | count |", "|---|---:|"]
    out += [f"| {action} | {count} |" for action, count in summary(plan).items() if count]
    out += ["", f"**{summary_line(plan)}**", ""]
    for kind, title in _SECTIONS:
        changes = [c for c in plan.changes if c.kind == kind]
        if not changes:
            continue
        block = ["```diff", *_block(changes), "```"]
        heading = f"{title} ({len(changes)} change{'s' if len(changes) != 1 else ''})"
        if kind != "role" and len(block) - 2 > FOLD_OVER_LINES:
            out += ["<details>", f"<summary>{heading}</summary>", "", *block, "", "</details>", ""]
        else:
            out += [f"#### {heading}", "", *block, ""]
    effects = effect_lines(plan.effects)
    if effects:
        out += ["#### What comes with it", "", *(f"- {_escape(line)}" for line in effects), ""]
    return "\n".join(out).rstrip("\n") + "\n"
