"""The routes through the real msgraph-sdk (served emulator over HTTPS): delta, $ref, licenses, $batch."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from msgraph.generated.models.assigned_license import AssignedLicense
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.reference_update import ReferenceUpdate
from msgraph.generated.users.item.assign_license.assign_license_post_request_body import (
    AssignLicensePostRequestBody,
)
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem

from reconciler.emulator import skus

Factory = Callable[[str], Any]
Http = Callable[[str], httpx.Client]


def ids(graph_http: Http, *upns: str) -> list[str]:
    client = graph_http("reader")
    return [client.get(f"users/{upn}").json()["id"] for upn in upns]


def group_id(graph_http: Http, nickname: str) -> str:
    found = graph_http("reader").get("groups", params={"$filter": f"mailNickname eq '{nickname}'"}).json()
    return str(found["value"][0]["id"])


def test_users_delta_round_through_the_sdk(
    reset_emulator: dict[str, Any], graph_client: Factory, graph_http: Http
) -> None:
    async def go() -> tuple[int, str]:
        client = graph_client("reader")
        page = await client.users.delta.get()
        count = len(page.value)
        while page.odata_next_link:
            page = await client.users.delta.with_url(page.odata_next_link).get()
            count += len(page.value)
        return count, page.odata_delta_link

    count, delta_link = asyncio.run(go())
    assert count == len(graph_http("reader").get("users", params={"$top": "999"}).json()["value"])
    assert "$deltatoken=" in delta_link


def test_member_ref_add_and_duplicate_error_through_the_sdk(
    reset_emulator: dict[str, Any], graph_client: Factory, graph_http: Http
) -> None:
    (ada,) = ids(graph_http, "ada@contoso.example")
    people = group_id(graph_http, "grp-people")
    url = f"{reset_emulator['graph_url']}/directoryObjects/{ada}"

    async def go() -> ODataError:
        client = graph_client("writer")
        await client.groups.by_group_id(people).members.ref.post(ReferenceCreate(odata_id=url))
        with pytest.raises(ODataError) as raised:
            await client.groups.by_group_id(people).members.ref.post(ReferenceCreate(odata_id=url))
        return raised.value

    error = asyncio.run(go())
    assert error.response_status_code == 400 and error.error.code == "Request_BadRequest"
    assert "already exist for the following modified properties: 'members'" in error.error.message


def test_manager_and_license_through_the_sdk(
    reset_emulator: dict[str, Any], graph_client: Factory, graph_http: Http
) -> None:
    breakglass, lee = ids(graph_http, "breakglass@contoso.example", "lee@contoso.example")

    async def go() -> list[str]:
        client = graph_client("writer")
        user = client.users.by_user_id(breakglass)
        await user.manager.ref.put(ReferenceUpdate(odata_id=f"{reset_emulator['graph_url']}/users/{lee}"))
        body = AssignLicensePostRequestBody(
            add_licenses=[AssignedLicense(sku_id=uuid.UUID(skus.SPE_E5), disabled_plans=[])],
            remove_licenses=[],
        )
        updated = await user.assign_license.post(body)
        manager = await user.manager.get()
        return [str(lic.sku_id) for lic in updated.assigned_licenses] + [manager.id]

    assert asyncio.run(go()) == [skus.SPE_E5, lee]


def test_batch_with_depends_on_through_the_sdk(reset_emulator: dict[str, Any], graph_client: Factory) -> None:
    async def go() -> dict[str, int]:
        client = graph_client("reader")
        missing = client.users.by_user_id("nobody@contoso.example").to_get_request_information()
        present = client.users.by_user_id("ada@contoso.example").to_get_request_information()
        first = BatchRequestItem(request_information=missing, id="1")
        second = BatchRequestItem(request_information=present, id="2", depends_on=["1"])
        third = BatchRequestItem(request_information=present, id="3")
        content = BatchRequestContent({"1": first, "2": second, "3": third})
        response = await client.batch.post(batch_request_content=content)
        return {item_id: item.status for item_id, item in response.responses.items()}

    assert asyncio.run(go()) == {"1": 404, "2": 424, "3": 200}


def test_create_group_with_the_sdk_model(reset_emulator: dict[str, Any], graph_client: Factory) -> None:
    from msgraph.generated.models.group import Group

    async def go() -> Any:
        client = graph_client("writer")
        group = Group(
            display_name="SDK group", mail_enabled=False, mail_nickname="grp-sdk", security_enabled=True
        )
        created = await client.groups.post(group)
        return await client.groups.by_group_id(created.id).get()

    fetched = asyncio.run(go())
    assert fetched.mail_nickname == "grp-sdk" and fetched.group_types == []


def test_casts_and_deleted_items_through_the_sdk(
    reset_emulator: dict[str, Any], graph_client: Factory, graph_http: Http
) -> None:
    platform = group_id(graph_http, "grp-platform")
    (lynne,) = ids(graph_http, "lynne@contoso.example")

    async def go() -> tuple[list[str], list[str], str]:
        client = graph_client("writer")
        users = await client.groups.by_group_id(platform).members.graph_user.get()
        await client.users.by_user_id(lynne).delete()
        deleted = await client.directory.deleted_items.graph_user.get()
        restored = await client.directory.deleted_items.by_directory_object_id(lynne).restore.post()
        return [u.user_principal_name for u in users.value], [d.id for d in deleted.value], restored.id

    upns, deleted, restored = asyncio.run(go())
    assert "alex@contoso.example" in upns and deleted == [lynne] and restored == lynne


def test_group_assign_license_through_the_sdk(
    reset_emulator: dict[str, Any], graph_client: Factory, graph_http: Http
) -> None:
    from msgraph.generated.groups.item.assign_license.assign_license_post_request_body import (
        AssignLicensePostRequestBody as GroupLicenses,
    )

    platform = group_id(graph_http, "grp-platform")

    async def go() -> Any:
        client = graph_client("writer")
        body = GroupLicenses(
            add_licenses=[AssignedLicense(sku_id=uuid.UUID(skus.EMSPREMIUM), disabled_plans=[])],
            remove_licenses=[],
        )
        return await client.groups.by_group_id(platform).assign_license.post(body)

    group = asyncio.run(go())
    assert group.id == platform and [str(lic.sku_id) for lic in group.assigned_licenses] == [skus.EMSPREMIUM]
