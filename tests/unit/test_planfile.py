"""Plan files: the JSON of SPEC §4, round trips, clear errors, and the stale check of apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import config, desired, duser, lic, live, luser, sample

from reconciler.errors import EntraformError, PlanError
from reconciler.plan import planfile
from reconciler.plan.diff import diff


def test_json_has_exactly_the_documented_keys() -> None:
    plan = diff(*sample())
    plan.created_at = "2026-01-01T00:00:00Z"
    data = json.loads(planfile.dumps(plan))
    assert list(data) == [
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
        "effects",  # the blast radius: here the seats the sample's licenses take
    ]
    assert data["effects"] == {
        "members": [],
        "seats": [
            {"sku": "ENTERPRISEPACK", "before": 15, "after": 14, "enabled": 25},
            {"sku": "SPE_E5", "before": 15, "after": 16, "enabled": 25},
        ],
    }
    assert data["format_version"] == 1 and data["tenant"] == "tenant-1"
    assert data["desired_digest"].startswith("sha256:") and data["live_digest"].startswith("sha256:")
    assert data["summary"]["create"] == 1 and data["summary"]["delete"] == 0
    assert list(data["summary"])[:4] == ["create", "update", "delete", "disable"]
    create = data["changes"][0]
    assert create == {
        "id": "c0001",
        "action": "create",
        "kind": "user",
        "key": "ada@contoso.example",
        "after": {
            "accountEnabled": True,
            "displayName": "Ada Lovelace",
            "mailNickname": "ada",
            "usageLocation": "GB",
            "userPrincipalName": "ada@contoso.example",
        },
    }
    assign = next(c for c in data["changes"] if c["action"] == "assign_license")
    assert (
        assign["disabledPlans"] == [] and assign["depends_on"] == ["c0001"] and "disabled_plans" not in assign
    )
    assert data["unsafe"] == []
    assert data["held"] == [
        {
            "principal": "breakglass@contoso.example",
            "wants": 'update user breakglass@contoso.example: jobTitle: "Emergency" → "Hacked"',
        }
    ]


def test_round_trip(tmp_path: Path) -> None:
    plan = diff(*sample())
    path = tmp_path / "plan.json"
    planfile.save(plan, path)
    assert plan.created_at.endswith("Z")
    loaded = planfile.load(path, expected_tenant="tenant-1")
    assert loaded == plan
    assert planfile.compare(loaded, diff(*sample())) == []


def test_update_license_round_trips_with_disabled_plans_in_camel_case() -> None:
    want, state, cfg = sample()
    want.users["bob@contoso.example"].licenses = (lic("ENTERPRISEPACK"),)
    plan = diff(want, state, cfg)
    data = json.loads(planfile.dumps(plan))
    [update] = [c for c in data["changes"] if c["action"] == "update_license"]
    assert update["disabledPlans"] == [] and update["disabled_plan_ids"] == []
    assert update["diff"] == {"disabledPlans": {"before": ["YAMMER_ENTERPRISE"], "after": []}}
    assert planfile.plan_from_dict(data) == plan


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def saved_dict() -> dict[str, object]:
    return json.loads(planfile.dumps(diff(*sample())))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format_version=2), "plan format_version 2 is not 1"),
        (lambda d: d.update(tenant="other"), "the plan was made for tenant 'other', not 'tenant-1'"),
        (lambda d: d.pop("summary"), "corrupt plan file: missing ['summary']"),
        (lambda d: d.update(extra=1), "unexpected ['extra']"),
        (lambda d: d["changes"][0].update(action="explode"), "no action 'explode' on kind 'user'"),
        (lambda d: d["changes"][0].update(colour="red"), "has unknown keys ['colour']"),
        (lambda d: d["changes"].pop(), "its summary does not match its changes"),
        (lambda d: d["unsafe"].append({"reason": "bored"}), "bad unsafe item"),
    ],
)
def test_load_refuses_with_a_clear_error(tmp_path: Path, mutate: object, message: str) -> None:
    data = saved_dict()
    mutate(data)  # type: ignore[operator]
    with pytest.raises(PlanError, match=message.replace("[", r"\[").replace("]", r"\]")):
        planfile.load(write(tmp_path, data), expected_tenant="tenant-1")


def test_load_refuses_garbage(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=r"plan.json:1:2: not a plan file: invalid JSON"):
        planfile.load(write(tmp_path, "{nope"))
    with pytest.raises(PlanError, match="not an entraform plan file"):
        planfile.load(write(tmp_path, [1, 2]))
    with pytest.raises(
        EntraformError, match=r"missing\.json: cannot read the plan: no such file or directory"
    ):
        planfile.load(tmp_path / "missing.json")
    with pytest.raises(EntraformError, match="cannot read the plan: it is a directory, not a file"):
        planfile.load(tmp_path)


def test_compare_names_what_moved() -> None:
    before = live(luser("u1", "bob@contoso.example", jobTitle="A"))
    want = desired(duser("bob@contoso.example", jobTitle="B"), duser("cy@contoso.example", displayName="Cy"))
    saved = diff(want, before, config())
    moved = live(
        luser("u1", "bob@contoso.example", jobTitle="B"), luser("u2", "cy@contoso.example", displayName="Cy")
    )
    assert planfile.compare(saved, diff(want, moved, config())) == [
        "no longer needed: create user cy@contoso.example",
        'no longer needed: update user bob@contoso.example: jobTitle: "A" → "B"',
    ]
    assert planfile.compare(diff(want, moved, config()), saved) == [
        "now also needed: create user cy@contoso.example",
        'now also needed: update user bob@contoso.example: jobTitle: "A" → "B"',
    ]


def test_compare_ignores_renumbering_but_not_values() -> None:
    want = desired(duser("bob@contoso.example", jobTitle="B"))
    saved = diff(want, live(luser("u1", "bob@contoso.example", jobTitle="A")), config())
    fresh = diff(want, live(luser("u1", "bob@contoso.example", jobTitle="C")), config())
    assert planfile.compare(saved, fresh) == [
        'no longer needed: update user bob@contoso.example: jobTitle: "A" → "B"',
        'now also needed: update user bob@contoso.example: jobTitle: "C" → "B"',
    ]


def test_targets_round_trip_and_are_left_out_when_none(tmp_path: Path) -> None:
    plan = diff(*sample())
    assert "targets" not in planfile.plan_to_dict(plan)
    plan.targets = ["user:ada@contoso.example"]
    planfile.save(plan, tmp_path / "p.json")
    assert planfile.load(tmp_path / "p.json").targets == ["user:ada@contoso.example"]
