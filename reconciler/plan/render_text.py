"""The terraform-like text plan: unsafe and held items first and loud, `+ ~ -` changes, a summary line."""

from __future__ import annotations

from io import StringIO

from rich.console import Console
from rich.text import Text

from reconciler.plan.describe import SYMBOLS, describe, details, effect_lines
from reconciler.plan.model import Plan
from reconciler.wording import counted

_STYLES = {"+": "green", "~": "yellow", "-": "red"}
NO_CHANGES = "No changes. The tenant matches the desired state."
PRIVILEGED_HEADING = "Privileged access: entraform will change who holds these directory roles:"
HELD_HEADLINE = (
    "protected principals (scope.protected) stay as they are, even with --force; "
    "change the YAML or the scope to settle these"
)


def summary_line(plan: Plan) -> str:
    """`Plan: 2 to create, 3 to update, 0 to delete, 5 membership changes.` (zero extras left out);
    a plan narrowed by `--target` says so."""
    held = f" Held: {counted(len(plan.held), 'item')} on protected principals." if plan.held else ""
    return _summary(plan) + held + (f" Targeted: only {', '.join(plan.targets)}." if plan.targets else "")


def _summary(plan: Plan) -> str:
    if not plan.changes:
        return "No changes to apply." if plan.held else NO_CHANGES
    n = plan.summary()

    def count(*actions: str) -> int:
        return sum(n.get(a, 0) for a in actions)

    parts = [f"{count('create')} to create", f"{count('update')} to update"]
    if count("disable"):
        parts.append(f"{count('disable')} to disable")
    parts.append(f"{count('delete')} to delete")
    for label, actions in (
        ("manager", ("set_manager", "clear_manager")),
        ("membership", ("add_member", "remove_member")),
        ("owner", ("add_owner", "remove_owner")),
        ("license", ("assign_license", "update_license", "remove_license")),
        ("role", ("assign_role", "remove_role")),
    ):
        if count(*actions):
            parts.append(f"{count(*actions)} {label} change{'s' if count(*actions) != 1 else ''}")
    unsafe = f" UNSAFE: {len(plan.unsafe)} item(s) above." if plan.unsafe else ""
    return f"Plan: {', '.join(parts)}.{unsafe}"


def plan_lines(plan: Plan) -> list[tuple[str, str]]:
    """(text, rich style) per line; the style is "" for plain lines."""
    lines: list[tuple[str, str]] = []
    if plan.unsafe:
        lines.append(("!! UNSAFE PLAN: apply refuses it without --force.", "bold red"))
        lines += [(f"!!   {item.reason}: {item.message}", "bold red") for item in plan.unsafe]
        lines.append(("", ""))
    if plan.held:
        lines.append((f"!! HELD: {HELD_HEADLINE}", "bold magenta"))
        lines += [
            (f"!!   {item.principal}: the desired state wants: {item.wants}", "bold magenta")
            for item in plan.held
        ]
        lines.append(("", ""))
    # Privileged access first, under its own heading: the riskiest lines of any plan (SPEC §4).
    roles = [c for c in plan.changes if c.kind == "role"]
    rest = [c for c in plan.changes if c.kind != "role"]
    for heading, changes in ((PRIVILEGED_HEADING, roles), ("entraform will make these changes:", rest)):
        if not changes:
            continue
        lines.append((heading, "bold"))
        lines.append(("", ""))
        for change in changes:
            symbol = SYMBOLS[change.action]
            lines.append((f"  {symbol} {describe(change)}", _STYLES[symbol]))
            lines += [(f"      {detail}", "") for detail in details(change)]
        lines.append(("", ""))
    effects = effect_lines(plan.effects)
    if effects:
        lines.append(("What comes with it (from the tenant as read):", "bold"))
        lines += [(f"  {line}", "") for line in effects]
        lines.append(("", ""))
    lines.append((summary_line(plan), "bold"))
    return lines


def render_text(plan: Plan, color: bool = False) -> str:
    lines = plan_lines(plan)
    if not color:
        return "".join(f"{text}\n" for text, _ in lines)
    out = StringIO()
    console = Console(file=out, force_terminal=True, color_system="standard", width=100_000, highlight=False)
    for text, style in lines:
        console.print(Text(text, style=style), soft_wrap=True)
    return out.getvalue()
