"""The property catalogue of Graph's v1.0 `user` and `group`: what `$select` may name, what comes back by
default, and what Graph keeps outside the directory.

Sources: the "Properties" tables of Graph docs resources/user and resources/group, and the v1.0 metadata
(every structural property of `microsoft.graph.user` and `microsoft.graph.group`, which the docs' tables
trail). A property the emulator does not keep is returned as null, as Graph returns an unset one.
"""

from __future__ import annotations

# resources/user: "By default, only a limited set of properties are returned".
USER_DEFAULT = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
# Kept outside the directory (SharePoint, Exchange): Graph returns them for a single user only; on a
# collection (list, delta) `$select` of one is 501 (user-list; concepts/delta-query-users).
USER_NOT_LISTABLE = frozenset(
    {
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
    }
)
# Readable only with AuditLog.Read.All (resources/user, signInActivity).
USER_SIGN_IN_ACTIVITY = "signInActivity"
USER_PROPS = frozenset(
    {
        *USER_DEFAULT,
        *USER_NOT_LISTABLE,
        USER_SIGN_IN_ACTIVITY,
        "accountEnabled",
        "ageGroup",
        "assignedLicenses",
        "assignedPlans",
        "authorizationInfo",
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
        "employeeHireDate",
        "employeeId",
        "employeeLeaveDateTime",
        "employeeOrgData",
        "employeeType",
        "externalUserState",
        "externalUserStateChangeDateTime",
        "faxNumber",
        "identities",
        "identityParentId",
        "imAddresses",
        "isManagementRestricted",
        "isResourceAccount",
        "lastPasswordChangeDateTime",
        "legalAgeGroupClassification",
        "licenseAssignmentStates",
        "mailNickname",
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
        "passwordProfile",  # selectable, never returned: the emulator keeps no password
        "postalCode",
        "preferredDataLocation",
        "print",
        "provisionedPlans",
        "proxyAddresses",
        "refreshTokensValidFromDateTime",
        "securityIdentifier",
        "serviceProvisioningErrors",
        "showInAddressList",
        "signInSessionsValidFromDateTime",
        "state",
        "streetAddress",
        "usageLocation",
        "userType",
        # A relationship, selectable on delta to track it (concepts/delta-query-users).
        "manager",
    }
)
# resources/group: the properties returned by default.
GROUP_DEFAULT = (
    "id",
    "deletedDateTime",
    "classification",
    "createdDateTime",
    "creationOptions",
    "description",
    "displayName",
    "expirationDateTime",
    "groupTypes",
    "isAssignableToRole",
    "mail",
    "mailEnabled",
    "mailNickname",
    "membershipRule",
    "membershipRuleProcessingState",
    "onPremisesDomainName",
    "onPremisesLastSyncDateTime",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesNetBiosName",
    "onPremisesProvisioningErrors",
    "onPremisesSyncEnabled",
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
    "visibility",
)
# Exchange-backed properties that Graph returns only when selected on a single group.
GROUP_MAILBOX_PROPS = {
    "allowExternalSenders": False,
    "autoSubscribeNewMembers": False,
    "hideFromAddressLists": False,
    "hideFromOutlookClients": False,
    "isSubscribedByMail": False,
    "unseenCount": 0,
}
GROUP_PROPS = frozenset(
    {
        *GROUP_DEFAULT,
        *GROUP_MAILBOX_PROPS,
        "accessType",
        "assignedLabels",
        "assignedLicenses",
        "hasMembersWithLicenseErrors",
        "infoCatalogs",
        "isArchived",
        "isFavorite",
        "isManagementRestricted",
        "licenseProcessingState",
        "onPremisesExtensionAttributes",
        "organizationId",
        "uniqueName",
        "unseenConversationsCount",
        "unseenMessagesCount",
        "welcomeMessageEnabled",
        # Relationships, selectable on delta to track them (concepts/delta-query-groups).
        "members",
        "owners",
    }
)
