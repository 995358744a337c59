"""Baseline (a): the reads terraform's azuread provider makes to refresh a tenant's users and groups.

Per user: GET the user, GET it again with `$select` of 20 more properties, GET `showInAddressList`,
GET its manager; per licensed user also GET `assignedLicenses,licenseAssignmentStates`. Per group: GET
the group, LIST its owners, LIST its members 100 a page without `$select`, LIST its memberOf. Ten
resources refresh at once (terraform's default `-parallelism=10`), each one's requests in turn; a 429
waits its `Retry-After` and is sent again, holding its slot as the provider's client does.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench.sampling import Cost, Sample, measured
from bench.served import bearer_token

PARALLELISM = 10
MORE_USER_PROPERTIES = ",".join(
    [
        "accountEnabled",
        "ageGroup",
        "businessPhones",
        "city",
        "companyName",
        "consentProvidedForMinor",
        "country",
        "creationType",
        "department",
        "employeeId",
        "employeeType",
        "externalUserState",
        "faxNumber",
        "imAddresses",
        "mailNickname",
        "onPremisesImmutableId",
        "onPremisesSyncEnabled",
        "otherMails",
        "postalCode",
        "usageLocation",
    ]
)


async def _get(client: httpx.AsyncClient, url: str) -> httpx.Response:
    while True:
        reply = await client.get(url)
        if reply.status_code != 429:
            return reply
        await asyncio.sleep(float(reply.headers.get("Retry-After", "1")))


async def _list(client: httpx.AsyncClient, url: str) -> None:
    next_url: str | None = url
    while next_url:
        reply = await _get(client, next_url)
        next_url = reply.json().get("@odata.nextLink") if reply.status_code == 200 else None


async def _refresh_user(client: httpx.AsyncClient, user_id: str, licensed: bool) -> None:
    await _get(client, f"users/{user_id}")
    await _get(client, f"users/{user_id}?$select={MORE_USER_PROPERTIES}")
    await _get(client, f"users/{user_id}?$select=showInAddressList")
    await _get(client, f"users/{user_id}/manager")  # 404 for a user without one, as in the provider
    if licensed:
        await _get(client, f"users/{user_id}?$select=assignedLicenses,licenseAssignmentStates")


async def _refresh_group(client: httpx.AsyncClient, group_id: str) -> None:
    await _get(client, f"groups/{group_id}")
    await _list(client, f"groups/{group_id}/owners")
    await _list(client, f"groups/{group_id}/members?$top=100")
    await _list(client, f"groups/{group_id}/memberOf")


async def _in_parallel(
    info: dict[str, Any], refreshes: list[Callable[[httpx.AsyncClient], Awaitable[None]]]
) -> None:
    gate = asyncio.Semaphore(PARALLELISM)
    async with httpx.AsyncClient(
        base_url=info["graph_url"] + "/",
        headers={"Authorization": f"Bearer {bearer_token(info, 'reader')}"},
        verify=ssl.create_default_context(cafile=info["ca_bundle"]),
        timeout=120,
        limits=httpx.Limits(max_connections=PARALLELISM),
    ) as client:

        async def one(refresh: Callable[[httpx.AsyncClient], Awaitable[None]]) -> None:
            async with gate:
                await refresh(client)

        await asyncio.gather(*(one(r) for r in refreshes))


def refresh_cost(info: dict[str, Any], admin: httpx.Client, sample: Sample) -> Cost:
    """The provider's refresh of the sampled users and groups, extrapolated to the whole tenant."""

    def user(user_id: str) -> Callable[[httpx.AsyncClient], Awaitable[None]]:
        return lambda client: _refresh_user(client, user_id, user_id in sample.licensed)

    def group(group_id: str) -> Callable[[httpx.AsyncClient], Awaitable[None]]:
        return lambda client: _refresh_group(client, group_id)

    users = measured(admin, lambda: asyncio.run(_in_parallel(info, [user(u) for u in sample.users])))
    groups = measured(admin, lambda: asyncio.run(_in_parallel(info, [group(g) for g in sample.groups])))
    return users.scaled(sample.user_factor) + groups.scaled(sample.group_factor)
