"""The parse cache can never change what the desired state loads as.

- Property (hypothesis): for random desired-state files, valid or not, spread over several files (keys
  and ids declared twice across files, renames, references, aliases, roles), a load through a cold
  cache and one through a warm cache give exactly what a load without a cache gives: the same
  `DesiredState`, or the same problems.
- The bad-input corpus and the shipped state load the same through the cache.
- An edited, renamed or deleted file, a damaged entry, an entry of another code version or another
  file's entry is never used; only problem-free reads are kept; unused entries are removed.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.config import Config
from reconciler.desired import fileread, loader, parsecache
from reconciler.desired.fileread import read_file
from reconciler.desired.loader import Declared, load_desired
from reconciler.desired.model import DesiredState
from reconciler.desired.parsecache import ParseCache
from reconciler.errors import EntraformError

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "bad_inputs"

UPNS = ["ada@contoso.example", "Ada@Contoso.example", "bob@contoso.example", "cy@fabrikam.example"]
NICKS = ["grp-a", "GRP-A", "grp-b", "team-c"]
IDS = ["6e5f1c1a-58f6-4d7b-9c43-1c1a2f1b0a01", "0c7e5a61-2f33-4a8e-b7a4-6c1f0e9d2b11"]


def outcome(root: Path, cache: ParseCache | None) -> DesiredState | list[str]:
    try:
        return load_desired(Config(state_dir=str(root)), cache)
    except EntraformError as exc:
        return exc.lines()


@st.composite
def user(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {"userPrincipalName": draw(st.sampled_from([*UPNS, 7]))}
    if draw(st.booleans()):
        item["displayName"] = draw(st.sampled_from(["Ada", "", None, True]))
    if draw(st.booleans()):
        item["businessPhones"] = draw(st.sampled_from([["+44 1"], [], "x"]))
    if draw(st.booleans()):
        item["employeeOrgData"] = draw(st.sampled_from([{"division": "R&D"}, {"costCenter": None}, None]))
    if draw(st.booleans()):
        item["accountEnabled"] = draw(st.booleans())
    if draw(st.booleans()):
        item["manager"] = draw(st.sampled_from([*UPNS, None, "nobody@contoso.example"]))
    if draw(st.booleans()):
        item["id"] = draw(st.sampled_from(IDS))
    if draw(st.booleans()):
        item["renamedFrom"] = draw(st.lists(st.sampled_from(UPNS), max_size=2))
    if draw(st.booleans()):
        item["licenses"] = [{"sku": "SPE_E5", "disabledPlans": draw(st.lists(st.sampled_from(["TEAMS1"])))}]
    if draw(st.booleans()):
        item["employeeHireDate"] = draw(st.sampled_from(["2026-01-05", "2026-01-05T09:00:00Z", "soon"]))
    return item


@st.composite
def guest(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {
        "userType": "Guest",
        "invitation": {"invitedUserEmailAddress": draw(st.sampled_from(["pat@partner.example", "x"]))},
    }
    if draw(st.booleans()):
        item["invitation"]["sendInvitationMessage"] = draw(st.booleans())
    return item


@st.composite
def group(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {"mailNickname": draw(st.sampled_from(NICKS)), "displayName": "A group"}
    if draw(st.booleans()):
        item["securityEnabled"] = draw(st.booleans())
    if draw(st.booleans()):
        members = st.sampled_from([*UPNS, "pat@partner.example"]) | st.builds(
            lambda n: {"group": n}, st.sampled_from(NICKS)
        )
        item["members"] = draw(st.lists(members, max_size=4))
    if draw(st.booleans()):
        item["membersMode"] = draw(st.sampled_from(["replace", "append", "merge"]))
    if draw(st.booleans()):
        item["owners"] = draw(st.lists(st.sampled_from(UPNS), max_size=2))
    if draw(st.booleans()):
        item["id"] = draw(st.sampled_from(IDS))
    if draw(st.booleans()):
        item["renamedFrom"] = draw(st.lists(st.sampled_from(NICKS), max_size=1))
    if draw(st.booleans()):
        item["groupTypes"] = draw(st.sampled_from([["Unified"], []]))
    return item


@st.composite
def role(draw: st.DrawFn) -> dict[str, Any]:
    principals = st.sampled_from(UPNS) | st.builds(lambda n: {"group": n}, st.sampled_from(NICKS))
    item: dict[str, Any] = {
        "role": draw(st.sampled_from(["User Administrator", "Global Reader", ""])),
        "principals": draw(st.lists(principals, max_size=3)),
    }
    if draw(st.booleans()):
        item["directoryScopeId"] = draw(st.sampled_from(["/", "tenant"]))
    return item


@st.composite
def state_file(draw: st.DrawFn) -> str:
    document: dict[str, Any] = {}
    if draw(st.booleans()):
        document["users"] = draw(st.lists(user() | guest(), max_size=4))
    if draw(st.booleans()):
        document["groups"] = draw(st.lists(group(), max_size=3))
    if draw(st.booleans()):
        document["roles"] = draw(st.lists(role(), max_size=2))
    text = yaml.safe_dump(document, sort_keys=False)
    if draw(st.booleans()) and document.get("users"):
        # An alias: the same user twice, through YAML's own anchors.
        text = yaml.dump(document | {"users": [*document["users"], document["users"][0]]}, sort_keys=False)
    return text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(state_file(), min_size=1, max_size=3))
def test_a_cold_and_a_warm_cache_load_exactly_what_a_fresh_parse_loads(
    tmp_path: Path, files: list[str]
) -> None:
    root = tmp_path / "state"
    shutil.rmtree(tmp_path, ignore_errors=True)
    root.mkdir(parents=True)
    for index, text in enumerate(files):
        (root / f"f{index}.yaml").write_text(text, encoding="utf-8")
    fresh = outcome(root, None)
    cache = tmp_path / "cache"
    cold = outcome(root, ParseCache(cache))
    warm_cache = ParseCache(cache)
    warm = outcome(root, warm_cache)
    assert cold == fresh
    assert warm == fresh
    # One user or group looked up from the kept reads is the one a whole load gives (or its problems).
    for kind, key in [*(("user", k.lower()) for k in UPNS), ("user", "pat@partner.example")] + [
        ("group", k.lower()) for k in NICKS
    ]:
        assert looked_up(root, cache, kind, key) == (
            fresh if isinstance(fresh, list) else (fresh.users if kind == "user" else fresh.groups).get(key)
        )
    # Every file without problems of its own was kept (the wire carries all of it), and used warm.
    clean = [
        i for i, text in enumerate(files) if not read_file((root / f"f{i}.yaml").as_posix(), text).problems
    ]
    assert len(list(cache.glob("*.msgpack"))) == len(clean)
    assert {p.name for p in cache.glob("*.msgpack")} <= warm_cache.used


def looked_up(root: Path, cache: Path, kind: str, key: str) -> Any:
    config = Config(state_dir=str(root))
    try:
        if kind == "user":
            return Declared(config, ParseCache(cache)).user((key,))
        return Declared(config, ParseCache(cache)).group(key)
    except EntraformError as exc:
        return exc.lines()


def test_the_shipped_state_loads_the_same_through_the_cache(tmp_path: Path) -> None:
    root = REPO / "state"
    fresh = outcome(root, None)
    assert isinstance(fresh, DesiredState)
    assert outcome(root, ParseCache(tmp_path)) == fresh
    assert len(list(tmp_path.glob("*.msgpack"))) == len(fresh.files)  # every file kept
    assert outcome(root, ParseCache(tmp_path)) == fresh


@pytest.mark.parametrize("case", sorted(p.name for p in CORPUS.iterdir() if (p / "state").is_dir()))
def test_every_bad_input_loads_the_same_through_the_cache(tmp_path: Path, case: str) -> None:
    root = CORPUS / case / "state"
    fresh = outcome(root, None)
    cache = tmp_path / "cache"
    assert outcome(root, ParseCache(cache)) == fresh
    assert outcome(root, ParseCache(cache)) == fresh


def write(root: Path, name: str, text: str) -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text, encoding="utf-8")


ADA = "users:\n  - userPrincipalName: ada@contoso.example\n    jobTitle: Engineer\n"


def loaded(root: Path, cache: Path) -> tuple[DesiredState, ParseCache]:
    parse = ParseCache(cache)
    state = load_desired(Config(state_dir=str(root)), parse)
    return state, parse


def test_an_edited_file_is_parsed_again(tmp_path: Path) -> None:
    root, cache = tmp_path / "state", tmp_path / "cache"
    write(root, "people.yaml", ADA)
    loaded(root, cache)
    write(root, "people.yaml", ADA.replace("Engineer", "Staff"))
    state, _ = loaded(root, cache)
    assert state.users["ada@contoso.example"].attrs["jobTitle"] == "Staff"
    assert len(list(cache.glob("*.msgpack"))) == 1  # the entry of the old text was removed


def test_a_renamed_file_keeps_no_locations_of_its_old_name(tmp_path: Path) -> None:
    root, cache = tmp_path / "state", tmp_path / "cache"
    write(root, "people.yaml", ADA)
    loaded(root, cache)
    (root / "people.yaml").rename(root / "staff.yaml")
    state, _ = loaded(root, cache)
    assert state.users["ada@contoso.example"].location.file.endswith("state/staff.yaml")


def test_a_damaged_or_foreign_entry_is_never_used(tmp_path: Path) -> None:
    root, cache = tmp_path / "state", tmp_path / "cache"
    write(root, "people.yaml", ADA)
    fresh, _ = loaded(root, cache)
    [entry] = cache.glob("*.msgpack")
    for damage in (b"", b"\x93\x01\x02", entry.read_bytes()[:-7], b"\xff" * 64):
        entry.write_bytes(damage)
        state, _ = loaded(root, cache)
        assert state == fresh
        entry = next(cache.glob("*.msgpack"))  # written again from the fresh parse
    # Another file's entry under this file's key: its name is not this file's.
    write(root, "other.yaml", ADA.replace("ada@", "bob@"))
    loaded(root, cache)
    entries = sorted(cache.glob("*.msgpack"), key=lambda p: p.stat().st_mtime)
    data = {p: p.read_bytes() for p in entries}
    entries[0].write_bytes(data[entries[1]])
    entries[1].write_bytes(data[entries[0]])
    state, _ = loaded(root, cache)
    assert set(state.users) == {"ada@contoso.example", "bob@contoso.example"}
    assert state.users["bob@contoso.example"].location.file.endswith("other.yaml")


def test_a_read_that_does_not_decode_back_equal_is_not_kept(tmp_path: Path) -> None:
    """An entry is checked against the fresh read, item by item, before it is written: a value the wire
    cannot say exactly (here a tuple, which comes back a list) means the file is parsed every time."""
    read = read_file("people.yaml", ADA + "  - userPrincipalName: bob@contoso.example\n")
    parse = ParseCache(tmp_path)
    parse.put(parse.locate("people.yaml", ADA), read)
    assert len(list(tmp_path.glob("*.msgpack"))) == 1  # kept: it decodes back equal
    bob = read.users[1]
    assert bob.user is not None
    odd = replace(bob, user=replace(bob.user, attrs={**bob.user.attrs, "otherMails": ("x@contoso.example",)}))
    other = ParseCache(tmp_path / "other")
    other.put(other.locate("people.yaml", ADA), replace(read, users=(read.users[0], odd)))
    assert not list((tmp_path / "other").glob("*.msgpack"))


def test_an_entry_of_another_code_version_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, cache = tmp_path / "state", tmp_path / "cache"
    write(root, "people.yaml", ADA)
    loaded(root, cache)
    before = {p.name for p in cache.glob("*.msgpack")}
    monkeypatch.setattr(parsecache, "code_version", lambda: "a later entraform")
    _, parse = loaded(root, cache)
    after = {p.name for p in cache.glob("*.msgpack")}
    assert before.isdisjoint(after) and after <= parse.used  # read again, kept under the new version


def test_only_reads_without_problems_are_kept_and_cross_file_problems_still_found(tmp_path: Path) -> None:
    root, cache = tmp_path / "state", tmp_path / "cache"
    write(root, "a.yaml", ADA)
    write(root, "b.yaml", ADA)  # declared twice: a problem of neither file alone
    write(root, "c.yaml", "users:\n  - userPrincipalName: cy@contoso.example\n    accountEnabled: maybe\n")
    for _ in range(2):
        with pytest.raises(EntraformError) as raised:
            loaded(root, cache)
        lines = raised.value.lines()
        assert any(
            "b.yaml:2:24: users[0].userPrincipalName: user ada@contoso.example is already" in x for x in lines
        )
        assert any("c.yaml:3:21" in line for line in lines)
        assert len(list(cache.glob("*.msgpack"))) == 2  # a.yaml and b.yaml; c.yaml has a problem


def test_a_deleted_files_entry_is_removed(tmp_path: Path) -> None:
    root, cache = tmp_path / "state", tmp_path / "cache"
    write(root, "a.yaml", ADA)
    write(root, "b.yaml", ADA.replace("ada@", "bob@"))
    loaded(root, cache)
    (root / "b.yaml").unlink()
    state, _ = loaded(root, cache)
    assert set(state.users) == {"ada@contoso.example"}
    assert len(list(cache.glob("*.msgpack"))) == 1


def test_a_lookup_answers_from_the_kept_reads_only_once_the_same_files_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, cache = tmp_path / "state", tmp_path / "cache"
    write(root, "a.yaml", ADA)
    write(root, "b.yaml", "groups:\n  - mailNickname: grp-a\n    members: [ada@contoso.example]\n")
    parsed: list[str] = []
    real = fileread.read_file

    def counting(name: str, text: str) -> fileread.FileRead:
        parsed.append(Path(name).name)
        return real(name, text)

    monkeypatch.setattr(loader, "read_file", counting)
    config = Config(state_dir=str(root))
    # Nothing kept yet: a whole load answers, and keeps both files and that they load.
    assert Declared(config, ParseCache(cache)).user(("ada@contoso.example",)) is not None
    assert parsed == ["a.yaml", "b.yaml"] and len(list(cache.glob("*.loaded"))) == 1
    group = Declared(config, ParseCache(cache)).group("grp-a")
    assert group is not None and group.members is not None and group.members.keys[0] == "ada@contoso.example"
    assert (
        Declared(config, ParseCache(cache)).user(("nobody@contoso.example", "ada@contoso.example"))
        is not None
    )
    assert Declared(config, ParseCache(cache)).group("grp-b") is None
    assert parsed == ["a.yaml", "b.yaml"]  # all answered from the kept reads
    # A second file declaring the same user: the state no longer loads, and the lookup says so.
    write(root, "c.yaml", ADA)
    with pytest.raises(EntraformError) as raised:
        Declared(config, ParseCache(cache)).user(("ada@contoso.example",))
    assert "is already declared at" in raised.value.lines()[0]
    (root / "c.yaml").unlink()
    # A damaged entry: the whole load answers instead, and writes it again.
    for entry in cache.glob("*.msgpack"):
        entry.write_bytes(b"\x00")
    parsed.clear()
    assert (
        Declared(config, ParseCache(cache)).user(("ada@contoso.example",))
        == load_desired(config).users["ada@contoso.example"]
    )
    assert parsed == ["a.yaml", "b.yaml", "a.yaml", "b.yaml"]  # the lookup's load, then the check's
