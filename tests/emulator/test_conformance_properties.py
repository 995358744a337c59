"""Conformance: every property of Graph's v1.0 `user` and `group` can be `$select`ed where Graph allows it,
null when unset; a name Graph does not have is 400 (Graph docs: resources/user and resources/group,
"Properties"; the v1.0 metadata msgraph-sdk 1.65 is generated from, which adds the newest ones;
user-list and concepts/delta-query-users for what a collection cannot return; concepts/query-parameters
for `$select`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from graph_calls import Tenant, error_of

from reconciler.emulator.auth import READER_ROLES, AppRegistration

# resources/user, "Properties" (and the v1.0 metadata: authorizationInfo, customSecurityAttributes,
# deviceEnrollmentLimit, identityParentId, isManagementRestricted, print, serviceProvisioningErrors).
USER_PROPERTIES = [
    "aboutMe",
    "accountEnabled",
    "ageGroup",
    "assignedLicenses",
    "assignedPlans",
    "authorizationInfo",
    "birthday",
    "businessPhones",
    "city",
    "companyName",
    "consentProvidedForMinor",
    "country",
    "createdDateTime",
    "creationType",
    "customSecurityAttributes",
    "deletedDateTime",
    "department",
    "deviceEnrollmentLimit",
    "displayName",
    "employeeHireDate",
    "employeeId",
    "employeeLeaveDateTime",
    "employeeOrgData",
    "employeeType",
    "externalUserState",
    "externalUserStateChangeDateTime",
    "faxNumber",
    "givenName",
    "hireDate",
    "id",
    "identities",
    "identityParentId",
    "imAddresses",
    "interests",
    "isManagementRestricted",
    "isResourceAccount",
    "jobTitle",
    "lastPasswordChangeDateTime",
    "legalAgeGroupClassification",
    "licenseAssignmentStates",
    "mail",
    "mailboxSettings",
    "mailNickname",
    "mobilePhone",
    "mySite",
    "officeLocation",
    "onPremisesDistinguishedName",
    "onPremisesDomainName",
    "onPremisesExtensionAttributes",
    "onPremisesImmutableId",
    "onPremisesLastSyncDateTime",
    "onPremisesProvisioningErrors",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "onPremisesUserPrincipalName",
    "otherMails",
    "passwordPolicies",
    "passwordProfile",
    "pastProjects",
    "postalCode",
    "preferredDataLocation",
    "preferredLanguage",
    "preferredName",
    "print",
    "provisionedPlans",
    "proxyAddresses",
    "refreshTokensValidFromDateTime",
    "responsibilities",
    "schools",
    "securityIdentifier",
    "serviceProvisioningErrors",
    "showInAddressList",
    "signInActivity",
    "signInSessionsValidFromDateTime",
    "skills",
    "state",
    "streetAddress",
    "surname",
    "usageLocation",
    "userPrincipalName",
    "userType",
]
# user-list: "returned only on $select for a single user"; a collection answers 501 (observed).
USER_NOT_LISTABLE = [
    "aboutMe",
    "birthday",
    "hireDate",
    "interests",
    "mySite",
    "pastProjects",
    "preferredName",
    "responsibilities",
    "schools",
    "skills",
    "mailboxSettings",
]
# resources/user, signInActivity: needs AuditLog.Read.All.
SIGN_IN_ACTIVITY = "signInActivity"
# resources/group, "Properties" (and the v1.0 metadata).
GROUP_PROPERTIES = [
    "accessType",
    "allowExternalSenders",
    "assignedLabels",
    "assignedLicenses",
    "autoSubscribeNewMembers",
    "classification",
    "createdDateTime",
    "deletedDateTime",
    "description",
    "displayName",
    "expirationDateTime",
    "groupTypes",
    "hideFromAddressLists",
    "hideFromOutlookClients",
    "id",
    "infoCatalogs",
    "isArchived",
    "isAssignableToRole",
    "isFavorite",
    "isManagementRestricted",
    "isSubscribedByMail",
    "licenseProcessingState",
    "mail",
    "mailEnabled",
    "mailNickname",
    "membershipRule",
    "membershipRuleProcessingState",
    "onPremisesDomainName",
    "onPremisesExtensionAttributes",
    "onPremisesLastSyncDateTime",
    "onPremisesNetBiosName",
    "onPremisesProvisioningErrors",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "organizationId",
    "preferredDataLocation",
    "preferredLanguage",
    "proxyAddresses",
    "renewedDateTime",
    "resourceBehaviorOptions",
    "resourceProvisioningOptions",
    "securityEnabled",
    "securityIdentifier",
    "serviceProvisioningErrors",
    "theme",
    "uniqueName",
    "unseenConversationsCount",
    "unseenCount",
    "unseenMessagesCount",
    "visibility",
    "welcomeMessageEnabled",
]
LISTABLE_USER = [p for p in USER_PROPERTIES if p not in USER_NOT_LISTABLE and p != SIGN_IN_ACTIVITY]
ADA = "ada@contoso.example"


@pytest.fixture(scope="module")
def tenant() -> Iterator[Tenant]:
    t = Tenant("demo")
    roles = (*READER_ROLES, "AuditLog.Read.All")
    t.local.emulator.auth.apps["auditor"] = AppRegistration("auditor", str(uuid.uuid4()), "-", roles)
    narrow = tuple(r for r in READER_ROLES if r not in ("AuditLog.Read.All", "Directory.Read.All"))
    t.local.emulator.auth.apps["narrow"] = AppRegistration("narrow", str(uuid.uuid4()), "-", narrow)
    yield t
    t.close()


def select(names: list[str]) -> str:
    return "$select=" + ",".join(names)


@pytest.mark.parametrize("name", USER_PROPERTIES)
def test_every_user_property_is_selectable_on_one_user(tenant: Tenant, name: str) -> None:
    reply = tenant.get(f"users/{ADA}?$select={name}", app="auditor")
    assert reply.status_code == 200, reply.text
    assert name in reply.json()


@pytest.mark.parametrize("name", GROUP_PROPERTIES)
def test_every_group_property_is_selectable_on_one_group(tenant: Tenant, name: str) -> None:
    reply = tenant.get(f"groups/{tenant.group_id('grp-sales')}?$select={name}", app="reader")
    assert reply.status_code == 200, reply.text
    assert name in reply.json()


def test_unset_properties_are_null(tenant: Tenant) -> None:
    """terraform's azuread provider selects consentProvidedForMinor, among others."""
    body = tenant.get(f"users/{ADA}?$select=consentProvidedForMinor,ageGroup,employeeOrgData").json()
    assert (body["consentProvidedForMinor"], body["ageGroup"], body["employeeOrgData"]) == (None, None, None)
    assert tenant.get(f"users/{ADA}?$select=passwordProfile").json()["passwordProfile"] is None


