"""diff and pre-flight: directory roles — assign, replace and append, protected holders, safety, the
privileged-access section of every format (SPEC §3, §4)."""

from __future__ import annotations

import json

from builders import (
    GLOBAL_ADMIN,
    HELPDESK_ADMIN,
    USER_ADMIN,
    config,
    desired,
    dgroup,
    drole,
    duser,
    lgroup,
    live,
    luser,
    with_roles,
)
from builders import flat_diff as flat_plan

from reconciler.plan import planfile
from reconciler.plan.diff import diff
from reconciler.plan.preflight import preflight
from reconciler.plan.render_markdown import render_markdown
from reconciler.plan.render_text import render_text

ADA, BOB = luser("u1", "ada@contoso.example"), luser("u2", "bob@contoso.example")
HELPDESK = lgroup("g1", "grp-helpdesk", isAssignableToRole=True, securityEnabled=True)


def roles_of(plan: object) -> list[tuple[str, str, str]]:
    return [(c.action, c.role, c.principal) for c in plan.changes if c.kind == "role"]  # type: ignore[attr-defined]


def test_a_declared_holder_is_assigned_to_a_user_and_to_a_role_assignable_group() -> None:
    want = desired(drole("User Administrator", "ada@contoso.example", "group:grp-helpdesk"))
    plan = flat_plan(want, with_roles(live(ADA, HELPDESK)), config())
    assert roles_of(plan) == [
        ("assign_role", "User Administrator", "ada@contoso.example"),
        ("assign_role", "User Administrator", "group:grp-helpdesk"),
    ]
    first = plan.changes[0]
    assert (first.target_id, first.object_id) == ("u1", None)


def test_replace_removes_an_undeclared_holder_and_append_keeps_it() -> None:
    state = with_roles(live(ADA, BOB), (USER_ADMIN, "u1"), (USER_ADMIN, "u2"))
    replace = flat_plan(desired(drole("User Administrator", "ada@contoso.example")), state, config())
    assert roles_of(replace) == [("remove_role", "User Administrator", "bob@contoso.example")]
    assert replace.changes[0].object_id == "ra1"  # the assignment removed
    append = flat_plan(
        desired(drole("user administrator", "ada@contoso.example", mode="append")), state, config()
    )
    assert append.changes == []


def test_a_role_named_by_its_template_id_is_the_same_role() -> None:
    state = with_roles(live(ADA), (GLOBAL_ADMIN, "u1"))
    assert diff(desired(drole(GLOBAL_ADMIN, "ada@contoso.example")), state, config()).changes == []


def test_a_role_left_out_of_the_yaml_is_never_touched() -> None:
    state = with_roles(live(ADA, BOB), (GLOBAL_ADMIN, "u2"), (USER_ADMIN, "u1"))
    plan = diff(desired(drole("User Administrator", "ada@contoso.example")), state, config())
    assert plan.changes == []


def test_a_protected_holder_is_held_never_removed() -> None:
    state = with_roles(live(ADA, luser("u9", "breakglass@contoso.example")), (GLOBAL_ADMIN, "u9"))
    plan = diff(
        desired(drole("Global Administrator", "ada@contoso.example")),
        state,
        config(scope={"protected": ["breakglass@contoso.example"]}),
    )
    assert [c.action for c in plan.changes] == ["assign_role"]
    assert [(h.principal, h.wants) for h in plan.held] == [
        ("breakglass@contoso.example", "remove role Global Administrator from breakglass@contoso.example")
    ]
    assert plan.unsafe == []


def test_role_removals_over_the_delete_fraction_make_the_plan_unsafe() -> None:
    users = [luser(f"u{i}", f"user{i}@contoso.example") for i in range(10)]
    state = with_roles(live(*users), *((HELPDESK_ADMIN, f"u{i}") for i in range(10)))
    plan = diff(desired(drole("Helpdesk Administrator", "user0@contoso.example")), state, config(safety={}))
    [item] = plan.unsafe
    assert (item.reason, item.kind, len(item.change_ids)) == ("delete_fraction", "role", 9)
    assert "9 of 10 role assignments (90%) would be removed" in item.message


