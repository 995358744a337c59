"""Markdown renderer: a PR comment with unsafe items first, a summary table, sections, folding."""

from __future__ import annotations

from builders import config, desired, dgroup, duser, lgroup, live, luser, sample

from reconciler.plan.diff import diff
from reconciler.plan.render_markdown import render_markdown


def test_sample_plan() -> None:
    md = render_markdown(diff(*sample()))
    assert md.startswith("### entraform plan\n\n> [!WARNING]\n> 🔒 **Held**: protected principals")
    assert "> - 🔒 **breakglass@contoso.example**: the desired state wants: " in md
    assert md.index("**Held**") < md.index("| action | count |")
    assert "Unsafe plan" not in md
    assert "| create | 1 |\n" in md and "| delete |" not in md
    assert "#### Users (2 changes)\n\n```diff\n+ create user ada@contoso.example\n" in md
    assert "#### Memberships (2 changes)" in md
    assert "<details>" not in md
    assert "password" not in md.lower()


def test_no_changes() -> None:
    md = render_markdown(diff(desired(), live(), config()))
    assert md == "### entraform plan\n\nNo changes. The tenant matches the desired state.\n"


def test_long_sections_fold_into_details() -> None:
    users = [luser(f"u{i}", f"user{i:02d}@contoso.example") for i in range(25)]
    state = live(*users, lgroup("g1", "grp-all"))
    want = desired(dgroup("grp-all", members=[u.upn for u in users]))
    md = render_markdown(diff(want, state, config()))
    assert "<details>\n<summary>Memberships (25 changes)</summary>\n\n```diff\n+ add member user00" in md
    assert md.rstrip().endswith("```\n\n</details>")


def test_names_cannot_inject_html() -> None:
    state = live(luser("u1", "bob@contoso.example", jobTitle="x"))
    cfg = config(scope={"protected": ["bob@contoso.example"]})
    md = render_markdown(diff(desired(duser("bob@contoso.example", jobTitle="<img src=x>|")), state, cfg))
    assert "<img" not in md and "&lt;img src=x&gt;\\|" in md
