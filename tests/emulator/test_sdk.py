"""The real, unmodified msgraph-sdk and azure-identity against the served emulator over loopback HTTPS."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from azure.core.exceptions import ClientAuthenticationError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_http.middleware.options import RetryHandlerOption
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.user import User
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph_core.tasks.page_iterator import PageIterator

Factory = Callable[[str], Any]


def users_query(**params: Any) -> RequestConfiguration[Any]:
    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(**params)
    return RequestConfiguration(query_parameters=query)


def new_user(nickname: str) -> User:
    return User(
        account_enabled=True,
        display_name=f"SDK {nickname}",
        mail_nickname=nickname,
        user_principal_name=f"{nickname}@contoso.example",
        password_profile=PasswordProfile(
            password="xWwvJ]6NMw+bWH-d", force_change_password_next_sign_in=True
        ),
    )


def test_page_iterator_follows_next_links_over_every_user(
    reset_emulator: dict[str, Any], graph_client: Factory, graph_http: Callable[[str], httpx.Client]
) -> None:
    expected = [u["id"] for u in graph_http("reader").get("users", params={"$top": "999"}).json()["value"]]
    assert len(expected) > 5

    async def go() -> list[str]:
        client = graph_client("reader")
        first = await client.users.get(request_configuration=users_query(top=5, select=["id", "displayName"]))
        assert first.odata_next_link.startswith(reset_emulator["graph_url"])
        ids: list[str] = []
        iterator = PageIterator(first, client.request_adapter)
        await iterator.iterate(lambda user: ids.append(user.id) or True)
        return ids

    assert asyncio.run(go()) == expected


def test_get_create_and_read_back_a_user(reset_emulator: dict[str, Any], graph_client: Factory) -> None:
    async def go() -> tuple[User, User]:
        client = graph_client("writer")
        created = await client.users.post(new_user("sdk.ada"))
        fetched = await client.users.by_user_id("sdk.ada@contoso.example").get()
        return created, fetched

    created, fetched = asyncio.run(go())
    assert created.id and created.id == fetched.id
    assert fetched.display_name == "SDK sdk.ada"


def test_reader_cannot_create_users(reset_emulator: dict[str, Any], graph_client: Factory) -> None:
    async def go() -> None:
        await graph_client("reader").users.post(new_user("sdk.denied"))

    with pytest.raises(ODataError) as caught:
        asyncio.run(go())
    assert caught.value.response_status_code == 403
    assert caught.value.error.code == "Authorization_RequestDenied"
    assert caught.value.error.message == "Insufficient privileges to complete the operation."


def test_wrong_client_secret_fails_in_azure_identity(
    reset_emulator: dict[str, Any], graph_client_for: Callable[[dict[str, Any], str], Any]
) -> None:
    info = {
        **reset_emulator,
        "apps": {"reader": {**reset_emulator["apps"]["reader"], "client_secret": "nope"}},
    }

    async def go() -> None:
        await graph_client_for(info, "reader").users.get()

    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        asyncio.run(go())


def test_expired_token_gives_401_invalid_authentication_token(
    reset_emulator: dict[str, Any], graph_client: Factory, admin: httpx.Client
) -> None:
    async def go() -> None:
        client = graph_client("reader")
        await client.users.get(request_configuration=users_query(top=1))
        # The credential keeps its cached token; on the emulator's clock it has now expired.
        admin.put("config", json={"clock_offset_s": 7200}).raise_for_status()
        await client.users.get(request_configuration=users_query(top=1))

    with pytest.raises(ODataError) as caught:
        asyncio.run(go())
    assert caught.value.response_status_code == 401
    assert caught.value.error.code == "InvalidAuthenticationToken"


def test_retry_handler_waits_the_integer_retry_after_then_succeeds(
    reset_emulator: dict[str, Any],
    graph_client: Factory,
    graph_http: Callable[[str], httpx.Client],
    admin: httpx.Client,
) -> None:
    # 10 RU per 10 s refills 1 RU a second: once spent, the next 1-RU call is told "Retry-After: 1".
    admin.put("config", json={"throttle": {"enabled": True, "ru_per_10s": 10}}).raise_for_status()
    raw = graph_http("reader")
    config = users_query(top=1, select=["id"])
    config.options = [RetryHandlerOption(delay=0, max_retries=1)]

    async def go() -> Any:
        client = graph_client("reader")
        await client.users.get(request_configuration=config)  # token and SDK models ready
        while raw.get("users", params={"$top": "1", "$select": "id"}).status_code != 429:
            pass
        admin.post("stats/reset").raise_for_status()
        return await client.users.get(request_configuration=config)

    assert len(asyncio.run(go()).value) == 1
    stats = admin.get("stats").json()
    assert (stats["by_route"]["GET /users"], stats["throttled"]) == (2, 1)


def test_async_client_secret_credential_gets_a_token_without_discovery(
    reset_emulator: dict[str, Any],
) -> None:
    from azure.identity.aio import ClientSecretCredential

    creds = reset_emulator["apps"]["reader"]

    async def go() -> str:
        async with ClientSecretCredential(
            reset_emulator["tenant_id"],
            creds["client_id"],
            creds["client_secret"],
            authority=reset_emulator["authority"],
            disable_instance_discovery=True,
            connection_verify=reset_emulator["ca_bundle"],
        ) as credential:
            token = await credential.get_token("https://graph.microsoft.com/.default", enable_cae=True)
            return token.token

    claims = jwt.decode(asyncio.run(go()), options={"verify_signature": False})
    assert claims["appid"] == creds["client_id"] and claims["roles"] == creds["roles"]
