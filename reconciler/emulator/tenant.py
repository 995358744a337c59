"""Contoso's tenant as every seed starts it: its id, verified domains, `organization` object and
subscriptions. With no users or groups it is the `empty` seed: a new tenant."""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.emulator import skus
from reconciler.emulator.types import Json, SeedData

TENANT_ID = "8f3c1e2a-6b4d-4c1e-9a7f-2d5b8e0c4f61"
DOMAINS = ("contoso.example", "fabrikam.example")  # the first is the default domain
# Every tenant also has the domain it was created with; it cannot be removed and is never the default.
INITIAL_DOMAIN = "contoso.onmicrosoft.com"
# When the seeded users and groups were created.
CREATED = "2024-01-15T09:00:00Z"
SEATS = {"ENTERPRISEPACK": 25, "SPE_E5": 25, "EMSPREMIUM": 25}


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


def empty_seed(seats: Mapping[str, int] = SEATS) -> SeedData:
    """The tenant with `seats` of each subscription (by part number) and nobody in it."""
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
