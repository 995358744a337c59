"""Graph error answers turned into one clear message, and the predicates apply needs to classify them.

Graph says to branch on `error.code`, not the message (Graph docs: errors); a few cases (already a
member, not a member, replication lag) share `Request_BadRequest` and are told apart by their documented
messages.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.errors import GraphError
from reconciler.graph.wire import RawResponse

# (method, path pattern, least-privileged application permission, what the request does); Graph docs: each
# operation's permissions table.
# First match wins, so the specific paths come before the general ones.
_OPERATIONS: tuple[tuple[str, str, str, str], ...] = (
    ("GET", r"/users/delta", "User.Read.All", "read users (delta)"),
    ("GET", r"/users/[^/]+/manager", "User.Read.All", "read a user's manager"),
    ("GET", r"/users(/[^/]+)?", "User.Read.All", "read users"),
    ("GET", r"/groups/delta", "GroupMember.Read.All", "read groups and their members (delta)"),
    ("GET", r"/groups/[^/]+/(members|transitiveMembers)", "GroupMember.Read.All", "read group members"),
    ("GET", r"/groups/[^/]+/owners", "GroupMember.Read.All", "read group owners"),
    ("GET", r"/groups(/[^/]+)?", "GroupMember.Read.All", "read groups"),
    ("GET", r"/subscribedSkus(/[^/]+)?", "Organization.Read.All", "read the tenant's subscriptions"),
    ("GET", r"/organization(/[^/]+)?", "Organization.Read.All", "read the organization"),
    ("GET", r"/domains(/[^/]+)?", "Domain.Read.All", "read domains"),
    (
        "GET",
        r"/roleManagement/directory/roleDefinitions(/[^/]+)?",
        "RoleManagement.Read.Directory",
        "read directory role definitions",
    ),
    (
        "GET",
        r"/roleManagement/directory/roleAssignments(/[^/]+)?",
        "RoleManagement.Read.Directory",
        "read directory role assignments",
    ),
    (
        "POST",
        r"/roleManagement/directory/roleAssignments",
        "RoleManagement.ReadWrite.Directory",
        "assign directory roles",
    ),
    (
        "DELETE",
        r"/roleManagement/directory/roleAssignments/[^/]+",
        "RoleManagement.ReadWrite.Directory",
        "remove directory role assignments",
    ),
    ("POST", r"/invitations", "User.Invite.All", "invite guests"),
    (
        "GET",
        r"/directory/deletedItems/microsoft\.graph\.user",
        "User.Read.All",
        "list deleted users",
    ),
    (
        "GET",
        r"/directory/deletedItems/microsoft\.graph\.group",
        "Group.Read.All",
        "list deleted groups",
    ),
    ("POST", r"/directory/deletedItems/[^/]+/restore", "User.DeleteRestore.All", "restore deleted objects"),
    ("DELETE", r"/directory/deletedItems/[^/]+", "User.DeleteRestore.All", "purge deleted objects"),
    ("POST", r"/users", "User.ReadWrite.All", "create users"),
    ("PATCH", r"/users/[^/]+", "User.ReadWrite.All", "update users"),
    ("DELETE", r"/users/[^/]+", "User.DeleteRestore.All", "delete users"),
    ("PUT", r"/users/[^/]+/manager/\$ref", "User.ReadWrite.All", "set a user's manager"),
    ("DELETE", r"/users/[^/]+/manager/\$ref", "User.ReadWrite.All", "clear a user's manager"),
    ("POST", r"/users/[^/]+/assignLicense", "LicenseAssignment.ReadWrite.All", "assign licenses"),
    ("POST", r"/users/[^/]+/revokeSignInSessions", "User.RevokeSessions.All", "revoke sign-in sessions"),
    ("POST", r"/groups", "Group.Create", "create groups"),
    ("POST", r"/groups/[^/]+/members/\$ref", "GroupMember.ReadWrite.All", "add group members"),
    ("DELETE", r"/groups/[^/]+/members/[^/]+/\$ref", "GroupMember.ReadWrite.All", "remove group members"),
    ("POST", r"/groups/[^/]+/owners/\$ref", "Group.ReadWrite.All", "add group owners"),
    ("DELETE", r"/groups/[^/]+/owners/[^/]+/\$ref", "Group.ReadWrite.All", "remove group owners"),
    ("POST", r"/groups/[^/]+/assignLicense", "LicenseAssignment.ReadWrite.All", "assign group licenses"),
    ("PATCH", r"/groups/[^/]+", "Group.ReadWrite.All", "update groups"),
    ("DELETE", r"/groups/[^/]+", "Group.ReadWrite.All", "delete groups"),
)
_COMPILED = tuple((m, re.compile(p + r"/?"), perm, what) for m, p, perm, what in _OPERATIONS)


def permission_for(method: str, path: str) -> tuple[str, str] | None:
    """The least-privileged application permission and a description of a request, if known."""
    bare = path.split("?", 1)[0]
    for op_method, pattern, permission, what in _COMPILED:
        if op_method == method.upper() and pattern.fullmatch(bare):
            return permission, what
    return None


def error_code(response: RawResponse) -> str:
    error = _error(response)
    return str(error.get("code") or "")


def error_message(response: RawResponse) -> str:
    error = _error(response)
    return str(error.get("message") or "")


def request_id(response: RawResponse) -> str:
    inner = _error(response).get("innerError")
    if isinstance(inner, dict) and inner.get("request-id"):
        return str(inner["request-id"])
    return response.headers.get("request-id", "")


def error_from_response(
    method: str, path: str, response: RawResponse, permission: str | None = None
) -> GraphError:
    """One `GraphError` a user can act on; `permission` overrides the one looked up from the path."""
    code, message = error_code(response), error_message(response)
    where = f"{method.upper()} {path.split('?', 1)[0]}"
    known = permission_for(method, path)
    if response.status == 401:
        text = (
            f"Graph refused the credentials ({code or 401}: {message or 'unauthorized'}) on {where}; "
            "check auth.client_id, the secret or certificate, tenant and authority"
        )
    elif response.status == 403 and (permission or known):
        needed = permission or (known[0] if known else "")
        what = known[1] if known else where
        text = (
            f"the app lacks the application permission {needed} to {what} ({where}); "
            "grant it to the app registration and give admin consent"
        )
    elif response.status == 429:
        text = f"Graph kept throttling {where} (429 {code}) after retrying; try again in a minute"
    else:
        detail = f"{code}: {message}" if code or message else "no error body"
        text = f"Graph answered {where} with {response.status} ({detail})"
    return GraphError(text, status=response.status, code=code, request_id=request_id(response))


def is_conflict(response: RawResponse) -> bool:
    """A unique key is taken: a create that may have succeeded before a lost response (Graph docs:
    user-post-users)."""
    if response.status == 409 or error_code(response) == "Request_MultipleObjectsWithSameKeyValue":
        return True
    details = _error(response).get("details")
    if isinstance(details, list) and any(
        isinstance(d, dict) and d.get("code") == "ObjectConflict" for d in details
    ):
        return True
    message = error_message(response)
    return response.status == 400 and (
        "Another object with the same value for property" in message
        # A role assignment that exists already (Graph docs: rbacapplication-post-roleassignments).
        or "conflicting object with one or more of the specified property values" in message
    )


def is_already_member(response: RawResponse) -> bool:
    """Adding a member or owner that is already there (success for an idempotent apply)."""
    return response.status == 400 and "added object references already exist" in error_message(response)


def is_not_member(response: RawResponse) -> bool:
    """Removing a member or owner that is not there; call only for a `$ref` DELETE (404 is ambiguous)."""
    if response.status == 404 and error_code(response) == "Request_ResourceNotFound":
        return True
    return response.status == 400 and "removed object references do not exist" in error_message(response)


def is_replication_lag(response: RawResponse) -> bool:
    """A just-created object not visible yet: 404, or 400 on a `$ref` to it (Graph docs:
    "Designing for eventual consistency"). Retry shortly."""
    if response.status == 404 and error_code(response) == "Request_ResourceNotFound":
        return True
    return response.status == 400 and "objects being referenced don't exist" in error_message(response)


def _error(response: RawResponse) -> dict[str, Any]:
    body = response.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error: dict[str, Any] = body["error"]
        return error
    return {}
