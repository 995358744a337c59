"""The subscriptions the emulator's tenants own: real skuIds, part numbers and service plan ids
(Microsoft Entra "Product names and service plan identifiers for licensing")."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

ENTERPRISEPACK = "6fd2c87f-b296-42f0-b197-1e91e994b900"  # Office 365 E3
SPE_E5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"  # Microsoft 365 E5
EMSPREMIUM = "b05e124f-c7cc-45a0-a6aa-8cf78c946968"  # Enterprise Mobility + Security E5

PLANS = {
    "EXCHANGE_S_ENTERPRISE": "efb87545-963c-4e0d-99df-69c6916d9eb0",
    "EXCHANGE_S_FOUNDATION": "113feb6c-3fe4-4440-bddc-54d774bf0318",
    "SHAREPOINTENTERPRISE": "5dbe027f-2339-4123-9542-606e4d348a72",
    "SHAREPOINTWAC": "e95bec33-7c88-4a70-8e19-b10bd9d0c014",
    "TEAMS1": "57ff2da0-773e-42df-b2af-ffb7a2317929",
    "OFFICESUBSCRIPTION": "43de0ff5-c92c-492b-9116-175376d08c38",
    "YAMMER_ENTERPRISE": "7547a3fe-08ee-4ccb-b430-5077c5041653",
    "SWAY": "a23b959c-7ce8-4e57-9140-b90eb88a9e97",
    "FORMS_PLAN_E3": "2789c901-c14e-48ab-a76a-be334d9d793a",
    "FORMS_PLAN_E5": "e212cbc7-0961-4c40-9825-01117710dcb1",
    "MCOSTANDARD": "0feaeb32-d00e-4d66-bd5a-43b5b83db82c",
    "MCOEV": "4828c8ec-dc2e-4779-b502-87ac9ce28ab7",
    "MCOMEETADV": "3e26ee1f-8a5f-4d52-aee2-b81ce45c8f40",
    "RMS_S_ENTERPRISE": "bea4c11e-220a-4e6d-8eb8-8ea15d019f90",
    "RMS_S_PREMIUM": "6c57d4b6-3b23-47a5-9bc9-69f17b4947b3",
    "AAD_PREMIUM": "41781fb2-bc02-4b7c-bd55-b576c07bb09d",
    "AAD_PREMIUM_P2": "eec0eb4f-6444-4f95-aba0-50c24d67f998",
    "MFA_PREMIUM": "8a256a2b-b617-496d-b51b-e76466e88db0",
    "ADALLOM_S_DISCOVERY": "932ad362-64a8-4783-9106-97849a1a30b9",
    "ADALLOM_S_STANDALONE": "2e2ddb96-6af9-4b1d-a3f0-d6ecfd22edb2",
    "INTUNE_A": "c1ec4a95-1f05-45b3-a911-aa3fa01094f5",
    "ATA": "14ab5db5-e6c4-4b20-b4bc-13e36fd2227f",
    "STREAM_O365_E3": "9e700747-8b1d-45e5-ab8d-ef187ceec156",
    "PROJECTWORKMANAGEMENT": "b737dad2-2f6c-4c65-90e3-ca563267e8b9",
}

CATALOGUE: dict[str, tuple[str, tuple[str, ...]]] = {
    "ENTERPRISEPACK": (
        ENTERPRISEPACK,
        (
            "EXCHANGE_S_ENTERPRISE",
            "SHAREPOINTENTERPRISE",
            "SHAREPOINTWAC",
            "TEAMS1",
            "OFFICESUBSCRIPTION",
            "MCOSTANDARD",
            "YAMMER_ENTERPRISE",
            "SWAY",
            "FORMS_PLAN_E3",
            "STREAM_O365_E3",
            "PROJECTWORKMANAGEMENT",
            "RMS_S_ENTERPRISE",
        ),
    ),
    "SPE_E5": (
        SPE_E5,
        (
            "EXCHANGE_S_ENTERPRISE",
            "SHAREPOINTENTERPRISE",
            "SHAREPOINTWAC",
            "TEAMS1",
            "OFFICESUBSCRIPTION",
            "MCOSTANDARD",
            "MCOEV",
            "MCOMEETADV",
            "YAMMER_ENTERPRISE",
            "SWAY",
            "FORMS_PLAN_E5",
            "AAD_PREMIUM",
            "AAD_PREMIUM_P2",
            "MFA_PREMIUM",
            "INTUNE_A",
            "RMS_S_ENTERPRISE",
            "RMS_S_PREMIUM",
            "ADALLOM_S_STANDALONE",
            "ATA",
        ),
    ),
    "EMSPREMIUM": (
        EMSPREMIUM,
        (
            "AAD_PREMIUM",
            "AAD_PREMIUM_P2",
            "MFA_PREMIUM",
            "INTUNE_A",
            "RMS_S_ENTERPRISE",
            "RMS_S_PREMIUM",
            "ADALLOM_S_DISCOVERY",
            "ADALLOM_S_STANDALONE",
            "ATA",
            "EXCHANGE_S_FOUNDATION",
        ),
    ),
}


def subscribed_skus(tenant_id: str, account_name: str, seats: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """`subscribedSku` objects (without `consumedUnits`, which the store counts) keyed by skuId."""
    result = {}
    for part, count in seats.items():
        sku_id, plans = CATALOGUE[part]
        result[sku_id] = {
            "accountName": account_name,
            "accountId": tenant_id,
            "appliesTo": "User",
            "capabilityStatus": "Enabled",
            "id": f"{tenant_id}_{sku_id}",
            "prepaidUnits": {"enabled": count, "lockedOut": 0, "suspended": 0, "warning": 0},
            "servicePlans": [
                {
                    "servicePlanId": PLANS[name],
                    "servicePlanName": name,
                    "provisioningStatus": "Success",
                    "appliesTo": "User",
                }
                for name in plans
            ],
            "skuId": sku_id,
            "skuPartNumber": part,
            "subscriptionIds": [str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/{part}"))],
        }
    return result
