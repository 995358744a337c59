"""Which objects Graph lets a client make members of which groups, and which groups it lets a client change.

Graph docs, group-post-members (its table of allowed member types, shared with resources/groups-overview):
a security group takes users, security groups, devices, service principals and organizational contacts; a
Microsoft 365 group takes only users; a Microsoft 365 group is a member of no group. Graph docs,
resources/groups-overview: mail-enabled security groups and distribution groups are read-only through
Graph. Entra docs, groups-concept ("How are role-assignable groups protected"): a role-assignable group
takes no nested groups.

`membership_refusal` is the one place these rules live: every route that creates a membership edge asks it,
and so does the test that checks every seed, so no seed holds an edge Graph would refuse to create.
"""

from __future__ import annotations

from reconciler.emulator.types import GraphApiError, Json

# The rows of the docs' table, by the member's type, as (member of a security group, of a Microsoft 365
# group). A Microsoft 365 group is the "group" row with `groupTypes` containing "Unified".
ALLOWED = {
    "user": (True, True),
    "securityGroup": (True, False),
    "microsoft365Group": (False, False),
    "device": (True, False),
    "servicePrincipal": (True, False),
    "orgContact": (True, False),
}

# Observed from Graph for both kinds (microsoftgraph/microsoft-graph-docs#14827, 2021; still reported in
# 2023-2024). Microsoft's troubleshooting article "403 error when adding a user to a group" lists the same
# groups as a cause of 403 Authorization_RequestDenied; the 400 below is the answer most reports quote.
READ_ONLY_GROUP = "Cannot Update a mail-enabled security groups and or distribution list."
# Observed (microsoftgraph/microsoft-graph-docs-contrib#3884).
UNIFIED_IN_UNIFIED = (
    "Unified Groups cannot be added to Unified Groups. paramName: Members, paramValue: , "
    "objectType: Microsoft.Online.DirectoryServices.Group"
)
# Observed (hashicorp/terraform-provider-azuread#651, MicrosoftDocs/azure-docs#88710).
NESTED_IN_ROLE_ASSIGNABLE = "Nesting is currently not supported for groups that can be assigned to a role."
# Microsoft documents no text for these refusals: the messages are ours, in Graph's 400 shape.
UNIFIED_IN_SECURITY = "A Microsoft 365 group cannot be a member of another group."
NOT_A_USER_IN_UNIFIED = "Only users can be members of a Microsoft 365 group."
DYNAMIC = "Members of a group with dynamic membership cannot be added or removed manually."
ITSELF = "Invalid object identifier: a group cannot be a member of itself."


def is_unified(group: Json) -> bool:
    return "Unified" in (group.get("groupTypes") or [])


def is_read_only(group: Json) -> bool:
    """A mail-enabled security group or a distribution group: mail-enabled, and not Microsoft 365."""
    return bool(group.get("mailEnabled")) and not is_unified(group)


def member_type(kind: str, member: Json | None) -> str:
    """The docs' row for a member: `kind` is the emulator's ("user", "group") or one of the table's."""
    if kind == "group":
        assert member is not None
        return "microsoft365Group" if is_unified(member) else "securityGroup"
    return kind


def members_refusal(group: Json) -> GraphApiError | None:
    """Why nobody may add or remove members of `group` through Graph, if so."""
    if is_read_only(group):
        return _bad_request(READ_ONLY_GROUP)
    if "DynamicMembership" in (group.get("groupTypes") or []):
        # Entra computes a dynamic group's members from its rule.
        return _bad_request(DYNAMIC)
    return None


def membership_refusal(group: Json, kind: str, member: Json | None) -> GraphApiError | None:
    """Why Graph would refuse to make `member` (of `kind`) a member of `group`; None when it would not."""
    refusal = members_refusal(group)
    if refusal is not None:
        return refusal
    row = member_type(kind, member)
    in_security, in_unified = ALLOWED[row]
    if is_unified(group) and not in_unified:
        return _bad_request(UNIFIED_IN_UNIFIED if row == "microsoft365Group" else NOT_A_USER_IN_UNIFIED)
    if not is_unified(group) and not in_security:
        return _bad_request(UNIFIED_IN_SECURITY)
    if kind == "group" and member is not None:
        if member.get("id") == group.get("id"):
            return _bad_request(ITSELF)
        if group.get("isAssignableToRole"):
            return _bad_request(NESTED_IN_ROLE_ASSIGNABLE)
    return None


def _bad_request(message: str) -> GraphApiError:
    return GraphApiError(400, "Request_BadRequest", message)
