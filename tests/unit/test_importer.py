"""`import` writes YAML that validates and plans as empty, keeping every managed attribute."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import config, lgroup, live, luser

from reconciler.desired.loader import load_desired
from reconciler.desired.schema import GROUP_ATTRIBUTES, USER_ATTRIBUTES
from reconciler.importer import export_state, find_schema, modeline
from reconciler.plan.diff import diff

USER_VALUES: dict[str, Any] = {
    "displayName": "Ada Lovelace",
    "businessPhones": ["+44 20 7946 0000"],
    "otherMails": ["ada@example.org"],
    "usageLocation": "GB",
    "accountEnabled": False,
    "preferredLanguage": "en-GB",
    "mail": "ada@contoso.example",
    "employeeId": "E1001",
    "employeeHireDate": "2026-01-05T00:00:00Z",
    "employeeLeaveDateTime": "2027-06-30T17:00:00Z",
    "employeeOrgData": {"division": "Research", "costCenter": "CC-42"},
    "passwordPolicies": "DisablePasswordExpiration",
}
# Graph returns all 15 extension attributes, the unset ones null: import writes the ones set.
EXTENSIONS = {f"extensionAttribute{n}": None for n in range(1, 16)} | {"extensionAttribute3": "badge-7"}
STATIC_GROUP: dict[str, Any] = {
    "displayName": "Engineering",
    "description": "Everyone who ships",
    "securityEnabled": True,
    "mailEnabled": False,
    "groupTypes": [],
    "isAssignableToRole": True,
    "preferredLanguage": "en-GB",
}
M365_GROUP: dict[str, Any] = {
    "displayName": "Team",
    "securityEnabled": False,
    "mailEnabled": True,
    "groupTypes": ["Unified", "DynamicMembership"],
    "visibility": "Private",
    "membershipRule": 'user.department -eq "Engineering"',
    "membershipRuleProcessingState": "On",
}


def _every_user_attribute() -> dict[str, Any]:
    values = {
        name: f"{name}-value"
        for name in USER_ATTRIBUTES
        if name not in ("userPrincipalName", "mailNickname", "onPremisesExtensionAttributes", "userType")
    }
    return {**values, **USER_VALUES, "mailNickname": "ada"}


def test_the_round_trip_keeps_every_managed_attribute(tmp_path: Path) -> None:
    user_attrs = _every_user_attribute()
    state = live(
        luser("u1", "ada@contoso.example", **user_attrs, onPremisesExtensionAttributes=EXTENSIONS),
        lgroup("g1", "grp-eng", members=("u1",), **STATIC_GROUP),
        lgroup("g2", "grp-team", **M365_GROUP),
    )
    export = export_state(state)
    for name, text in export.files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    want = load_desired(config(state_dir=str(tmp_path)))
    assert want.users["ada@contoso.example"].attrs == {
        "userPrincipalName": "ada@contoso.example",
        **user_attrs,
        "onPremisesExtensionAttributes": {"extensionAttribute3": "badge-7"},
    }
    # userType is said of guests only (Member is Graph's default): see the guest round trip.
    assert set(want.users["ada@contoso.example"].attrs) == set(USER_ATTRIBUTES) - {"userType"}
    assert want.groups["grp-eng"].attrs == {"mailNickname": "grp-eng", **STATIC_GROUP}
    written = set(want.groups["grp-eng"].attrs) | set(want.groups["grp-team"].attrs)
    assert written == set(GROUP_ATTRIBUTES)
    assert diff(want, state, config()).changes == []


def test_exchange_groups_are_left_out() -> None:
    state = live(
        lgroup("g1", "dl-all", mailEnabled=True, securityEnabled=False, groupTypes=[]),
        lgroup(
            "g2", "grp-eng", securityEnabled=True, mailEnabled=False, groupTypes=[], member_groups=("g1",)
        ),
    )
    export = export_state(state)
    assert (export.groups, export.read_only_groups) == (1, 1)
    assert "mailNickname: dl-all" not in export.files["groups.yaml"]
    assert "- group: dl-all" in export.files["groups.yaml"]


def test_the_schema_path_is_relative_to_where_the_files_go(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "state.schema.json").write_text("{}", encoding="utf-8")
    out = tmp_path / "state" / "imported"
    out.mkdir(parents=True)
    assert (
        modeline(find_schema(out), out) == "# yaml-language-server: $schema=../../schemas/state.schema.json\n"
    )
    assert (
        modeline(find_schema(tmp_path), tmp_path)
        == "# yaml-language-server: $schema=schemas/state.schema.json\n"
    )


def test_no_schema_no_modeline(tmp_path: Path) -> None:
    assert modeline(None, tmp_path) == ""
