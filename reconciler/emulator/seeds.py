"""Tenants to start from: `empty`, `demo` (Contoso today) and `synthetic:USERS:GROUPS:MEMBERSHIPS`.

Everything is deterministic: ids come from a seeded RNG, so two runs of the same seed give the same tenant.
"""

from __future__ import annotations

import random
import re
import uuid
from typing import Any

from reconciler.emulator import skus
from reconciler.emulator.store import SeedData, Store
from reconciler.emulator.types import Json

TENANT_ID = "8f3c1e2a-6b4d-4c1e-9a7f-2d5b8e0c4f61"
DOMAINS = ("contoso.example", "fabrikam.example")
# Every tenant also has the domain it was created with; it cannot be removed and is never the default.
INITIAL_DOMAIN = "contoso.onmicrosoft.com"
SEED_META = "emulator.seed"
CREATED = "2024-01-15T09:00:00Z"
_SYNTHETIC = re.compile(r"^synthetic:(\d+):(\d+):(\d+)$")


class SeedError(ValueError):
    """An unknown seed name."""


def organization(tenant_id: str = TENANT_ID) -> Json:
    return {
        "id": tenant_id,
        "deletedDateTime": None,
        "displayName": "Contoso",
        "defaultUsageLocation": "US",
        "directorySizeQuota": {"used": 0, "total": 50000},
        "isMultipleDataLocationsForServicesEnabled": None,
        "marketingNotificationEmails": [],
        "onPremisesLastSyncDateTime": None,
        "onPremisesSyncEnabled": None,
        "partnerTenantType": None,
        "privacyProfile": {"contactEmail": "privacy@contoso.example", "statementUrl": ""},
        "securityComplianceNotificationMails": [],
        "securityComplianceNotificationPhones": [],
        "tenantType": "AAD",
        "countryLetterCode": "US",
        "preferredLanguage": "en",
        "createdDateTime": "2019-03-01T08:00:00Z",
        "businessPhones": ["+1 425 555 0100"],
        "city": "Redmond",
        "country": None,
        "postalCode": "98052",
        "state": "WA",
        "street": "1 Contoso Way",
        "technicalNotificationMails": ["it@contoso.example"],
        "assignedPlans": [],
        "provisionedPlans": [],
        "verifiedDomains": [
            {
                "capabilities": "Email, OfficeCommunicationsOnline",
                "isDefault": name == DOMAINS[0],
                "isInitial": name == INITIAL_DOMAIN,
                "name": name,
                "type": "Managed",
            }
            for name in (*DOMAINS, INITIAL_DOMAIN)
        ],
    }


def make_user(user_id: str, upn: str, display_name: str, given: str, surname: str, **extra: Any) -> Json:
    """A user as the store keeps it: every default property present, unset ones null."""
    user: Json = {
        "id": user_id,
        "businessPhones": [],
        "displayName": display_name,
        "givenName": given,
        "jobTitle": None,
        "mail": upn,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": None,
        "surname": surname,
        "userPrincipalName": upn,
        "accountEnabled": True,
        "mailNickname": upn.split("@")[0],
        "createdDateTime": CREATED,
        "userType": "Member",
        "department": None,
        "companyName": None,
        "employeeId": None,
        "employeeType": None,
        "usageLocation": None,
        "city": None,
        "country": None,
        "onPremisesSyncEnabled": None,
    }
    user.update(extra)
    return user


def make_group(group_id: str, display_name: str, unified: bool, **extra: Any) -> Json:
    nickname = re.sub(r"[^A-Za-z0-9]", "", display_name)[:64] or "group"
    group: Json = {
        "id": group_id,
        "deletedDateTime": None,
        "classification": None,
        "createdDateTime": CREATED,
        "creationOptions": [],
        "description": None,
        "displayName": display_name,
        "expirationDateTime": None,
        "groupTypes": ["Unified"] if unified else [],
        "isAssignableToRole": None,
        "mail": f"{nickname}@{DOMAINS[0]}" if unified else None,
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
        "proxyAddresses": [f"SMTP:{nickname}@{DOMAINS[0]}"] if unified else [],
        "renewedDateTime": CREATED,
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
    group.update(extra)
    return group


def empty_seed() -> SeedData:
    seats = {"ENTERPRISEPACK": 25, "SPE_E5": 25, "EMSPREMIUM": 25}
    return SeedData(
        organization=organization(),
        skus=skus.subscribed_skus(TENANT_ID, "Contoso", seats),
        users=[],
        groups=[],
        members=[],
        owners=[],
        managers=[],
        licenses=[],
    )


def build_seed(name: str) -> SeedData:
    if name == "empty":
        return empty_seed()
    if name == "demo":
        from reconciler.emulator.demo_tenant import demo_seed

        return demo_seed()
    match = _SYNTHETIC.match(name)
    if match:
        from reconciler.emulator.synthetic import synthetic_seed

        users, groups, memberships = (int(g) for g in match.groups())
        return synthetic_seed(users, groups, memberships)
    raise SeedError(f"unknown seed {name!r}: use 'empty', 'demo' or 'synthetic:USERS:GROUPS:MEMBERSHIPS'")


def apply_seed(store: Store, name: str) -> None:
    """Replace the store's tenant with the seed `name` and remember it (for `POST /_emulator/reset`)."""
    store.load_seed(build_seed(name))
    store.set_meta(SEED_META, name)


def seeded_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
