"""`Members`: a group's members as columns, read back as the `MemberRef`s they were written as."""

from __future__ import annotations

import pytest

from reconciler.desired.model import MemberRef, Members
from reconciler.errors import Location

WRITTEN = (
    MemberRef("user", "ada@contoso.example", "state/groups.yaml", 7, 9),
    MemberRef("group", "grp-platform", "state/groups.yaml", 8, 9),
    MemberRef("user", "bob@contoso.example", "state/groups.yaml", 9, 11),
)


def test_members_give_back_what_was_written_in_order() -> None:
    members = Members.of(WRITTEN)
    assert tuple(members) == WRITTEN
    assert len(members) == 3
    assert list(members.pairs()) == [(m.kind, m.key) for m in WRITTEN]
    assert members.keys_of("user") == ["ada@contoso.example", "bob@contoso.example"]
    assert members.keys_of("group") == ["grp-platform"]
    assert members.location(2) == Location("state/groups.yaml", 9, 11)
    assert members == Members.of(list(WRITTEN))


def test_members_made_by_code_have_no_place_and_none_are_falsy() -> None:
    made = Members.of([MemberRef("user", "ada@contoso.example")])
    assert made.location(0) is None and next(iter(made)).location is None
    assert not Members.of([])


def test_members_of_two_files_are_refused() -> None:
    elsewhere = MemberRef("user", "eve@contoso.example", "state/other.yaml", 1, 3)
    with pytest.raises(ValueError, match="more than one file"):
        Members.of([*WRITTEN, elsewhere])
