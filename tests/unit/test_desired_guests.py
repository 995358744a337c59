"""Guests in the desired state (SPEC §3): `userType: Guest` with an `invitation:`, keyed by the invited
address until a UPN or an id is written; every misuse named at its FILE:LINE:COL."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from test_desired_rules import problems

from reconciler.config import Config
from reconciler.desired.loader import load_desired
from reconciler.desired.model import Invitation


def test_a_guest_is_keyed_by_its_invited_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "state").mkdir()
    text = """\
        users:
          - displayName: Alice
            userType: Guest
            invitation:
              invitedUserEmailAddress: Alice@Partner.example
              sendInvitationMessage: true
        groups:
          - mailNickname: grp-auditors
            members: [alice@partner.example]
        """
    (tmp_path / "state" / "s.yaml").write_text(dedent(text), encoding="utf-8")
    state = load_desired(Config())
    alice = state.users["alice@partner.example"]
    assert alice.attrs == {"displayName": "Alice", "userType": "Guest"}
    assert alice.invitation == Invitation("Alice@Partner.example", True, "https://myapps.microsoft.com")
    assert not alice.upn_declared
    assert state.external_refs == []  # the group's member is the declared guest


CASES = {
    "guest without invitation": (
        "users:\n  - userPrincipalName: a@contoso.example\n    userType: Guest\n",
        [
            "state/s.yaml:3:15: users[0].userType: a guest (userType: Guest) is created by invitation: add "
            "`invitation:` with its invitedUserEmailAddress"
        ],
    ),
    "invitation without guest": (
        "users:\n  - invitation: {invitedUserEmailAddress: a@partner.example}\n",
        [
            "state/s.yaml:2:5: users[0].invitation: `invitation:` is for guests: add `userType: Guest` "
            "to this user"
        ],
    ),
    "no key at all": (
        "users:\n  - displayName: Nobody\n",
        ["state/s.yaml:2:5: users[0]: missing required key 'userPrincipalName'"],
    ),
    "bad address and url": (
        "users:\n  - userType: Guest\n    invitation:\n      invitedUserEmailAddress: a+b@partner.example\n"
        "      inviteRedirectUrl: myapps\n",
        [
            "state/s.yaml:4:32: users[0].invitation.invitedUserEmailAddress: 'a+b@partner.example' is not an "
            "email address",
            "state/s.yaml:5:26: users[0].invitation.inviteRedirectUrl: 'myapps' is not a URL (https://…)",
        ],
    ),
    "guest declared twice": (
        "users:\n  - userType: Guest\n    invitation: {invitedUserEmailAddress: a@partner.example}\n"
        "  - userType: Guest\n    invitation: {invitedUserEmailAddress: A@partner.example}\n",
        [
            "state/s.yaml:5:43: users[1].invitation.invitedUserEmailAddress: user A@partner.example is "
            "already declared at state/s.yaml:3:43; declare each user once"
        ],
    ),
    "unknown invitation key": (
        "users:\n  - userType: Guest\n    invitation: {invitedUserEmailAddres: a@partner.example}\n",
        None,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_guest_rules(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, expected = CASES[case]
    found = problems(tmp_path, monkeypatch, {"s.yaml": text})
    if expected is None:
        assert any("did you mean 'invitedUserEmailAddress'?" in line for line in found), found
    else:
        assert found == expected
