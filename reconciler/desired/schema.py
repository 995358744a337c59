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


class EmployeeOrgDataModel(_Spec):
    """Graph's employeeOrgData: each key written is managed on its own, one left out is never touched."""

    division: str | None = None
    costCenter: str | None = None


EXTENSION_ATTRIBUTE_MAX = 1024  # characters each (Graph docs: resources/onpremisesextensionattributes)

_EXTENSION: Any = Field(default=None, json_schema_extra={"maxLength": EXTENSION_ATTRIBUTE_MAX})


class OnPremisesExtensionAttributesModel(_Spec):
    """Graph's onPremisesExtensionAttributes (Exchange custom attributes 1-15), managed key by key like
    employeeOrgData; Graph lets a client write them for cloud-only users only."""

    extensionAttribute1: str | None = _EXTENSION
    extensionAttribute2: str | None = _EXTENSION
    extensionAttribute3: str | None = _EXTENSION
    extensionAttribute4: str | None = _EXTENSION
    extensionAttribute5: str | None = _EXTENSION
    extensionAttribute6: str | None = _EXTENSION
    extensionAttribute7: str | None = _EXTENSION
    extensionAttribute8: str | None = _EXTENSION
    extensionAttribute9: str | None = _EXTENSION
    extensionAttribute10: str | None = _EXTENSION
    extensionAttribute11: str | None = _EXTENSION
    extensionAttribute12: str | None = _EXTENSION
    extensionAttribute13: str | None = _EXTENSION
    extensionAttribute14: str | None = _EXTENSION
    extensionAttribute15: str | None = _EXTENSION


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


# Graph's maximum lengths of user attributes, in characters (Graph docs: resources/user, "Properties").
USER_MAX_LENGTHS = {
    "displayName": 256,
    "givenName": 64,
    "surname": 64,
    "mailNickname": 64,
    "jobTitle": 128,
    "department": 64,
    "companyName": 64,
    "employeeId": 16,
    "streetAddress": 1024,
    "city": 128,
    "state": 128,
    "postalCode": 40,
    "country": 128,
    "mobilePhone": 64,
}
_INSTANT = "an ISO 8601 date and time with its offset, e.g. 2026-01-05T00:00:00Z"


def _text(name: str, description: str | None = None) -> Any:
    return Field(
        default=None, description=description, json_schema_extra={"maxLength": USER_MAX_LENGTHS[name]}
    )


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
    displayName: str | None = _text("displayName")
    givenName: str | None = _text("givenName")
    surname: str | None = _text("surname")
    mailNickname: str | None = _text("mailNickname", "default: the UPN's local part")
    mail: str | None = Field(default=None, description="the SMTP address, e.g. ada@contoso.example")
    jobTitle: str | None = _text("jobTitle")
    department: str | None = _text("department")
    companyName: str | None = _text("companyName")
    officeLocation: str | None = None
    employeeId: str | None = _text("employeeId")
    employeeType: str | None = None
    employeeHireDate: str | None = Field(default=None, description=f"when the user starts: {_INSTANT}")
    employeeLeaveDateTime: str | None = Field(
        default=None,
        description=f"when the user leaves: {_INSTANT}; writing it needs User-LifeCycleInfo.ReadWrite.All",
    )
    employeeOrgData: EmployeeOrgDataModel | None = Field(
        default=None, description="division and costCenter; keys left out are not managed"
    )
    streetAddress: str | None = _text("streetAddress")
    city: str | None = _text("city")
    state: str | None = _text("state")
    postalCode: str | None = _text("postalCode")
    country: str | None = _text("country")
    mobilePhone: str | None = _text("mobilePhone")
    businessPhones: list[str] | None = None
    faxNumber: str | None = None
    otherMails: list[str] | None = None
    usageLocation: str | None = Field(
        default=None,
        description="ISO 3166 two-letter country code; required before any license is assigned",
        json_schema_extra={"pattern": "^[A-Z]{2}$"},
    )
    preferredLanguage: str | None = None
    passwordPolicies: str | None = Field(
        default=None,
        description="DisablePasswordExpiration, DisableStrongPassword, or both separated by a comma",
    )
    onPremisesExtensionAttributes: OnPremisesExtensionAttributesModel | None = Field(
        default=None, description="extensionAttribute1…15 of a cloud-only user; keys left out are not managed"
    )
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