@pytest.mark.parametrize("url", ["users", "users/delta"])
def test_every_listable_user_property_is_selectable_on_collections(tenant: Tenant, url: str) -> None:
    reply = tenant.get(f"{url}?{select(LISTABLE_USER)}", app="reader")
    assert reply.status_code == 200, reply.text
    assert set(reply.json()["value"][0]) >= set(LISTABLE_USER)


@pytest.mark.parametrize("url", ["groups", "groups/delta"])
def test_every_group_property_is_selectable_on_collections(tenant: Tenant, url: str) -> None:
    reply = tenant.get(f"{url}?{select(GROUP_PROPERTIES)}", app="reader")
    assert reply.status_code == 200, reply.text
    assert set(reply.json()["value"][0]) >= set(GROUP_PROPERTIES)


@pytest.mark.parametrize("url", ["users", "users/delta"])
@pytest.mark.parametrize("name", USER_NOT_LISTABLE)
def test_a_property_kept_outside_the_directory_is_501_on_collections(
    tenant: Tenant, url: str, name: str
) -> None:
    assert error_of(tenant.get(f"{url}?$select=id,{name}")) == (
        501,
        "NotImplemented",
        "This operation target is not yet supported.",
    )


def test_sign_in_activity_needs_audit_log_read_all(tenant: Tenant) -> None:
    assert error_of(tenant.get(f"users/{ADA}?$select=signInActivity", app="narrow"))[:2] == (
        403,
        "Authorization_RequestDenied",
    )
    assert tenant.get("users?$select=id,signInActivity", app="auditor").status_code == 200


@pytest.mark.parametrize(("kind", "url"), [("user", f"users/{ADA}"), ("user", "users"), ("group", "groups")])
def test_a_name_graph_does_not_have_is_400(tenant: Tenant, kind: str, url: str) -> None:
    assert error_of(tenant.get(f"{url}?$select=id,favouriteColour")) == (
        400,
        "BadRequest",
        f"Could not find a property named 'favouriteColour' on type 'microsoft.graph.{kind}'.",
    )
