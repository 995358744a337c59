"""JSON renderer: the saved-plan shape of SPEC §4, deterministic."""

from __future__ import annotations

import json

from builders import sample

from reconciler.plan.diff import diff
from reconciler.plan.render_json import render_json


def test_json_is_the_plan_file_shape_and_deterministic() -> None:
    text = render_json(diff(*sample()))
    assert text == render_json(diff(*sample()))
    data = json.loads(text)
    assert data["format_version"] == 1
    assert [c["id"] for c in data["changes"]] == [f"c{n:04d}" for n in range(1, len(data["changes"]) + 1)]
    assert [(c["action"], c["kind"]) for c in data["changes"]][:3] == [
        ("create", "user"),
        ("update", "user"),
        ("set_manager", "manager"),
    ]
    membership = next(c for c in data["changes"] if c["action"] == "add_member")
    assert membership == {
        "id": "c0004",
        "action": "add_member",
        "kind": "membership",
        "group": "grp-eng",
        "member": "ada@contoso.example",
        "object_id": "g1",
        "depends_on": ["c0001"],
    }
    assert "password" not in text.lower()
