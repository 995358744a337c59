"""Text renderer: terraform-like, unsafe first, a summary line, colour only when asked, no secret."""

from __future__ import annotations

from builders import config, desired, duser, live, luser, sample

from reconciler.plan.diff import diff
from reconciler.plan.render_text import NO_CHANGES, render_text


def test_sample_plan_reads_like_terraform() -> None:
    text = render_text(diff(*sample()))
    lines = text.splitlines()
    assert lines[0].startswith("!! HELD: protected principals (scope.protected) stay as they are")
    assert lines[1].startswith("!!   breakglass@contoso.example: the desired state wants: ")
    assert "  + create user ada@contoso.example" in lines
    assert '      displayName: "Ada Lovelace"' in lines
    assert "  ~ update user bob@contoso.example" in lines
    assert '      jobTitle: "Engineer" → "Staff Engineer"' in lines
    assert "  - remove member eve@contoso.example from grp-eng" in lines
    assert lines.index("  + create user ada@contoso.example") < lines.index(
        "  - remove member eve@contoso.example from grp-eng"
    )
    assert lines[-1] == (
        "Plan: 1 to create, 1 to update, 0 to delete, 1 manager change, 2 membership changes, "
        "2 license changes. Held: 1 item on protected principals."
    )
    assert "\x1b[" not in text
    assert "password" not in text.lower()


def test_no_changes() -> None:
    state = live(luser("u1", "bob@contoso.example", jobTitle="A"))
    assert (
        render_text(diff(desired(duser("bob@contoso.example", jobTitle="A")), state, config()))
        == NO_CHANGES + "\n"
    )


def test_disable_and_delete_lines() -> None:
    scope = {"users": {"authoritative": True}}
    state = live(luser("u1", "leaver@contoso.example"))
    text = render_text(diff(desired(), state, config(scope=scope)))
    assert "  - disable user leaver@contoso.example (accountEnabled false, sign-in sessions revoked)" in text
    assert text.endswith("Plan: 0 to create, 0 to update, 1 to disable, 0 to delete.\n")
    text = render_text(diff(desired(), state, config(scope=scope, removal={"users": "delete"})))
    assert "  - delete user leaver@contoso.example" in text


def test_disabling_update_says_sessions_are_revoked() -> None:
    state = live(luser("u1", "bob@contoso.example"))
    text = render_text(diff(desired(duser("bob@contoso.example", accountEnabled=False)), state, config()))
    assert "      accountEnabled: true → false\n      sign-in sessions revoked\n" in text


def test_colour_only_when_asked_and_same_words() -> None:
    plan = diff(*sample())
    coloured = render_text(plan, color=True)
    assert "\x1b[32m  + create user ada@contoso.example" in coloured
    assert "\x1b[1;35m!! HELD" in coloured
    stripped = coloured
    for code in ("\x1b[1;35m", "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[1m", "\x1b[0m"):
        stripped = stripped.replace(code, "")
    assert stripped == render_text(plan)


def test_only_protected_items_is_not_called_a_match() -> None:
    state = live(luser("u1", "bob@contoso.example", jobTitle="A"))
    cfg = config(scope={"protected": ["bob@contoso.example"]})
    text = render_text(diff(desired(duser("bob@contoso.example", jobTitle="B")), state, cfg))
    assert text.endswith("\nNo changes to apply. Held: 1 item on protected principals.\n")
    assert "UNSAFE" not in text
    assert NO_CHANGES not in text
