"""The loader's output: the normalised `DesiredState` the planner consumes, and the shipped Contoso state."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from reconciler.config import Config
from reconciler.desired.loader import load_desired
from reconciler.desired.model import DesiredState, LicenseSpec, MemberRef, Reference
from reconciler.errors import EntraformError, Location

REPO = Path(__file__).resolve().parents[2]


def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> DesiredState:
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        path = tmp_path / "state" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text), encoding="utf-8")
    return load_desired(Config())


PEOPLE = """\
    # yaml-language-server: $schema=../schemas/state.schema.json
    users:
      - userPrincipalName: Ada@Contoso.example
        displayName: Ada Lovelace
        jobTitle: null
        businessPhones: ["+44 20 7946 0000"]
        usageLocation: GB
        manager: Grace@contoso.example
        licenses:
          - sku: ENTERPRISEPACK
            disabledPlans: [YAMMER_ENTERPRISE, SWAY]
      - userPrincipalName: grace@contoso.example
        id: 6E5F1C1A-58F6-4D7B-9C43-1C1A2F1B0A01
        renamedFrom: [GHopper@contoso.example]
        manager: null
    """

GROUPS = """\
    groups:
      - mailNickname: GRP-Engineering
        displayName: Engineering
        groupTypes: []
        owners: [Grace@contoso.example]
        members:
          - ada@contoso.example
          - outsider@contoso.example
          - group: grp-platform
          - group: grp-live-only
        licenses: [{sku: SPE_E5}]
      - mailNickname: grp-platform
        membersMode: append
        members: []
    """


def test_users_are_normalised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = load(tmp_path, monkeypatch, {"people.yaml": PEOPLE})
    assert sorted(state.users) == ["ada@contoso.example", "grace@contoso.example"]
    ada = state.users["ada@contoso.example"]
    # Only what was written, under Graph's names; null kept as None ("clear it").
    assert ada.attrs == {
        "userPrincipalName": "Ada@Contoso.example",
        "displayName": "Ada Lovelace",
        "jobTitle": None,
        "businessPhones": ["+44 20 7946 0000"],
        "usageLocation": "GB",
    }
    assert ada.location == Location("state/people.yaml", 3, 5)
    assert (ada.manager_declared, ada.manager) == (True, "grace@contoso.example")
    assert ada.licenses == (
        LicenseSpec("ENTERPRISEPACK", ("YAMMER_ENTERPRISE", "SWAY"), Location("state/people.yaml", 10, 9)),
    )
    assert (ada.id, ada.renamed_from) == (None, ())
    grace = state.users["grace@contoso.example"]
    assert grace.attrs == {"userPrincipalName": "grace@contoso.example"}
    assert (grace.manager_declared, grace.manager, grace.licenses) == (True, None, None)
    assert (grace.id, grace.renamed_from) == (
        "6e5f1c1a-58f6-4d7b-9c43-1c1a2f1b0a01",
        ("ghopper@contoso.example",),
    )
    assert state.files == ("state/people.yaml",)


def test_groups_and_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = load(tmp_path, monkeypatch, {"people.yaml": PEOPLE, "teams/groups.yaml": GROUPS})
    engineering = state.groups["grp-engineering"]
    assert engineering.attrs == {
        "mailNickname": "GRP-Engineering",
        "displayName": "Engineering",
        "groupTypes": [],
    }
    assert engineering.owners == ("grace@contoso.example",)
    assert engineering.members is not None
    assert tuple(engineering.members) == (
        MemberRef("user", "ada@contoso.example", "state/teams/groups.yaml", 7, 9),
        MemberRef("user", "outsider@contoso.example", "state/teams/groups.yaml", 8, 9),
        MemberRef("group", "grp-platform", "state/teams/groups.yaml", 9, 9),
        MemberRef("group", "grp-live-only", "state/teams/groups.yaml", 10, 9),
    )
    assert engineering.members_mode == "replace"
    assert engineering.licenses == (LicenseSpec("SPE_E5", (), Location("state/teams/groups.yaml", 11, 16)),)
    platform = state.groups["grp-platform"]
    assert platform.members is not None
    assert (tuple(platform.members), platform.members_mode, platform.owners, platform.licenses) == (
        (),
        "append",
        None,
        None,
    )
    # Not declared in YAML: not an error, but the planner must find them live.
    assert state.external_refs == [
        Reference("user", "outsider@contoso.example", Location("state/teams/groups.yaml", 8, 9), "member"),
        Reference("group", "grp-live-only", Location("state/teams/groups.yaml", 10, 9), "member"),
    ]
    assert state.files == ("state/people.yaml", "state/teams/groups.yaml")


def test_a_manager_outside_yaml_is_an_external_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = load(
        tmp_path,
        monkeypatch,
        {"a.yaml": "users:\n  - userPrincipalName: a@x.example\n    manager: b@x.example\n"},
    )
    assert state.external_refs == [
        Reference("user", "b@x.example", Location("state/a.yaml", 3, 14), "manager")
    ]


def test_anchors_and_merge_keys_with_x_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = """\
        x-defaults: &seattle
          officeLocation: Seattle HQ
          city: Seattle
        users:
          - <<: *seattle
            userPrincipalName: a@contoso.example
            city: Redmond
        """
    state = load(tmp_path, monkeypatch, {"a.yaml": text})
    assert state.users["a@contoso.example"].attrs == {
        "userPrincipalName": "a@contoso.example",
        "officeLocation": "Seattle HQ",
        "city": "Redmond",
    }
    text = """\
        users:
          - &seattle
            userPrincipalName: a@contoso.example
            officeLocation: Seattle HQ
            city: Seattle
          - <<: *seattle
            userPrincipalName: b@contoso.example
            city: Redmond
        """
    state = load(tmp_path, monkeypatch, {"a.yaml": text})
    assert state.users["b@contoso.example"].attrs == {
        "userPrincipalName": "b@contoso.example",
        "officeLocation": "Seattle HQ",
        "city": "Redmond",
    }


def test_empty_files_and_empty_sections_are_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = load(tmp_path, monkeypatch, {"empty.yaml": "# nothing yet\n", "b.yaml": "users:\ngroups: []\n"})
    assert (state.users, state.groups, state.files) == ({}, {}, ("state/b.yaml", "state/empty.yaml"))


def test_hidden_directories_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = load(tmp_path, monkeypatch, {".trash/old.yaml": "nonsense: [", "a.yaml": "users: []\n"})
    assert state.files == ("state/a.yaml",)


def test_missing_state_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EntraformError) as failed:
        load_desired(Config(state_dir="nowhere"))
    assert failed.value.lines() == ["nowhere: the state directory does not exist (state_dir in the config)"]


def test_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "a.yaml").write_bytes(b"users: []\n# caf\xe9\n")
    with pytest.raises(EntraformError) as failed:
        load_desired(Config())
    assert failed.value.lines() == ["state/a.yaml:2:6: not UTF-8 text (byte 0xe9); save the file as UTF-8"]


def test_an_unreadable_file_does_not_hide_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "state" / "b.yaml").mkdir(parents=True)  # a directory named like a state file
    (tmp_path / "state" / "c.yaml").write_text("users: 3\n", encoding="utf-8")
    with pytest.raises(EntraformError) as failed:
        load_desired(Config())
    assert failed.value.lines() == [
        "state/b.yaml: cannot read the file: it is a directory, not a file",
        "state/c.yaml:1:8: users: expected a list of users (`- ` items), got a number",
    ]


def test_the_shipped_contoso_state_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    state = load_desired(Config())
    assert len(state.users) == 40
    assert len(state.groups) == 12
    assert [ref.key for ref in state.external_refs] == ["breakglass@contoso.example"]
    chain = {key: user.manager for key, user in state.users.items()}
    for key in chain:  # every manager chain ends at the CEO
        seen = {key}
        while chain[key] is not None:
            key = chain[key]  # type: ignore[assignment]
            assert key not in seen
            seen.add(key)
        assert key == "patti@contoso.example"
    for path in sorted((REPO / "state").rglob("*.yaml")):
        depth = len(path.relative_to(REPO / "state").parts) - 1
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema={'../' * (depth + 1)}schemas/state.schema.json"


def test_a_symbolic_link_out_of_the_state_directory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "state").mkdir()
    (tmp_path / "elsewhere.yaml").write_text("users: []\n", encoding="utf-8")
    (tmp_path / "state" / "in.yaml").write_text("users: []\n", encoding="utf-8")
    (tmp_path / "state" / "out.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    (tmp_path / "state" / "also-in.yaml").symlink_to(tmp_path / "state" / "in.yaml")
    with pytest.raises(EntraformError) as failed:
        load_desired(Config())
    assert failed.value.lines() == [
        f"state/out.yaml:1:1: a symbolic link to {(tmp_path / 'elsewhere.yaml').resolve().as_posix()}, "
        "outside the state directory; keep desired-state files inside state_dir"
    ]


def test_a_user_repeated_through_a_yaml_alias(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "a.yaml").write_text(
        "users:\n- &a {userPrincipalName: x@contoso.example}\n- *a\n", encoding="utf-8"
    )
    with pytest.raises(EntraformError) as failed:
        load_desired(Config())
    [line] = failed.value.lines()
    assert line.endswith(
        "is already declared at state/a.yaml:2:26; declare each user once (this item is a YAML alias of it)"
    )
