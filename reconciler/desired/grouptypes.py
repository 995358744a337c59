"""Graph's rules on what a group may be and hold, over a group's attributes (declared or live).

From Microsoft Graph's "Add members" page (group-post-members, its table of allowed member types) and
the group resource page:
- a Microsoft 365 group (`groupTypes` holds "Unified") has only users as members;
- a Microsoft 365 group is a member of no group, neither security nor Microsoft 365;
- a role-assignable group (`isAssignableToRole: true`) has no groups as members;
- mail-enabled security groups and distribution groups (mail-enabled, not Microsoft 365) are managed
  by Exchange: Graph can neither create them nor change their members, so they are read-only here.

Attributes are Graph's camelCase names; a sequence may be a YAML tuple or a JSON list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MICROSOFT_365 = "a Microsoft 365 group"
READ_ONLY = (
    "mail-enabled security groups and distribution groups are managed by Exchange and read-only through "
    "Microsoft Graph"
)


def is_microsoft_365(attrs: Mapping[str, Any]) -> bool:
    types = attrs.get("groupTypes")
    return isinstance(types, list | tuple) and "Unified" in types


def is_role_assignable(attrs: Mapping[str, Any]) -> bool:
    return attrs.get("isAssignableToRole") is True


def is_read_only(attrs: Mapping[str, Any]) -> bool:
    """A mail-enabled security group or a distribution group."""
    return attrs.get("mailEnabled") is True and not is_microsoft_365(attrs)


def kind_of(attrs: Mapping[str, Any]) -> str:
    """The group's type in the words of an error message."""
    if is_microsoft_365(attrs):
        return MICROSOFT_365
    if attrs.get("mailEnabled") is True:
        return (
            "a mail-enabled security group"
            if attrs.get("securityEnabled") is True
            else "a distribution group"
        )
    return "a role-assignable group" if is_role_assignable(attrs) else "a security group"


def parent_refusal(parent: Mapping[str, Any]) -> str | None:
    """Why `parent` can have no groups as members at all, or None."""
    if is_microsoft_365(parent):
        return f"{MICROSOFT_365} has only users as members"
    if is_role_assignable(parent):
        return "a role-assignable group has no groups as members"
    if is_read_only(parent):
        return f"its members cannot be changed: {READ_ONLY}"
    return None


def child_refusal(child: Mapping[str, Any]) -> str | None:
    """Why `child` can be a member of no group, or None."""
    if is_microsoft_365(child):
        return f"{MICROSOFT_365} cannot be a member of any group"
    return None


def nesting_refusal(parent: Mapping[str, Any], child: Mapping[str, Any]) -> str | None:
    """Why Graph refuses `child` as a member of `parent`, or None when it accepts it."""
    return parent_refusal(parent) or child_refusal(child)
