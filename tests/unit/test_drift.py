"""Drift (SPEC §4.1): differences as items, who/when from audit records, origin git or unknown."""

from __future__ import annotations

import json

from builders import USER_ADMIN, config, desired, dgroup, drole, duser, lgroup, live, luser, with_roles

from reconciler.drift.audit import OwnWrites, attribute, record_from_json
from reconciler.drift.items import drift_items
from reconciler.drift.model import DriftReport
from reconciler.drift.render import render_json, render_markdown, render_text
from reconciler.plan.diff import diff

BEFORE = "2026-11-01T00:00:00Z"
GONE = "00000000-0000-0000-0000-00000000000a"
KNOWN = {("user", "gone@contoso.example"): GONE}  # its pinned id, as drift finds it


def audit(
    activity: str, at: str, *targets: str, app: str = "app-portal", props: tuple[str, ...] = ()
) -> dict:  # type: ignore[type-arg]
    return {
        "id": f"{activity}-{at}",
        "activityDisplayName": activity,
        "activityDateTime": at,
        "result": "success",
        "correlationId": f"corr-{at}",
        "initiatedBy": {"app": {"appId": app, "displayName": "Portal"}, "user": None},
        "targetResources": [
            {"id": t, "modifiedProperties": [{"displayName": p} for p in props] if i == 0 else []}
            for i, t in enumerate(targets)
        ],
    }


def scenario() -> tuple[object, object]:
    want = desired(
        duser("ada@contoso.example", jobTitle="Staff Engineer"),
        duser("gone@contoso.example", id=GONE, displayName="Gone"),
        dgroup("grp-eng", members=["ada@contoso.example"]),
        drole("User Administrator", "ada@contoso.example"),
    )
    have = with_roles(
        live(
            luser("u1", "ada@contoso.example", jobTitle="Drift Check Engineer"),
            luser("u2", "joni@contoso.example"),
            lgroup("g1", "grp-eng", members=("u1", "u2")),
        ),
        (USER_ADMIN, "u1"),
    )
    return want, have


def test_each_difference_is_an_item_with_git_and_tenant_sides() -> None:
    want, have = scenario()
    plan = diff(want, have, config())  # type: ignore[arg-type]
    items = drift_items(plan, have, KNOWN)  # type: ignore[arg-type]
    rows = [
        (i.kind, i.names.get("key") or i.names.get("member"), i.attribute, i.git, i.tenant) for i in items
    ]
    assert rows == [
        ("user", "gone@contoso.example", None, "present", "absent"),
        ("user", "ada@contoso.example", "jobTitle", "Staff Engineer", "Drift Check Engineer"),
        ("membership", "joni@contoso.example", None, "absent", "present"),
    ]
    assert items[0].deleted_in_tenant and items[0].target_ids == (GONE,)
    assert items[2].target_ids == ("g1", "u2") and items[2].fix == plan.changes[2].id


def test_who_and_when_come_from_the_newest_matching_record_after_the_last_apply() -> None:
    want, have = scenario()
    items = drift_items(diff(want, have, config()), have, KNOWN)  # type: ignore[arg-type]
    records = [
        record_from_json(audit("Update user", "2026-11-02T10:00:00Z", "u1", props=("department",))),
        record_from_json(audit("Update user", "2026-11-03T10:00:00Z", "u1", props=("jobTitle",))),
        record_from_json(audit("Update user", "2026-10-01T10:00:00Z", "u1", props=("jobTitle",))),  # before
        record_from_json(
            audit("Add member to group", "2026-11-04T09:00:00Z", "u2", "g1", app="app-entraform")
        ),
        record_from_json(audit("Delete user", "2026-11-05T09:00:00Z", GONE)),
    ]
    own = OwnWrites(app_ids=frozenset({"app-entraform"}))
    out = attribute(items, records, own, BEFORE, lambda item: False)
    jobs = out[1].attribution
    assert (jobs.origin, jobs.changed_at, jobs.activity, jobs.changed_by.app) == (  # type: ignore[union-attr]
        "tenant",
        "2026-11-03T10:00:00Z",
        "Update user",
        "app-portal",
    )
    assert out[0].attribution.origin == "tenant" and out[0].attribution.activity == "Delete user"
    # entraform's own write is no drift: the membership's origin stays unknown.
    assert out[2].attribution.origin == "unknown"


def test_a_yaml_edit_since_the_last_apply_is_not_applied_yet_and_a_late_record_is_unknown() -> None:
    want, have = scenario()
    items = drift_items(diff(want, have, config()), have, {})  # type: ignore[arg-type]
    out = attribute(items, [], OwnWrites(), BEFORE, lambda item: item.kind == "user")
    assert [i.attribution.origin for i in out] == ["git", "git", "unknown"]


def test_the_report_reads_as_drift_in_every_format() -> None:
    want, have = scenario()
    plan = diff(want, have, config())  # type: ignore[arg-type]
    items = drift_items(plan, have, {})  # type: ignore[arg-type]
    record = record_from_json(audit("Update user", "2026-11-03T10:00:00Z", "u1", props=("jobTitle",)))
    report = DriftReport(
        "tenant-1", "2026-11-06T00:00:00Z", attribute(items, [record], OwnWrites(), BEFORE, lambda i: False)
    )
    text = render_text(report)
    assert 'user ada@contoso.example: jobTitle: git "Staff Engineer", tenant "Drift Check Engineer"' in text
    assert "Update user by Portal at 2026-11-03T10:00:00Z" in text
    assert "user gone@contoso.example: deleted in the tenant; still declared" in text
    assert text.rstrip().endswith(
        "The tenant differs from git in 3 places: 1 changed in the tenant, 0 not applied from git yet, "
        "2 of unknown origin."
    )
    assert "entraform will make" not in text
    markdown = render_markdown(report)
    assert markdown.startswith("### entraform drift\n")
    data = json.loads(render_json(report))
    assert (data["format_version"], data["kind"], data["summary"]["items"]) == (1, "drift", 3)
    assert data["items"][1] == {
        "id": "d0002",
        "kind": "user",
        "key": "ada@contoso.example",
        "attribute": "jobTitle",
        "git": "Staff Engineer",
        "tenant": "Drift Check Engineer",
        "origin": "tenant",
        "changed_by": {"app": "app-portal", "app_name": "Portal", "user": None},
        "changed_at": "2026-11-03T10:00:00Z",
        "activity": "Update user",
        "fix": plan.changes[1].id,
    }
    assert render_text(DriftReport("t", "now")) == "No drift. The tenant matches git.\n"


def test_audit_times_compare_as_instants_not_text() -> None:
    # Graph writes activityDateTime with 7 fractional digits ("2018-01-09T21:20:02.7215374Z" in the
    # directoryAudit list example); as text ".5Z" sorts before "Z", which would drop a record made within
    # the second after the last apply and rank records of the same second wrongly.
    want, have = scenario()
    plan = diff(want, have, config())  # type: ignore[arg-type]
    items = [i for i in drift_items(plan, have, {}) if i.attribute == "jobTitle"]  # type: ignore[arg-type]
    records = [
        record_from_json(audit("Update user", "2026-11-01T00:00:00.5000000Z", "u1", props=("jobTitle",))),
        record_from_json(audit("Update user", "2026-11-01T00:00:00.25Z", "u1", app="other", props=("x",))),
    ]
    (out,) = attribute(items, records, OwnWrites(), BEFORE, lambda i: False)
    assert out.attribution.origin == "tenant"
    assert out.attribution.changed_at == "2026-11-01T00:00:00Z"
    assert out.attribution.changed_by is not None and out.attribution.changed_by.app == "app-portal"