def test_a_new_principal_is_assigned_after_it_is_created() -> None:
    want = desired(
        duser("new@contoso.example", displayName="New"), drole("User Administrator", "new@contoso.example")
    )
    plan = diff(want, with_roles(live()), config())
    create, assign = plan.changes
    assert (assign.action, assign.depends_on) == ("assign_role", (create.id,))


def test_pre_flight_names_unknown_roles_and_groups_that_cannot_hold_roles() -> None:
    plain = lgroup("g2", "grp-plain", securityEnabled=True)
    want = desired(
        drole("Global Adminstrator", "ada@contoso.example", line=3),
        drole("Helpdesk Administrator", "group:grp-plain", line=7),
        drole("User Administrator", "ada@contoso.example", line=10),
        drole(USER_ADMIN, "ada@contoso.example", line=14),
    )
    state = with_roles(live(ADA, plain))
    problems = [str(p) for p in preflight(diff(want, state, config()), want, state)]
    assert problems == [
        "state/roles.yaml:3:1: role 'Global Adminstrator': the tenant has no such directory role "
        "(did you mean 'Global Administrator'?)",
        "state/roles.yaml:7:1: group grp-plain holds role Helpdesk Administrator in the desired state, but "
        "in the tenant it is not role-assignable (isAssignableToRole is set only when a group is created): "
        "name a role-assignable group",
        f"state/roles.yaml:14:1: role {USER_ADMIN} is User Administrator, declared already at "
        "state/roles.yaml:10:1 for directoryScopeId /; declare each role once per scope",
    ]


def test_the_plan_json_names_role_principal_and_scope_and_reads_back() -> None:
    state = with_roles(live(ADA, BOB), (USER_ADMIN, "u2"))
    plan = diff(desired(drole("User Administrator", "ada@contoso.example")), state, config())
    data = json.loads(planfile.dumps(plan))
    assert data["summary"]["assign_role"] == 1 and data["summary"]["remove_role"] == 1
    assert data["changes"] == [
        {
            "id": "c0001",
            "action": "assign_role",
            "kind": "role",
            "role": "User Administrator",
            "role_definition_id": USER_ADMIN,
            "principal": "ada@contoso.example",
            "directoryScopeId": "/",
            "target_id": "u1",
        },
        {
            "id": "c0002",
            "action": "remove_role",
            "kind": "role",
            "object_id": "ra0",
            "role": "User Administrator",
            "role_definition_id": USER_ADMIN,
            "principal": "bob@contoso.example",
            "directoryScopeId": "/",
            "target_id": "u2",
        },
    ]
    assert planfile.plan_from_dict(data) == plan


def test_role_changes_come_first_under_their_own_heading_in_text_and_markdown() -> None:
    want = desired(
        duser("ada@contoso.example", jobTitle="Admin"),
        dgroup("grp-x", members=["ada@contoso.example"]),
        drole("Helpdesk Administrator", "ada@contoso.example"),
    )
    state = with_roles(live(ADA, lgroup("g5", "grp-x")))
    plan = diff(want, state, config())
    lines = render_text(plan).splitlines()
    assert lines[0] == "Privileged access: entraform will change who holds these directory roles:"
    assert lines[2] == "  + assign role Helpdesk Administrator to ada@contoso.example"
    assert lines[4] == "entraform will make these changes:"
    assert lines[-1].endswith("1 membership change, 1 role change.")
    md = render_markdown(plan)
    assert md.index("Privileged access (directory roles)") < md.index("#### Users")


def test_the_privileged_access_section_is_never_folded_however_long() -> None:
    """Other sections fold into `<details>` past 20 lines; a reviewer must see every role change."""
    users = [luser(f"u{n}", f"user{n:02d}@contoso.example") for n in range(25)]
    want = desired(
        *(duser(u.upn, jobTitle="Admin") for u in users),
        drole("Helpdesk Administrator", *(u.upn for u in users)),
    )
    md = render_markdown(diff(want, with_roles(live(*users)), config()))
    assert "#### 🔑 Privileged access (directory roles) (25 changes)" in md
    assert "<summary>Users (25 changes)</summary>" in md
    assert md.index("Privileged access") < md.index("<summary>Users")
