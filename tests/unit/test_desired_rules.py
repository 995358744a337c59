"""Every validation rule of the desired state: the exact message at the exact FILE:LINE:COL."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from reconciler.config import Config
from reconciler.desired.loader import load_desired
from reconciler.errors import ValidationFailed


def problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> list[str]:
    """Write `files` under state/ and return the problem lines of loading them (paths as `state/...`)."""
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        path = tmp_path / "state" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text), encoding="utf-8")
    with pytest.raises(ValidationFailed) as failed:
        load_desired(Config())
    return failed.value.lines()


def one(text: str) -> dict[str, str]:
    return {"s.yaml": text}


CASES: dict[str, tuple[dict[str, str], list[str]]] = {
    "yaml syntax": (
        one("users:\n  - userPrincipalName: a@contoso.example\n bad: indent\n"),
        ["state/s.yaml:3:2: invalid YAML: did not find expected key (while parsing a block mapping)"],
    ),
    "tab indentation": (
        one("groups:\n\t- mailNickname: x\n"),
        [
            "state/s.yaml:2:1: invalid YAML: found character that cannot start any token "
            "(while scanning for the next token); indent with spaces, YAML does not allow tabs"
        ],
    ),
    "duplicate key": (
        one("""\
            users:
              - userPrincipalName: a@contoso.example
                jobTitle: Engineer
                jobTitle: Manager
            """),
        ["state/s.yaml:4:5: duplicate key 'jobTitle' (first at line 3); keep only one"],
    ),
    "unknown key with a suggestion": (
        one("users:\n  - userPrincipalName: a@contoso.example\n    jobtitle: Engineer\n"),
        ["state/s.yaml:3:5: users[0]: unknown key 'jobtitle' (did you mean 'jobTitle'?)"],
    ),
    "unknown key, nothing close": (
        one("groups:\n  - mailNickname: grp-a\n    colour: blue\n"),
        ["state/s.yaml:3:5: groups[0]: unknown key 'colour'"],
    ),
    "unknown key in a license": (
        one("groups:\n  - mailNickname: grp-a\n    licenses: [{sku: SPE_E5, disabledPlan: [X]}]\n"),
        [
            "state/s.yaml:3:30: groups[0].licenses[0]: unknown key 'disabledPlan' (did you mean "
            "'disabledPlans'?)"
        ],
    ),
    "unknown top-level key": (
        one("usres: []\n"),
        [
            "state/s.yaml:1:1: unknown key 'usres' (did you mean 'users'?); a file holds `users:`, "
            "`groups:` and `roles:`"
        ],
    ),
    "file is not a mapping": (
        one("- userPrincipalName: a@contoso.example\n"),
        [
            "state/s.yaml:1:1: a desired-state file is a mapping with `users:`, `groups:` and/or `roles:`, "
            "got a list"
        ],
    ),
    "section is not a list": (
        one("users:\n  userPrincipalName: a@contoso.example\n"),
        ["state/s.yaml:1:1: users: expected a list of users (`- ` items), got a mapping"],
    ),
    "item is not a mapping": (
        one("users:\n  - a@contoso.example\n"),
        ["state/s.yaml:2:5: users[0]: expected a mapping (key: value), got a string"],
    ),
    "missing key": (
        one("groups:\n  - displayName: Engineering\n"),
        ["state/s.yaml:2:5: groups[0]: missing required key 'mailNickname'"],
    ),
    "wrong type: string": (
        one("users:\n  - userPrincipalName: a@contoso.example\n    jobTitle: [Engineer]\n"),
        ["state/s.yaml:3:5: users[0].jobTitle: expected a string, got a list"],
    ),
    "wrong type: unquoted word YAML reads as a boolean": (
        one("users:\n  - userPrincipalName: a@contoso.example\n    country: NO\n"),
        ['state/s.yaml:3:14: users[0].country: expected a string, got a boolean; write "NO" in quotes'],
    ),
    "wrong type: number": (
        one("users:\n  - userPrincipalName: a@contoso.example\n    employeeId: 1001\n"),
        ['state/s.yaml:3:17: users[0].employeeId: expected a string, got a number; write "1001" in quotes'],
    ),
    "wrong type: boolean": (
        one("users:\n  - userPrincipalName: a@contoso.example\n    accountEnabled: 'yes'\n"),
        ["state/s.yaml:3:21: users[0].accountEnabled: expected true or false, got a string"],
    ),
    "wrong type: list": (
        one("groups:\n  - mailNickname: grp-a\n    groupTypes: Unified\n"),
        [
            "state/s.yaml:3:17: groups[0].groupTypes: expected a list, got a string; write [Unified] "
            "for a list of one"
        ],
    ),
    "wrong type: a mapping for a list": (
        one("users:\n  - userPrincipalName: a@contoso.example\n    licenses:\n      sku: SPE_E5\n"),
        ["state/s.yaml:3:5: users[0].licenses: expected a list, got a mapping; start each item with `- `"],
    ),
    "wrong type: a number in a list": (
        one("users:\n  - userPrincipalName: a@contoso.example\n    businessPhones: [2065550100]\n"),
        [
            "state/s.yaml:3:22: users[0].businessPhones[0]: expected a string, got a number; "
            'write "2065550100" in quotes'
        ],
    ),
    "wrong type: null list": (
        one("groups:\n  - mailNickname: grp-a\n    members: null\n"),
        [
            "state/s.yaml:3:14: groups[0].members: expected a list, got null; "
            "write [] for none, or leave the key out to leave it unmanaged"
        ],
    ),
    "wrong type: license as a string": (
        one(
            "users:\n  - userPrincipalName: a@contoso.example\n    usageLocation: US\n    licenses: "
            "[SPE_E5]\n"
        ),
        [
            "state/s.yaml:4:16: users[0].licenses[0]: expected a mapping (key: value), got a string; "
            "write `sku: SPE_E5`"
        ],
    ),
    "wrong value: choice": (
        one("groups:\n  - mailNickname: grp-a\n    visibility: public\n"),
        [
            "state/s.yaml:3:17: groups[0].visibility: expected 'Public', 'Private' or "
            "'HiddenMembership', got 'public'"
        ],
    ),
    "wrong value: unquoted On": (
        one("groups:\n  - mailNickname: grp-a\n    membershipRuleProcessingState: On\n"),
        [
            "state/s.yaml:3:36: groups[0].membershipRuleProcessingState: expected 'On' or 'Paused', "
            'got a boolean; write "On" in quotes'
        ],
    ),
    "wrong member shape": (
        one("groups:\n  - mailNickname: grp-a\n    members: [{grup: grp-b}, 7]\n"),
        [
            "state/s.yaml:3:15: groups[0].members[0]: a member is a user's UPN or `group: MAILNICKNAME`, "
            "got a mapping with `grup:`",
            "state/s.yaml:3:30: groups[0].members[1]: a member is a user's UPN or `group: "
            "MAILNICKNAME`, got a number",
        ],
    ),
    "user declared twice across files": (
        {
            "a.yaml": "users:\n  - userPrincipalName: ada@contoso.example\n",
            "sub/b.yaml": "users:\n  - userPrincipalName: Ada@Contoso.example\n",
        },
        [
            "state/sub/b.yaml:2:24: users[0].userPrincipalName: user Ada@Contoso.example is already declared "
            "at state/a.yaml:2:24; declare each user once"
        ],
    ),
    "group declared twice": (
        one("groups:\n  - mailNickname: grp-a\n  - mailNickname: GRP-A\n"),
        [
            "state/s.yaml:3:19: groups[1].mailNickname: group GRP-A is already declared at "
            "state/s.yaml:2:19; "
            "declare each group once"
        ],
    ),
    "nested-group cycle": (
        one("""\
            groups:
              - mailNickname: grp-a
                members: [{group: grp-b}]
              - mailNickname: grp-b
                members: [{group: grp-a}]
            """),
        [
            "state/s.yaml:5:15: nested groups form a cycle: grp-a → grp-b → grp-a; remove one of these "
            "memberships"
        ],
    ),
    "group member of itself": (
        one("groups:\n  - mailNickname: grp-a\n    members: [{group: grp-a}]\n"),
        ["state/s.yaml:3:15: grp-a cannot be a member of itself"],
    ),
    "reference to a renamed key": (
        one("""\
            users:
              - userPrincipalName: henrietta@contoso.example
                renamedFrom: [hmueller@contoso.example]
              - userPrincipalName: sam@contoso.example
                manager: HMueller@contoso.example
            """),
        [
            "state/s.yaml:5:14: manager hmueller@contoso.example was renamed to henrietta@contoso.example "
            "(see its renamedFrom); refer to henrietta@contoso.example"
        ],
    ),
    "renamedFrom a key still declared": (
        one("""\
            groups:
              - mailNickname: grp-new
                renamedFrom: [grp-old]
              - mailNickname: grp-old
            """),
        [
            "state/s.yaml:3:19: renamedFrom: grp-old is still declared at state/s.yaml:4:19; remove one "
            "of the two"
        ],
    ),
    "license without usageLocation": (
        one("users:\n  - userPrincipalName: a@contoso.example\n    licenses:\n      - sku: SPE_E5\n"),
        [
            "state/s.yaml:3:5: users[0].licenses: a user with licenses needs a usageLocation "
            "(two letters, e.g. US); add one to this user"
        ],
    ),
    "password field": (
        one("""\
            users:
              - userPrincipalName: a@contoso.example
                passwordProfile:
                  password: hunter2
            """),
        [
            "state/s.yaml:3:5: users[0].passwordProfile: passwords do not belong in the desired state; "
            "remove 'passwordProfile' (new users get a random one: `entraform apply --initial-passwords "
            "FILE`)"
        ],
    ),
    "password nested anywhere": (
        one("""\
            groups:
              - mailNickname: grp-a
                licenses:
                  - sku: SPE_E5
                    adminPassword: x
            """),
        [
            "state/s.yaml:5:9: groups[0].licenses[0].adminPassword: passwords do not belong in the "
            "desired state; "
            "remove 'adminPassword' (new users get a random one: `entraform apply --initial-passwords FILE`)"
        ],
    ),
    "UPN characters": (
        one("users:\n  - userPrincipalName: émile dupont@contoso.example\n"),
        [
            "state/s.yaml:2:24: users[0].userPrincipalName: 'émile dupont@contoso.example' contains ' ' 'é'; "
            "Graph allows only A-Z a-z 0-9 ' . - _ ! # ^ ~ before the @"
        ],
    ),
    "UPN shape": (
        one("users:\n  - userPrincipalName: ada\n"),
        ["state/s.yaml:2:24: users[0].userPrincipalName: 'ada' is not a user principal name (name@domain)"],
    ),
    "UPN domain": (
        one("users:\n  - userPrincipalName: ada@contoso\n"),
        ["state/s.yaml:2:24: users[0].userPrincipalName: 'ada@contoso': 'contoso' is not a domain name"],
    ),
    "UPN period": (
        one("users:\n  - userPrincipalName: ada.@contoso.example\n"),
        [
            "state/s.yaml:2:24: users[0].userPrincipalName: 'ada.@contoso.example': "
            "the part before the @ cannot start or end with a period"
        ],
    ),
    "UPN length": (
        one(f"users:\n  - userPrincipalName: {'a' * 65}@contoso.example\n"),
        [
            f"state/s.yaml:2:24: users[0].userPrincipalName: '{'a' * 65}@contoso.example' is too long: "
            "at most 64 characters before the @ and 48 after it"
        ],
    ),
    "manager is not a UPN": (
        one("users:\n  - userPrincipalName: a@contoso.example\n    manager: grace\n"),
        ["state/s.yaml:3:14: users[0].manager: 'grace' is not a user principal name (name@domain)"],
    ),
    "own manager": (
        one("users:\n  - userPrincipalName: a@contoso.example\n    manager: A@contoso.example\n"),
        ["state/s.yaml:3:14: users[0].manager: a user cannot be their own manager"],
    ),
    "mailNickname too long": (
        one(f"groups:\n  - mailNickname: grp-{'x' * 61}\n"),
        [
            "state/s.yaml:2:19: groups[0].mailNickname: mailNickname is 65 characters long; Graph "
            "allows at most 64"
        ],
    ),
    "group mailNickname characters": (
        one("groups:\n  - mailNickname: grp.sales (emea)\n"),
        [
            "state/s.yaml:2:19: groups[0].mailNickname: mailNickname 'grp.sales (emea)' contains ' ' "
            "'(' ')' '.'; "
            'Graph allows ASCII except spaces and @ ( ) \\ [ ] " ; : . < > ,'
        ],
    ),
    "user mailNickname characters (periods allowed)": (
        one("users:\n  - userPrincipalName: a.b@contoso.example\n    mailNickname: a.b;c\n"),
        [
            "state/s.yaml:3:19: users[0].mailNickname: mailNickname 'a.b;c' contains ';'; "
            'Graph allows ASCII except spaces and @ ( ) \\ [ ] " ; : < > ,'
        ],
    ),
    "displayName too long": (
        one(f"groups:\n  - mailNickname: grp-a\n    displayName: {'D' * 257}\n"),
        [
            "state/s.yaml:3:18: groups[0].displayName: displayName is 257 characters long; Graph needs "
            "1 to 256 characters"
        ],
    ),
    "displayName empty": (
        one("groups:\n  - mailNickname: grp-a\n    displayName: ''\n"),
        ["state/s.yaml:3:18: groups[0].displayName: displayName is empty; Graph needs 1 to 256 characters"],
    ),
    "attribute Graph cannot clear": (
        one("users:\n  - userPrincipalName: a@contoso.example\n    displayName: null\n"),
        [
            "state/s.yaml:3:18: users[0].displayName: displayName cannot be null: Graph cannot clear it; "
            "leave the key out to leave it unmanaged"
        ],
    ),
    "usageLocation two letters": (
        one("users:\n  - userPrincipalName: a@contoso.example\n    usageLocation: USA\n"),
        [
            "state/s.yaml:3:20: users[0].usageLocation: usageLocation must be two capital letters "
            "(ISO 3166, e.g. US), got 'USA'"
        ],
    ),
    "usageLocation lower case": (
        one("users:\n  - userPrincipalName: a@contoso.example\n    usageLocation: gb\n"),
        [
            "state/s.yaml:3:20: users[0].usageLocation: usageLocation must be two capital letters "
            "(ISO 3166, e.g. US), got 'gb'; write GB"
        ],
    ),
    "id is not a GUID": (
        one("groups:\n  - mailNickname: grp-a\n    id: 1234-abcd\n"),
        [
            "state/s.yaml:3:9: groups[0].id: id must be an object id "
            "(a GUID like 00000000-0000-0000-0000-000000000000), got '1234-abcd'"
        ],
    ),
    "id pinned twice": (
        one("""\
            users:
              - userPrincipalName: a@contoso.example
                id: 6e5f1c1a-58f6-4d7b-9c43-1c1a2f1b0a01
              - userPrincipalName: b@contoso.example
                id: 6E5F1C1A-58F6-4D7B-9C43-1C1A2F1B0A01
            """),
        [
            "state/s.yaml:5:9: id: 6e5f1c1a-58f6-4d7b-9c43-1c1a2f1b0a01 is already pinned at "
            "state/s.yaml:3:9; "
            "an id belongs to one object"
        ],
    ),
    "dynamic group listing members": (
        one("""\
            groups:
              - mailNickname: grp-all
                groupTypes: [DynamicMembership]
                membershipRule: user.accountEnabled -eq true
                members: [a@contoso.example]
            """),
        [
            "state/s.yaml:5:5: groups[0].members: a dynamic group gets its members from its "
            "membershipRule; remove `members:`"
        ],
    ),
    "dynamic group listing members in block style: the `members:` key, not the first member": (
        one("""\
            groups:
              - mailNickname: grp-all
                groupTypes: [DynamicMembership]
                membershipRule: user.accountEnabled -eq true
                members:
                  - a@contoso.example
            """),
        [
            "state/s.yaml:5:5: groups[0].members: a dynamic group gets its members from its "
            "membershipRule; remove `members:`"
        ],
    ),
    "dynamic group with an empty member list": (
        one("""\
            groups:
              - mailNickname: grp-all
                groupTypes: [DynamicMembership]
                membershipRule: user.accountEnabled -eq true
                members: []
            """),
        [
            "state/s.yaml:5:5: groups[0].members: a dynamic group gets its members from its "
            "membershipRule; remove `members:`"
        ],
    ),
    "membershipRule without DynamicMembership": (
        one(
            "groups:\n  - mailNickname: grp-all\n    groupTypes: []\n    membershipRule: "
            "user.accountEnabled -eq true\n"
        ),
        [
            "state/s.yaml:3:5: groups[0].groupTypes: a group with a membershipRule needs "
            '"DynamicMembership" in groupTypes'
        ],
    ),
    "unknown group type": (
        one("groups:\n  - mailNickname: grp-a\n    groupTypes: [unified]\n"),
        [
            "state/s.yaml:3:18: groups[0].groupTypes[0]: unknown group type 'unified' (did you mean "
            "'Unified'?); "
            "Graph knows Unified and DynamicMembership"
        ],
    ),
    "Microsoft 365 group with a nested group": (
        one("groups:\n  - mailNickname: grp-a\n    groupTypes: [Unified]\n    members: [{group: grp-b}]\n"),
        [
            "state/s.yaml:4:15: groups[0].members[0]: group: grp-b: a Microsoft 365 group has only users as "
            "members"
        ],
    ),
    "role-assignable group with a nested group": (
        one(
            "groups:\n  - mailNickname: grp-a\n    isAssignableToRole: true\n    members: [{group: grp-b}]\n"
        ),
        [
            "state/s.yaml:4:15: groups[0].members[0]: group: grp-b: a role-assignable group has no groups as "
            "members"
        ],
    ),
    "Microsoft 365 group nested in a security group (declared in another file)": (
        {
            "a.yaml": "groups:\n  - mailNickname: grp-a\n    members:\n      - group: grp-b\n",
            "b.yaml": "groups:\n  - mailNickname: grp-b\n    groupTypes: [Unified]\n",
        },
        [
            "state/a.yaml:4:9: group grp-b is a Microsoft 365 group (state/b.yaml:2:5): a Microsoft 365 "
            "group cannot be a member of any group"
        ],
    ),
    "Microsoft 365 group nested in a Microsoft 365 group: said once, by the parent": (
        one(
            "groups:\n  - mailNickname: grp-a\n    groupTypes: [Unified]\n    members: [{group: grp-b}]\n"
            "  - mailNickname: grp-b\n    groupTypes: [Unified]\n"
        ),
        [
            "state/s.yaml:4:15: groups[0].members[0]: group: grp-b: a Microsoft 365 group has only users as "
            "members"
        ],
    ),
    "mail-enabled security group declared": (
        one("groups:\n  - mailNickname: sg-mail\n    mailEnabled: true\n    securityEnabled: true\n"),
        [
            "state/s.yaml:3:18: groups[0].mailEnabled: mail-enabled security groups and distribution groups "
            "are managed by Exchange and read-only through Microsoft Graph; declare security groups "
            '(mailEnabled: false) or Microsoft 365 groups (groupTypes: ["Unified"]) only, and refer to this '
            "one as a member where you need it"
        ],
    ),
    "distribution group declared": (
        one("groups:\n  - mailNickname: dl-all\n    mailEnabled: true\n    securityEnabled: false\n"),
        [
            "state/s.yaml:3:18: groups[0].mailEnabled: mail-enabled security groups and distribution groups "
            "are managed by Exchange and read-only through Microsoft Graph; declare security groups "
            '(mailEnabled: false) or Microsoft 365 groups (groupTypes: ["Unified"]) only, and refer to this '
            "one as a member where you need it"
        ],
    ),
    "role entry with a misspelt key": (
        one("roles:\n  - role: User Administrator\n    principal: [a@contoso.example]\n"),
        ["state/s.yaml:3:5: roles[0]: unknown key 'principal' (did you mean 'principals'?)"],
    ),
    "role principal that is neither a UPN nor a group": (
        one("roles:\n  - role: User Administrator\n    principals: [helpdesk]\n"),
        [
            "state/s.yaml:3:18: roles[0].principals[0]: 'helpdesk' is not a UPN; for a role-assignable group "
            "write `group: helpdesk`"
        ],
    ),
    "role principal listed twice": (
        one("roles:\n  - role: User Administrator\n    principals: [a@contoso.example, A@contoso.example]\n"),
        [
            "state/s.yaml:3:37: roles[0].principals[1]: a@contoso.example is listed twice (first at line 3); "
            "keep one"
        ],
    ),
    "role with a directory scope that is not one": (
        one("roles:\n  - role: User Administrator\n    directoryScopeId: tenant\n"),
        [
            "state/s.yaml:3:23: roles[0].directoryScopeId: 'tenant' is not a directory scope; write / (the "
            "tenant) or /administrativeUnits/{id}"
        ],
    ),
    "role declared twice for one scope across files": (
        {
            "a.yaml": "roles:\n  - role: User Administrator\n",
            "b.yaml": "roles:\n  - role: user administrator\n    directoryScopeId: /\n",
        },
        [
            "state/b.yaml:2:5: roles[0]: role user administrator at directoryScopeId / is already declared "
            "at state/a.yaml:2:5; declare each role once per scope"
        ],
    ),
    "role held by a declared group that is not role-assignable": (
        one(
            "groups:\n  - mailNickname: grp-help\nroles:\n  - role: Helpdesk Administrator\n"
            "    principals: [{group: grp-help}]\n"
        ),
        [
            "state/s.yaml:5:18: group grp-help (state/s.yaml:2:5) holds role Helpdesk Administrator, but "
            "only role-assignable groups can: declare it with isAssignableToRole: true (set when it is "
            "created)"
        ],
    ),
    "role-assignable dynamic group": (
        one("groups:\n  - mailNickname: grp-a\n    isAssignableToRole: true\n    membershipRule: x\n"),
        [
            "state/s.yaml:3:25: groups[0].isAssignableToRole: a role-assignable group cannot be a "
            "dynamic group"
        ],
    ),
    "role-assignable group that is not a security group": (
        one("groups:\n  - mailNickname: grp-a\n    isAssignableToRole: true\n    securityEnabled: false\n"),
        [
            "state/s.yaml:3:25: groups[0].isAssignableToRole: a role-assignable group must have "
            "securityEnabled: true"
        ],
    ),
    "member that should be a nested group": (
        one("groups:\n  - mailNickname: grp-a\n    members:\n      - grp-b\n"),
        [
            "state/s.yaml:4:9: groups[0].members[0]: 'grp-b' is not a UPN; for a nested group write "
            "`group: grp-b`"
        ],
    ),
    "owner is not a UPN": (
        one("groups:\n  - mailNickname: grp-a\n    owners: [grace]\n"),
        [
            "state/s.yaml:3:14: groups[0].owners[0]: owners are users by UPN: 'grace' is not a user "
            "principal name (name@domain)"
        ],
    ),
    "member listed twice": (
        one("groups:\n  - mailNickname: grp-a\n    members: [a@contoso.example, A@contoso.example]\n"),
        [
            "state/s.yaml:3:34: groups[0].members[1]: a@contoso.example is listed twice (first at line "
            "3); keep one"
        ],
    ),
    "license listed twice": (
        one("groups:\n  - mailNickname: grp-a\n    licenses:\n      - sku: SPE_E5\n      - sku: spe_e5\n"),
        ["state/s.yaml:5:9: groups[0].licenses[1]: spe_e5 is listed twice (first at line 4); keep one"],
    ),
    ".yml file": (
        {"a.yml": "users: []\n"},
        ["state/a.yml:1:1: only *.yaml files are read; rename this file to .yaml"],
    ),
    "recursive alias": (
        one("users: &u\n  - *u\n"),
        [
            "state/s.yaml:1:8: an alias refers to the collection that contains it; YAML here must be a tree",
            "state/s.yaml:1:8: users[0]: expected a mapping (key: value), got null",
        ],
    ),
    "YAML tag": (
        one("users:\n  - !!python/object:os.system {}\n"),
        [
            "state/s.yaml:2:5: YAML tag tag:yaml.org,2002:python/object:os.system is not supported here; "
            "write a plain mapping",
            "state/s.yaml:2:5: users[0]: missing required key 'userPrincipalName'",
        ],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_rule(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files, expected = CASES[case]
    assert problems(tmp_path, monkeypatch, files) == expected


def test_every_problem_of_every_file_in_one_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {
        "b.yaml": """\
            users:
              - userPrincipalName: a@contoso.example
                jobTitle: [x]
                usageLocation: usa
                displayName: null
            """,
        "a.yaml": "groups:\n  - mailNickname: grp a\n    visibility: secret\n",
    }
    assert problems(tmp_path, monkeypatch, files) == [
        "state/a.yaml:2:19: groups[0].mailNickname: mailNickname 'grp a' contains ' '; "
        'Graph allows ASCII except spaces and @ ( ) \\ [ ] " ; : . < > ,',
        "state/a.yaml:3:17: groups[0].visibility: expected 'Public', 'Private' or 'HiddenMembership', "
        "got 'secret'",
        "state/b.yaml:3:5: users[0].jobTitle: expected a string, got a list",
        "state/b.yaml:4:20: users[0].usageLocation: usageLocation must be two capital letters (ISO "
        "3166, e.g. US), "
        "got 'usa'",
        "state/b.yaml:5:18: users[0].displayName: displayName cannot be null: Graph cannot clear it; "
        "leave the key out to leave it unmanaged",
    ]


def test_password_policies_is_not_a_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Checked as Graph's attribute (its two documented values), not stripped as a password.
    files = one("users:\n  - userPrincipalName: a@contoso.example\n    passwordPolicies: DisableExpiration\n")
    assert problems(tmp_path, monkeypatch, files) == [
        "state/s.yaml:3:23: users[0].passwordPolicies: passwordPolicies is DisablePasswordExpiration, "
        "DisableStrongPassword or one of them, got 'DisableExpiration' "
        "(did you mean 'DisablePasswordExpiration'?)",
    ]


def test_a_broken_usage_location_is_one_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "users:\n  - userPrincipalName: a@x.example\n    usageLocation: NO\n    licenses: [{sku: E5}]\n"
    assert problems(tmp_path, monkeypatch, one(text)) == [
        'state/s.yaml:3:20: users[0].usageLocation: expected a string, got a boolean; write "NO" in quotes',
    ]
