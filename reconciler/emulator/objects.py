"""Graph's user and group as the emulator keeps them: what a new one holds, and which of its properties are
not stored with it.

`new_user` and `new_group` are the one place Graph's defaults on creation are written: `POST /users`,
`POST /groups` and every seed build their objects with them, so an object looks the same however it came
into the tenant. Every property the emulator keeps is present, unset ones null.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconciler.emulator.licensing import LICENSE_PROPERTIES
from reconciler.emulator.properties import GROUP_MAILBOX_PROPS
from reconciler.emulator.types import Json

# Computed when read, never stored: a user's licenses (licensing), a group's Exchange-backed properties.
COMPUTED = {"user": frozenset(LICENSE_PROPERTIES), "group": frozenset(GROUP_MAILBOX_PROPS)}
# Relations come from $expand; hasMembersWithLicenseErrors serves $filter and is never returned.
NOT_RENDERED = frozenset({"manager", "members", "owners", "hasMembersWithLicenseErrors"})

_NOT_IN_NICKNAME = re.compile(r"[^A-Za-z0-9]")


def new_user(user_id: str, created: str, props: Mapping[str, Any]) -> Json:
    """A user as Graph creates it from `props` (a create body without its password, or a seed's data: it
    names the `userPrincipalName`). Graph sets no `mail` until a mailbox exists."""
    upn = props["userPrincipalName"]
    user: Json = {
        "id": user_id,
        "businessPhones": [],
        "displayName": None,
        "givenName": None,
        "jobTitle": None,
        "mail": None,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": None,
        "surname": None,
        "userPrincipalName": upn,
        "accountEnabled": True,
        "mailNickname": upn.split("@")[0],
        "createdDateTime": created,
        "userType": "Member",
        "department": None,
        "companyName": None,
        "employeeId": None,
        "employeeType": None,
        "employeeHireDate": None,
        "employeeLeaveDateTime": None,
        "employeeOrgData": None,
        "faxNumber": None,
        "otherMails": [],
        "passwordPolicies": None,
        # Graph returns all 15 keys of a user's extension attributes, the unset ones null.
        "onPremisesExtensionAttributes": {f"extensionAttribute{n}": None for n in range(1, 16)},
        "usageLocation": None,
        "city": None,
        "country": None,
        "onPremisesSyncEnabled": None,
        "signInActivity": None,  # never signed in (a seed sets when its users last did: signins.py)
    }
    user.update(props)
    return user


def new_group(group_id: str, created: str, domain: str, props: Mapping[str, Any]) -> Json:
    """A group as Graph creates it from `props` (a create body without its binds, or a seed's data: it names
    the `displayName`). A Microsoft 365 group (`groupTypes` holds "Unified") is mail-enabled and private
    unless `props` say otherwise; a mail-enabled group gets `mail` and its SMTP proxy address from its
    `mailNickname` on `domain`, the tenant's default domain."""
    unified = "Unified" in (props.get("groupTypes") or [])
    nickname = _NOT_IN_NICKNAME.sub("", props["displayName"])[:64] or "group"
    group: Json = {
        "id": group_id,
        "deletedDateTime": None,
        "classification": None,
        "createdDateTime": created,
        "creationOptions": [],
        "description": None,
        "displayName": None,
        "expirationDateTime": None,
        "groupTypes": ["Unified"] if unified else [],
        "isAssignableToRole": None,
        "mail": None,
        "mailEnabled": unified,
        "mailNickname": nickname,
        "membershipRule": None,
        "membershipRuleProcessingState": None,
        "onPremisesDomainName": None,
        "onPremisesLastSyncDateTime": None,
        "onPremisesSamAccountName": None,
        "onPremisesNetBiosName": None,
        "onPremisesProvisioningErrors": [],
        "onPremisesSecurityIdentifier": None,
        "onPremisesSyncEnabled": None,
        "preferredDataLocation": None,
        "preferredLanguage": None,
        "proxyAddresses": [],
        "renewedDateTime": created,
        "resourceBehaviorOptions": [],
        "resourceProvisioningOptions": [],
        "securityEnabled": True,
        "securityIdentifier": None,
        "serviceProvisioningErrors": [],
        "theme": None,
        "visibility": "Private" if unified else None,
        "assignedLicenses": [],
        "licenseProcessingState": None,
    }
    group.update(props)
    group["mail"] = f"{group['mailNickname']}@{domain}" if group["mailEnabled"] else None
    group["proxyAddresses"] = [f"SMTP:{group['mail']}"] if group["mail"] else []
    return group
