"""Helpers for the conformance suite: expectations come from Microsoft's Graph documentation
(the pages each test names, and Microsoft's request/response examples), never from the
emulator's code.

The demo tenant is used only for its data (people and groups known by UPN and mailNickname);
every expectation about behaviour is written against Microsoft's documented behaviour.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from reconciler.emulator.context import RuntimeConfig

Http = Callable[[str], httpx.Client]
Factory = Callable[[str], Any]
T = TypeVar("T")

# Microsoft's product and service plan identifiers (Entra docs "licensing-service-plan-reference").
ENTERPRISEPACK = "6fd2c87f-b296-42f0-b197-1e91e994b900"
SPE_E5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"
EMSPREMIUM = "b05e124f-c7cc-45a0-a6aa-8cf78c946968"
SKU_PART_NUMBERS = {ENTERPRISEPACK: "ENTERPRISEPACK", SPE_E5: "SPE_E5", EMSPREMIUM: "EMSPREMIUM"}

# DC resources/user.md: "By default, only a limited set of properties are returned".
USER_DEFAULT_PROPERTIES = {
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
}

EVENTUAL = {"ConsistencyLevel": "eventual"}
NOT_FOUND_TEXT = (
    "Resource '{}' does not exist or one of its queried reference-property objects are not present."
)
MISSING_ID = "00000000-0000-4000-8000-00000000dead"


def reset_to_seed(admin: httpx.Client) -> None:
    admin.post("reset").raise_for_status()
    admin.put("config", json=RuntimeConfig().to_json()).raise_for_status()
    admin.post("stats/reset").raise_for_status()


@pytest.fixture(scope="module")
def leave_seeded(emulator_info: dict[str, Any], ca_context: Any) -> Iterator[None]:
    """After a module, the tenant back as seeded: the modules that follow may only read."""
    yield
    with httpx.Client(base_url=emulator_info["admin_url"] + "/", verify=ca_context) as admin:
        reset_to_seed(admin)


@pytest.fixture
def seeded(request: pytest.FixtureRequest, admin: httpx.Client) -> None:
    """The tenant as seeded, for tests that only read: reset only when a write or a config change
    happened since the last reset. Tests that write ask for `reset_emulator`, which always resets."""
    if "reset_emulator" in request.fixturenames:
        return
    if admin.get("stats").json()["writes"] or admin.get("config").json() != RuntimeConfig().to_json():
        reset_to_seed(admin)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def no_retry() -> Any:
    """A request configuration that turns the SDK's retry handler off, so error tests stay fast."""
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from kiota_http.middleware.options import RetryHandlerOption

    return RequestConfiguration(options=[RetryHandlerOption(delay=0, max_retries=0)])


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def user_id(http: httpx.Client, upn: str) -> str:
    reply = http.get(f"users/{upn}", params={"$select": "id"})
    reply.raise_for_status()
    return str(reply.json()["id"])


def group_id(http: httpx.Client, nickname: str) -> str:
    reply = http.get("groups", params={"$filter": f"mailNickname eq '{nickname}'", "$select": "id"})
    reply.raise_for_status()
    return str(reply.json()["value"][0]["id"])


def new_user(nickname: str, **extra: Any) -> dict[str, Any]:
    """The required properties of DC user-post-users.md."""
    return {
        "accountEnabled": True,
        "displayName": nickname.title(),
        "mailNickname": nickname,
        "userPrincipalName": f"{nickname}@contoso.example",
        "passwordProfile": {"forceChangePasswordNextSignIn": True, "password": "xWwvJ]6NMw+bWH-d"},
        **extra,
    }


def new_group(nickname: str, unified: bool = False, **extra: Any) -> dict[str, Any]:
    """The required properties of DC group-post-groups.md (security group, or Microsoft 365 group)."""
    return {
        "displayName": nickname.title(),
        "mailEnabled": unified,
        "mailNickname": nickname,
        "securityEnabled": not unified,
        "groupTypes": ["Unified"] if unified else [],
        **extra,
    }


def ids_of(body: dict[str, Any]) -> set[str]:
    return {item["id"] for item in body["value"]}


def all_pages(http: httpx.Client, url: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every page of a collection, following `@odata.nextLink` verbatim."""
    pages = [http.get(url, headers=headers).json()]
    while "@odata.nextLink" in pages[-1]:
        pages.append(http.get(pages[-1]["@odata.nextLink"], headers=headers).json())
    return pages
