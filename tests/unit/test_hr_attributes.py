"""HR attributes of users: validated with Graph's limits, diffed (nested objects key by key), permitted.

Limits and shapes from Microsoft's user resource page,
https://learn.microsoft.com/en-us/graph/api/resources/user?view=graph-rest-1.0 ("Properties": employeeId
at most 16 characters, the other maximum lengths, DateTimeOffset instants, mail and otherMails without
accents, the passwordPolicies values), and
https://learn.microsoft.com/en-us/graph/api/resources/onpremisesextensionattributes?view=graph-rest-1.0
(15 attributes of up to 1024 characters each). employeeLeaveDateTime's own permission:
https://learn.microsoft.com/en-us/graph/tutorial-lifecycle-workflows-set-employeeleavedatetime
(User-LifeCycleInfo.ReadWrite.All, "Higher privileged permissions: Not available").
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from builders import change, config, desired, duser, live, luser
from builders import flat_diff as diff

from reconciler.apply.permissions import missing_permissions
from reconciler.desired.instants import date_instant, graph_instant
from reconciler.desired.loader import load_desired
from reconciler.errors import ValidationFailed
from reconciler.plan.model import Plan, WrittenDigests


def _problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> list[str]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "people.yaml").write_text(dedent(text), encoding="utf-8")
    with pytest.raises(ValidationFailed) as failed:
        load_desired(config(state_dir="state"))
    return [str(problem) for problem in failed.value.problems]


def test_graph_limits_are_each_named_at_their_line_and_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = """\
        users:
          - userPrincipalName: ada@contoso.example
            employeeId: "E12345678901234567"
            employeeHireDate: "2026-01-05"
            employeeLeaveDateTime: "2026-13-01T00:00:00Z"
            mail: "adá@contoso.example"
            otherMails: [ada@example.org, "not mail"]
            passwordPolicies: DisableStrongPasswords
            department: "{}"
            onPremisesExtensionAttributes:
              extensionAttribute2: "{}"
            employeeOrgData: {{division: Research, costCentre: CC-1}}
        """.format("d" * 65, "x" * 1025)
    assert _problems(tmp_path, monkeypatch, text) == [
        "state/people.yaml:3:17: users[0].employeeId: employeeId is 18 characters long; Graph allows at "
        "most 16",
        "state/people.yaml:4:23: users[0].employeeHireDate: expected a date and time with an offset "
        "(ISO 8601, e.g. 2026-01-05T00:00:00Z), got '2026-01-05'; "
        'write "2026-01-05T00:00:00Z" for midnight UTC',
        "state/people.yaml:5:28: users[0].employeeLeaveDateTime: expected a date and time with an offset "
        "(ISO 8601, e.g. 2026-01-05T00:00:00Z), got '2026-13-01T00:00:00Z'",
        "state/people.yaml:6:11: users[0].mail: 'adá@contoso.example' is not a mail address (name@domain, "
        "without accents or spaces)",
        "state/people.yaml:7:35: users[0].otherMails[1]: 'not mail' is not a mail address (name@domain, "
        "without accents or spaces)",
        "state/people.yaml:8:23: users[0].passwordPolicies: passwordPolicies is DisablePasswordExpiration, "
        "DisableStrongPassword or one of them, got 'DisableStrongPasswords' (did you mean "
        "'DisableStrongPassword'?)",
        "state/people.yaml:9:17: users[0].department: department is 65 characters long; Graph allows at "
        "most 64",
        "state/people.yaml:11:28: users[0].onPremisesExtensionAttributes.extensionAttribute2: "
        "1025 characters long; Graph allows at most 1024",
        "state/people.yaml:12:43: users[0].employeeOrgData: unknown key 'costCentre' (did you mean "
        "'costCenter'?)",
    ]


def test_hr_attributes_load_as_written_with_instants_in_graph_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "people.yaml").write_text(
        dedent("""\
            users:
              - userPrincipalName: ada@contoso.example
                employeeHireDate: "2026-01-05T01:00:00+01:00"
                employeeOrgData: {division: Research}
                onPremisesExtensionAttributes: {extensionAttribute1: badge-7, extensionAttribute2: null}
                passwordPolicies: DisablePasswordExpiration, DisableStrongPassword
                faxNumber: "+44 20 7946 0001"
            """),
        encoding="utf-8",
    )
    attrs = load_desired(config(state_dir="state")).users["ada@contoso.example"].attrs
    assert attrs["employeeHireDate"] == "2026-01-05T00:00:00Z"
    assert attrs["employeeOrgData"] == {"division": "Research"}
    assert attrs["onPremisesExtensionAttributes"] == {
        "extensionAttribute1": "badge-7",
        "extensionAttribute2": None,
    }


def test_instants_are_compared_as_graph_writes_them() -> None:
    assert graph_instant("2026-01-05T01:00:00+01:00") == "2026-01-05T00:00:00Z"
    assert graph_instant("2026-01-05T00:00:00.1234567Z") == "2026-01-05T00:00:00.123456Z"
    assert graph_instant("2026-02-30T00:00:00Z") is None
    assert graph_instant("2026-01-05") is None  # an Edm.Date, not a DateTimeOffset
    assert date_instant("2026-01-05") == "2026-01-05T00:00:00Z"


def test_nested_objects_are_managed_key_by_key() -> None:
    have = live(luser("u1", "ada@contoso.example", employeeOrgData={"division": "Ops", "costCenter": "CC-1"}))
    same = diff(desired(duser("ada@contoso.example", employeeOrgData={"division": "Ops"})), have, config())
    assert same.changes == []
    moved = diff(desired(duser("ada@contoso.example", employeeOrgData={"division": "R&D"})), have, config())
    (update,) = moved.changes
    # The PATCH carries the whole object: right whether Graph merges the value or replaces it.
    assert update.diff == {
        "employeeOrgData": {
            "before": {"costCenter": "CC-1", "division": "Ops"},
            "after": {"costCenter": "CC-1", "division": "R&D"},
        }
    }


def test_a_null_key_clears_it_and_a_null_object_clears_every_key() -> None:
    extensions = {f"extensionAttribute{n}": None for n in range(1, 16)} | {"extensionAttribute1": "a"}
    have = live(luser("u1", "ada@contoso.example", onPremisesExtensionAttributes=extensions))
    key = diff(
        desired(duser("ada@contoso.example", onPremisesExtensionAttributes={"extensionAttribute1": None})),
        have,
        config(),
    )
    assert key.changes[0].diff["onPremisesExtensionAttributes"] == {
        "before": {"extensionAttribute1": "a"},
        "after": {"extensionAttribute1": None},
    }
    whole = diff(desired(duser("ada@contoso.example", onPremisesExtensionAttributes=None)), have, config())
    assert whole.changes[0].diff["onPremisesExtensionAttributes"] == {
        "before": {"extensionAttribute1": "a"},
        "after": None,
    }
    unset = live(luser("u1", "ada@contoso.example", onPremisesExtensionAttributes=dict.fromkeys(extensions)))
    assert (
        diff(
            desired(duser("ada@contoso.example", onPremisesExtensionAttributes=None)), unset, config()
        ).changes
        == []
    )


def test_a_new_user_is_created_with_the_keys_set_only() -> None:
    plan = diff(
        desired(duser("ada@contoso.example", employeeOrgData={"division": "R&D", "costCenter": None})),
        live(),
        config(),
    )
    assert plan.changes[0].after["employeeOrgData"] == {"division": "R&D"}


def test_the_leave_date_needs_its_own_permission_that_no_broader_one_grants() -> None:
    plan = Plan(
        tenant="t",
        digests=WrittenDigests("d", "l"),
        changes=[
            change(
                "c1", "update", "user", key="a@c.example", object_id="u1", diff={"jobTitle": {"after": "x"}}
            ),
            change(
                "c2",
                "update",
                "user",
                key="b@c.example",
                object_id="u2",
                diff={"employeeLeaveDateTime": {"before": None, "after": "2027-01-01T00:00:00Z"}},
            ),
        ],
    )
    writer = frozenset({"User.ReadWrite.All", "Directory.ReadWrite.All"})
    assert missing_permissions(plan, writer) == [
        "User-LifeCycleInfo.ReadWrite.All (to write employeeLeaveDateTime, e.g. c2)"
    ]
    assert missing_permissions(plan, writer | {"User-LifeCycleInfo.ReadWrite.All"}) == []
