"""The permissions a plan needs, checked against the token's `roles` before the first write (SPEC §6)."""

from __future__ import annotations

import base64
import json

from builders import GLOBAL_ADMIN, change

from reconciler.apply.permissions import missing_permissions
from reconciler.graph.client import jwt_claims, token_app, token_roles
from reconciler.plan.model import Plan, WrittenDigests

PLAN = Plan(
    tenant="t",
    digests=WrittenDigests("d", "l"),
    changes=[
        change("c1", "create", "user", key="a@c.example"),
        change("c2", "add_member", "membership", group="grp-a", member="a@c.example", object_id="g1"),
        change("c3", "create", "group", key="grp-admins", after={"isAssignableToRole": True}),
        change(
            "c4",
            "assign_role",
            "role",
            role="Global Administrator",
            role_definition_id=GLOBAL_ADMIN,
            principal="a@c.example",
            directoryScopeId="/",
        ),
    ],
)
WRITER = frozenset(
    {
        "User.ReadWrite.All",
        "Group.ReadWrite.All",
        "GroupMember.ReadWrite.All",
        "LicenseAssignment.ReadWrite.All",
    }
)


def test_a_writer_without_role_management_is_told_before_anything_is_written() -> None:
    assert missing_permissions(PLAN, WRITER) == [
        "RoleManagement.ReadWrite.Directory (to create role-assignable groups, e.g. c3)"
    ]
    assert missing_permissions(PLAN, WRITER | {"RoleManagement.ReadWrite.Directory"}) == []
    assert (
        missing_permissions(
            PLAN, frozenset({"Directory.ReadWrite.All", "RoleManagement.ReadWrite.Directory"})
        )
        == []
    )


def test_a_reader_lacks_every_write_permission() -> None:
    reader = frozenset({"User.Read.All", "GroupMember.Read.All", "Organization.Read.All"})
    assert [line.split(" ")[0] for line in missing_permissions(PLAN, reader)] == [
        "Group.Create",
        "GroupMember.ReadWrite.All",
        "RoleManagement.ReadWrite.Directory",
        "User.ReadWrite.All",
    ]


def _jwt(claims: dict[str, object]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJIUzI1NiJ9.{body}.signature"


def test_token_roles_are_read_from_app_only_tokens_only() -> None:
    app_only = jwt_claims(_jwt({"roles": ["User.Read.All"], "idtyp": "app", "appid": "app-1"}))
    assert token_roles(app_only) == frozenset({"User.Read.All"}) and token_app(app_only) == "app-1"
    assert token_roles(jwt_claims(_jwt({"scp": "User.Read", "roles": ["x"]}))) is None  # delegated
    assert token_roles(jwt_claims(_jwt({"aud": "x"}))) is None
    assert jwt_claims("opaque-token") == {} and jwt_claims("a.!!!.c") == {}
