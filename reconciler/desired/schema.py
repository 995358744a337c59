"""The shape of a desired-state YAML file as pydantic models (SPEC §3).

They type-check each user and group as written and generate `schemas/state.schema.json` for editors.
Field names are Graph's own camelCase property names. Every optional Graph attribute may be `null`
("clear it"), except the few Graph refuses to clear, which `rules.py` rejects with a clear message.
Graph's length and character limits live in `rules.py` too, where they get messages of their own.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from reconciler.config import Config


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, field_title_generator=lambda name, _: name)


class LicenseModel(_Spec):
    sku: str = Field(description="skuPartNumber (e.g. ENTERPRISEPACK) or skuId")
    disabledPlans: list[str] = Field(
        default_factory=list, description="service plans switched off: servicePlanName or servicePlanId"
    )


class GroupRefModel(_Spec):
    group: str = Field(description="the nested group's mailNickname")


def _member_shape(value: Any) -> Any:
    """One clear error for a member of the wrong shape instead of one per union branch."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and list(value) == ["group"]:
        if isinstance(value["group"], str):
            return value
        got = f"`group:` with {describe(value['group'])}"
    elif isinstance(value, dict):
        got = "a mapping with " + ", ".join(f"`{key}:`" for key in value)
    else:
        got = describe(value)
    raise PydanticCustomError(
        "member_shape", "a member is a user's UPN or `group: MAILNICKNAME`, got {got}", {"got": got}
    )


Member = Annotated[str | GroupRefModel, BeforeValidator(_member_shape)]
_ID: Any = Field(
    default=None,
    description="the object id: pins the object so that renames are followed",
    json_schema_extra={"pattern": "^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"},
)
_RENAMED_FROM: Any = Field(default_factory=list, description="former keys of this object, to follow a rename")


class InvitationModel(_Spec):
    """How a guest is invited (Graph's invitation resource): its address is the guest's key until pinned."""

    invitedUserEmailAddress: str = Field(description="the address the invitation goes to")
    sendInvitationMessage: bool = Field(default=False, description="Graph mails the invitation")
    inviteRedirectUrl: str = Field(
        default="https://myapps.microsoft.com", description="where the guest lands after redeeming it"
    )


class UserSpec(_Spec):
    userPrincipalName: str | None = Field(
        default=None,
        description="the key (case-insensitive), e.g. ada@contoso.example; a guest's is the invitation's "
        "address, and its UPN the one Graph assigns",
    )
    id: str | None = _ID
    userType: Literal["Member", "Guest"] | None = Field(
        default=None, description="Guest: a B2B guest, created by invitation (needs `invitation:`)"
    )
    invitation: InvitationModel | None = Field(
        default=None, description="a guest's invitation (POST /invitations); only with userType Guest"
    )
    renamedFrom: list[str] = _RENAMED_FROM
    displayName: str | None = Field(default=None, json_schema_extra={"maxLength": 256})
    givenName: str | None = None
    surname: str | None = None
    mailNickname: str | None = Field(
        default=None, description="default: the UPN's local part", json_schema_extra={"maxLength": 64}
    )
    jobTitle: str | None = None
    department: str | None = None
    companyName: str | None = None
    officeLocation: str | None = None
    employeeId: str | None = None
    employeeType: str | None = None
    streetAddress: str | None = None
    city: str | None = None
    state: str | None = None
    postalCode: str | None = None
    country: str | None = None
    mobilePhone: str | None = None
    businessPhones: list[str] | None = None
    otherMails: list[str] | None = None
    usageLocation: str | None = Field(
        default=None,
        description="ISO 3166 two-letter country code; required before any license is assigned",
        json_schema_extra={"pattern": "^[A-Z]{2}$"},
    )
    preferredLanguage: str | None = None
    accountEnabled: bool | None = Field(default=None, description="default true for new users")
    manager: str | None = Field(default=None, description="the manager's UPN; null clears it")
    licenses: list[LicenseModel] = Field(
        default_factory=list,
        description="authoritative for the direct assignments; [] removes them all; left out: unmanaged",
    )


class GroupSpec(_Spec):
    mailNickname: str = Field(description="the key (case-insensitive), e.g. grp-engineering")
    id: str | None = _ID
    renamedFrom: list[str] = _RENAMED_FROM
    displayName: str | None = Field(default=None, json_schema_extra={"maxLength": 256})
    description: str | None = None
    securityEnabled: bool | None = None
    mailEnabled: bool | None = None
    groupTypes: list[str] | None = Field(
        default=None, description='[] security group, ["Unified"] Microsoft 365, plus "DynamicMembership"'
    )
    visibility: Literal["Public", "Private", "HiddenMembership"] | None = None
    isAssignableToRole: bool | None = Field(
        default=None, description="can hold Entra ID roles; set at creation"
    )
    membershipRule: str | None = Field(default=None, description="the rule of a dynamic group")
    membershipRuleProcessingState: Literal["On", "Paused"] | None = None
    preferredLanguage: str | None = None
    owners: list[str] = Field(default_factory=list, description="owners' UPNs; left out: owners not managed")
    members: list[Member] = Field(
        default_factory=list,
        description="users by UPN and nested groups as `group: MAILNICKNAME`; left out: members not managed",
    )
    membersMode: Literal["replace", "append"] = Field(
        default="replace", description="replace: members not listed are removed; append: they are kept"
    )
    licenses: list[LicenseModel] = Field(default_factory=list, description="group-based licensing")


class RoleSpec(_Spec):
    """Who holds one directory role at one scope (privileged access as code)."""

    role: str = Field(description="the role definition's displayName (e.g. User Administrator) or templateId")
    principals: list[Member] = Field(
        default_factory=list,
        description="users by UPN and role-assignable groups as `group: MAILNICKNAME`",
    )
    principalsMode: Literal["replace", "append"] = Field(
        default="replace", description="replace: holders not listed are removed; append: they are kept"
    )
    directoryScopeId: str = Field(
        default="/", description='"/" (the whole tenant, default) or "/administrativeUnits/{id}"'
    )


class StateFile(_Spec):
    """One file of the desired state: any number of files, each with optional users, groups and roles.

    Top-level keys starting with `x-` are ignored: a place for YAML anchors shared by several items.
    """

    model_config = ConfigDict(json_schema_extra={"patternProperties": {"^x-": {}}})

    users: list[UserSpec] = Field(default_factory=list)
    groups: list[GroupSpec] = Field(default_factory=list)
    roles: list[RoleSpec] = Field(default_factory=list)


# The Graph attributes a user or group may declare, in the order a person reads them (and `import`
# writes them): every field of the models but entraform's own keys and the relationships, which have
# reads and changes of their own. The loader, the live read and the importer all use these lists.
USER_OWN_KEYS = ("id", "renamedFrom", "manager", "licenses", "invitation")
GROUP_OWN_KEYS = ("id", "renamedFrom", "owners", "members", "membersMode", "licenses")
USER_ATTRIBUTES = tuple(name for name in UserSpec.model_fields if name not in USER_OWN_KEYS)
GROUP_ATTRIBUTES = tuple(name for name in GroupSpec.model_fields if name not in GROUP_OWN_KEYS)


def describe(value: Any) -> str:
    """What a YAML value is, in the words of an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"  # dates and timestamps


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def state_schema_json() -> str:
    schema = StateFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "entraform desired state"
    return _dump(schema)


def config_schema_json() -> str:
    schema = Config.model_json_schema()
    schema["properties"].pop("base_dir", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "entraform config (entraform.yaml)"
    return _dump(schema)
