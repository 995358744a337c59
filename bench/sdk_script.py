"""Baseline (b): the script one writes with the official msgraph-sdk to read a tenant's users, groups and
memberships: typed models, `PageIterator` over `$top=999` pages, then each group's members listed in
turn (Graph's default page of 100). The SDK's own middleware retries 429s after their `Retry-After`.

The real, unmodified `GraphServiceClient` with azure-identity's `ClientSecretCredential`, pointed at
the emulator's URLs and CA; the SDK is imported only when this baseline runs.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpx

from bench.sampling import Cost, Sample, measured
from bench.served import GRAPH_SCOPE

PAGE = 999
USER_PROPERTIES = [
    "id",
    "userPrincipalName",
    "displayName",
    "givenName",
    "surname",
    "mailNickname",
    "jobTitle",
    "department",
    "employeeId",
    "usageLocation",
    "accountEnabled",
    "assignedLicenses",
]
GROUP_PROPERTIES = ["id", "mailNickname", "displayName", "description", "groupTypes", "securityEnabled"]


def sdk_client(info: dict[str, Any]) -> Any:
    """A `GraphServiceClient` of the reader app; build it in the event loop that uses it."""
    from azure.identity import ClientSecretCredential
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph.graph_request_adapter import GraphRequestAdapter
    from msgraph.graph_service_client import GraphServiceClient
    from msgraph_core import GraphClientFactory

    reader = info["apps"]["reader"]
    credential = ClientSecretCredential(
        info["tenant_id"],
        reader["client_id"],
        reader["client_secret"],
        authority=info["authority"],
        disable_instance_discovery=True,
        connection_verify=info["ca_bundle"],
    )
    transport = httpx.AsyncClient(
        base_url=info["graph_url"], verify=ssl.create_default_context(cafile=info["ca_bundle"]), timeout=120
    )
    adapter = GraphRequestAdapter(
        AzureIdentityAuthenticationProvider(credential, scopes=[GRAPH_SCOPE]),
        client=GraphClientFactory.create_with_default_middleware(client=transport),
    )
    return GraphServiceClient(request_adapter=adapter)


async def _iterate(client: Any, first_page: Any, limit: int) -> int:
    """Objects seen following `first_page`'s next links, stopping after the page that reaches `limit`."""
    from msgraph_core.tasks.page_iterator import PageIterator

    seen = 0
    whole_pages = -(-limit // PAGE) * PAGE

    def keep(_item: Any) -> bool:
        nonlocal seen
        seen += 1
        return seen < whole_pages

    await PageIterator(first_page, client.request_adapter).iterate(keep)
    return seen


async def _users(info: dict[str, Any], limit: int) -> int:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

    client = sdk_client(info)
    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(select=USER_PROPERTIES, top=PAGE)
    first = await client.users.get(request_configuration=RequestConfiguration(query_parameters=query))
    return await _iterate(client, first, limit)


async def _groups(info: dict[str, Any], limit: int) -> int:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.groups.groups_request_builder import GroupsRequestBuilder

    client = sdk_client(info)
    query = GroupsRequestBuilder.GroupsRequestBuilderGetQueryParameters(select=GROUP_PROPERTIES, top=PAGE)
    first = await client.groups.get(request_configuration=RequestConfiguration(query_parameters=query))
    return await _iterate(client, first, limit)


async def _members(info: dict[str, Any], group_ids: list[str]) -> None:
    from msgraph_core.tasks.page_iterator import PageIterator

    client = sdk_client(info)
    for group_id in group_ids:
        first = await client.groups.by_group_id(group_id).members.get()
        await PageIterator(first, client.request_adapter).iterate(lambda _member: True)


def script_cost(info: dict[str, Any], admin: httpx.Client, sample: Sample) -> Cost:
    """The script over the sample's share of users, groups and members, extrapolated to the tenant."""
    counted: dict[str, int] = {}

    def read(kind: str, limit: int) -> None:
        counted[kind] = asyncio.run((_users if kind == "users" else _groups)(info, limit))

    users = measured(admin, lambda: read("users", len(sample.users)))
    groups = measured(admin, lambda: read("groups", len(sample.groups)))
    members = measured(admin, lambda: asyncio.run(_members(info, sample.groups)))
    return (
        users.scaled(sample.total_users / max(1, counted["users"]))
        + groups.scaled(sample.total_groups / max(1, counted["groups"]))
        + members.scaled(sample.group_factor)
    )
