"""Conformance: subscribedSkus, assignLicense (user and group), licenseDetails
(DC subscribedsku-list/get, user-assignlicense, group-assignlicense, user-list-licensedetails,
resources/licenseassignmentstate)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from conformance import (
    EMSPREMIUM,
    ENTERPRISEPACK,
    SKU_PART_NUMBERS,
    SPE_E5,
    Factory,
    Http,
    error_of,
    group_id,
    leave_seeded,  # noqa: F401 (fixture used by pytestmark)
    new_group,
    new_user,
    no_retry,
    run,
    seeded,  # noqa: F401 (fixture used by pytestmark)
    user_id,
)
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

pytestmark = pytest.mark.usefixtures("leave_seeded", "seeded")


INVALID_USAGE_LOCATION = "License assignment cannot be done for user with invalid usage location."


def skus_by_id(http: httpx.Client) -> dict[str, dict[str, Any]]:
    return {sku["skuId"]: sku for sku in http.get("subscribedSkus").json()["value"]}


def licenses_of(http: httpx.Client, user: str) -> dict[str, list[str]]:
    body = http.get(f"users/{user}", params={"$select": "assignedLicenses"}).json()
    return {lic["skuId"]: lic["disabledPlans"] for lic in body["assignedLicenses"]}


def assign(add: list[dict[str, Any]], remove: list[str] | None = None) -> dict[str, Any]:
    return {"addLicenses": add, "removeLicenses": remove or []}


def test_subscribed_skus_are_the_three_subscriptions_with_25_seats(
    emulator_info: dict[str, Any], graph_http: Http
) -> None:
    body = graph_http("reader").get("subscribedSkus").json()
    assert body["@odata.context"] == f"{emulator_info['graph_url']}/$metadata#subscribedSkus"
    skus = {sku["skuId"]: sku for sku in body["value"]}
    assert set(skus) == set(SKU_PART_NUMBERS)
    for sku_id, sku in skus.items():
        assert sku["skuPartNumber"] == SKU_PART_NUMBERS[sku_id]
        assert sku["id"] == f"{emulator_info['tenant_id']}_{sku_id}"
        assert sku["prepaidUnits"] == {"enabled": 25, "lockedOut": 0, "suspended": 0, "warning": 0}
        assert sku["capabilityStatus"] == "Enabled" and sku["appliesTo"] == "User"
        assert sku["servicePlans"] and all(
            {"servicePlanId", "servicePlanName", "provisioningStatus", "appliesTo"} <= set(plan)
            for plan in sku["servicePlans"]
        )


def test_consumed_units_count_the_users_holding_each_sku(graph_http: Http) -> None:
    http = graph_http("reader")
    users = http.get("users", params={"$select": "assignedLicenses", "$top": "999"}).json()["value"]
    for sku_id, sku in skus_by_id(http).items():
        holders = sum(1 for user in users if any(lic["skuId"] == sku_id for lic in user["assignedLicenses"]))
        assert sku["consumedUnits"] == holders


def test_get_one_subscribed_sku_and_select(emulator_info: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("reader")
    sku = skus_by_id(http)[SPE_E5]
    one = http.get(f"subscribedSkus/{sku['id']}")
    assert one.status_code == 200
    assert one.json()["@odata.context"] == f"{emulator_info['graph_url']}/$metadata#subscribedSkus/$entity"
    assert one.json()["skuPartNumber"] == "SPE_E5"
    selected = http.get("subscribedSkus", params={"$select": "skuId,consumedUnits"}).json()["value"]
    assert all(set(item) <= {"id", "skuId", "consumedUnits"} and "skuId" in item for item in selected)


def test_assign_license_returns_200_with_the_user(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    breakglass = user_id(http, "breakglass@contoso.example")
    before = skus_by_id(http)[EMSPREMIUM]["consumedUnits"]
    plan = skus_by_id(http)[EMSPREMIUM]["servicePlans"][0]["servicePlanId"]
    reply = http.post(
        f"users/{breakglass}/assignLicense", json=assign([{"skuId": EMSPREMIUM, "disabledPlans": [plan]}])
    )
    assert reply.status_code == 200
    body = reply.json()
    assert body["id"] == breakglass
    assert {"disabledPlans": [plan], "skuId": EMSPREMIUM} in body["assignedLicenses"]
    assert licenses_of(http, breakglass)[EMSPREMIUM] == [plan]
    assert skus_by_id(http)[EMSPREMIUM]["consumedUnits"] == before + 1
    removed = http.post(f"users/{breakglass}/assignLicense", json=assign([], [EMSPREMIUM]))
    assert removed.status_code == 200 and EMSPREMIUM not in licenses_of(http, breakglass)
    assert skus_by_id(http)[EMSPREMIUM]["consumedUnits"] == before


def test_assign_license_without_usage_location_is_400(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    nomad = http.post("users", json=new_user("nomad")).json()["id"]
    reply = http.post(f"users/{nomad}/assignLicense", json=assign([{"skuId": SPE_E5, "disabledPlans": []}]))
    assert error_of(reply) == (400, "Request_BadRequest", INVALID_USAGE_LOCATION)
    assert licenses_of(http, nomad) == {}


def test_assign_unknown_sku_is_400(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    reply = http.post(
        "users/breakglass@contoso.example/assignLicense",
        json=assign([{"skuId": str(uuid.UUID(int=7)), "disabledPlans": []}]),
    )
    assert error_of(reply)[:2] == (400, "Request_BadRequest")


def test_assign_license_to_unknown_user_is_404(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    reply = graph_http("writer").post(
        f"users/{uuid.UUID(int=9)}/assignLicense", json=assign([{"skuId": SPE_E5, "disabledPlans": []}])
    )
    assert error_of(reply)[:2] == (404, "Request_ResourceNotFound")


def test_assign_beyond_the_seats_is_400_and_consumed_stays_at_25(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    consumed = skus_by_id(http)[ENTERPRISEPACK]["consumedUnits"]
    for n in range(25 - consumed):
        created = http.post("users", json=new_user(f"seat{n}", usageLocation="US")).json()["id"]
        reply = http.post(
            f"users/{created}/assignLicense", json=assign([{"skuId": ENTERPRISEPACK, "disabledPlans": []}])
        )
        assert reply.status_code == 200
    assert skus_by_id(http)[ENTERPRISEPACK]["consumedUnits"] == 25
    last = http.post("users", json=new_user("oneseattoomany", usageLocation="US")).json()["id"]
    reply = http.post(
        f"users/{last}/assignLicense", json=assign([{"skuId": ENTERPRISEPACK, "disabledPlans": []}])
    )
    status, code, message = error_of(reply)
    assert (status, code) == (400, "Request_BadRequest")
    assert "does not have any available licenses" in message  # observed: "Subscription with SKU … does not …"
    assert licenses_of(http, last) == {}
    assert skus_by_id(http)[ENTERPRISEPACK]["consumedUnits"] == 25


def test_license_details_list_the_assigned_skus(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("reader")
    ada = user_id(http, "ada@contoso.example")
    body = http.get(f"users/{ada}/licenseDetails").json()
    assert body["@odata.context"].endswith(f"/$metadata#users('{ada}')/licenseDetails")
    details = {item["skuId"]: item for item in body["value"]}
    assert set(details) == set(licenses_of(http, ada))
    for sku_id, item in details.items():
        assert item["skuPartNumber"] == SKU_PART_NUMBERS[sku_id] and item["id"]
        assert item["servicePlans"] and all(
            {"servicePlanId", "servicePlanName", "provisioningStatus", "appliesTo"} <= set(plan)
            for plan in item["servicePlans"]
        )


def test_group_assign_license_is_202_and_members_inherit(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    group = http.post("groups", json=new_group("lic-e5")).json()["id"]
    breakglass = user_id(http, "breakglass@contoso.example")
    assert (
        http.post(
            f"groups/{group}/members/$ref",
            json={"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{breakglass}"},
        ).status_code
        == 204
    )
    reply = http.post(f"groups/{group}/assignLicense", json=assign([{"skuId": SPE_E5, "disabledPlans": []}]))
    assert reply.status_code == 202
    assert reply.json()["id"] == group and "location" in reply.headers
    assigned = http.get(f"groups/{group}", params={"$select": "assignedLicenses"}).json()["assignedLicenses"]
    assert assigned == [{"disabledPlans": [], "skuId": SPE_E5}]
    states = http.get(f"users/{breakglass}", params={"$select": "licenseAssignmentStates"}).json()
    inherited = [s for s in states["licenseAssignmentStates"] if s["assignedByGroup"] == group]
    assert [(s["skuId"], s["state"]) for s in inherited] == [(SPE_E5, "Active")]
    assert SPE_E5 in licenses_of(http, breakglass)


def test_direct_assignments_have_a_null_assigned_by_group(graph_http: Http) -> None:
    http = graph_http("reader")
    states = http.get(
        "users/grace@contoso.example", params={"$select": "assignedLicenses,licenseAssignmentStates"}
    ).json()
    direct = [s for s in states["licenseAssignmentStates"] if s["assignedByGroup"] is None]
    assert direct and all(
        {"skuId", "state", "disabledPlans", "error", "lastUpdatedDateTime"} <= set(s) for s in direct
    )


def test_assign_license_through_the_sdk(reset_emulator: dict[str, Any], graph_client: Factory) -> None:
    from msgraph.generated.models.assigned_license import AssignedLicense
    from msgraph.generated.users.item.assign_license.assign_license_post_request_body import (
        AssignLicensePostRequestBody,
    )

    async def go() -> tuple[Any, ODataError]:
        client = graph_client("writer")
        body = AssignLicensePostRequestBody(
            add_licenses=[AssignedLicense(sku_id=uuid.UUID(EMSPREMIUM), disabled_plans=[])],
            remove_licenses=[],
        )
        user = await client.users.by_user_id("breakglass@contoso.example").assign_license.post(body)
        details = await client.users.by_user_id("breakglass@contoso.example").license_details.get()
        with pytest.raises(ODataError) as raised:
            await client.users.by_user_id(str(uuid.UUID(int=9))).assign_license.post(
                body, request_configuration=no_retry()
            )
        return (user, details), raised.value

    (user, details), error = run(go())
    assert EMSPREMIUM in {str(lic.sku_id) for lic in user.assigned_licenses}
    assert "EMSPREMIUM" in {item.sku_part_number for item in details.value}
    assert error.response_status_code == 404


def test_group_license_through_the_sdk(
    reset_emulator: dict[str, Any], graph_client: Factory, graph_http: Http
) -> None:
    from msgraph.generated.groups.item.assign_license.assign_license_post_request_body import (
        AssignLicensePostRequestBody,
    )
    from msgraph.generated.models.assigned_license import AssignedLicense

    lic_group = group_id(graph_http("reader"), "grp-lic-ems")

    async def go() -> Any:
        client = graph_client("writer")
        body = AssignLicensePostRequestBody(
            add_licenses=[AssignedLicense(sku_id=uuid.UUID(SPE_E5), disabled_plans=[])], remove_licenses=[]
        )
        return await client.groups.by_group_id(lic_group).assign_license.post(body)

    assert run(go()).id == lic_group


def test_group_license_beyond_the_seats_leaves_members_in_count_violation(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:

    http = graph_http("writer")
    group = http.post("groups", json=new_group("lic-overflow")).json()["id"]
    users = http.get("users", params={"$select": "id,assignedLicenses,usageLocation", "$top": "999"}).json()
    without = [
        u["id"] for u in users["value"] if all(lic["skuId"] != SPE_E5 for lic in u["assignedLicenses"])
    ]
    free = 25 - skus_by_id(http)[SPE_E5]["consumedUnits"]
    assert len(without) > free
    for start in range(0, len(without), 20):
        chunk = [f"https://graph.microsoft.com/v1.0/users/{u}" for u in without[start : start + 20]]
        assert http.patch(f"groups/{group}", json={"members@odata.bind": chunk}).status_code == 204
    reply = http.post(f"groups/{group}/assignLicense", json=assign([{"skuId": SPE_E5, "disabledPlans": []}]))
    assert reply.status_code == 202
    assert skus_by_id(http)[SPE_E5]["consumedUnits"] == 25
    states = [
        state
        for member in without
        for state in http.get(f"users/{member}", params={"$select": "licenseAssignmentStates"}).json()[
            "licenseAssignmentStates"
        ]
        if state["assignedByGroup"] == group
    ]
    assert len(states) == len(without)
    errors = [s for s in states if s["state"] == "Error"]
    assert len(errors) == len(without) - free and {s["error"] for s in errors} == {"CountViolation"}
    flagged = http.get("groups", params={"$filter": "hasMembersWithLicenseErrors eq true", "$select": "id"})
    assert [g["id"] for g in flagged.json()["value"]] == [group]


def test_inherited_license_cannot_be_removed_directly(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    group = http.post("groups", json=new_group("lic-inherit")).json()["id"]
    breakglass = user_id(http, "breakglass@contoso.example")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{breakglass}"}
    assert http.post(f"groups/{group}/members/$ref", json=ref).status_code == 204
    assign_e5 = assign([{"skuId": SPE_E5, "disabledPlans": []}])
    assert http.post(f"groups/{group}/assignLicense", json=assign_e5).status_code == 202
    reply = http.post(f"users/{breakglass}/assignLicense", json=assign([], [SPE_E5]))
    assert error_of(reply) == (
        400,
        "Request_BadRequest",
        "User license is inherited from a group membership and it cannot be removed directly from the user.",
    )
    assert SPE_E5 in licenses_of(http, breakglass)


def test_leaving_a_licensed_group_releases_the_inherited_seat(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    group = http.post("groups", json=new_group("lic-leave")).json()["id"]
    breakglass = user_id(http, "breakglass@contoso.example")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{breakglass}"}
    assert http.post(f"groups/{group}/members/$ref", json=ref).status_code == 204
    before = skus_by_id(http)[EMSPREMIUM]["consumedUnits"]
    assign_ems = assign([{"skuId": EMSPREMIUM, "disabledPlans": []}])
    assert http.post(f"groups/{group}/assignLicense", json=assign_ems).status_code == 202
    assert skus_by_id(http)[EMSPREMIUM]["consumedUnits"] == before + 1
    assert http.delete(f"groups/{group}/members/{breakglass}/$ref").status_code == 204
    assert EMSPREMIUM not in licenses_of(http, breakglass)
    assert skus_by_id(http)[EMSPREMIUM]["consumedUnits"] == before


def test_license_details_of_an_unlicensed_user_are_empty(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    created = http.post("users", json=new_user("unlicensed")).json()["id"]
    assert http.get(f"users/{created}/licenseDetails").json()["value"] == []
    assert (
        http.get(f"users/{created}", params={"$select": "assignedLicenses"}).json()["assignedLicenses"] == []
    )


def test_group_license_processing_state(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    """DC resources/group.md: licenseProcessingState is QueuedForProcessing, ProcessingInProgress or
    ProcessingComplete; hasMembersWithLicenseErrors is never returned on GET (only usable in $filter)."""
    http = graph_http("writer")
    group = http.post("groups", json=new_group("lic-state")).json()["id"]
    assert (
        http.post(
            f"groups/{group}/assignLicense", json=assign([{"skuId": SPE_E5, "disabledPlans": []}])
        ).status_code
        == 202
    )
    body = http.get(
        f"groups/{group}", params={"$select": "id,licenseProcessingState,hasMembersWithLicenseErrors"}
    ).json()
    assert body["licenseProcessingState"]["state"] in {
        "QueuedForProcessing",
        "ProcessingInProgress",
        "ProcessingComplete",
    }
    assert "hasMembersWithLicenseErrors" not in body


def test_deleting_a_user_frees_its_seats_and_restoring_brings_the_licenses_back(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    """ED fundamentals/users-restore.md: "licenses that were assigned to the user at the time of deletion
    are also restored even if there are no seats available for those licenses"."""
    http = graph_http("writer")
    kat = user_id(http, "kat@contoso.example")
    held = licenses_of(http, kat)
    sku = next(iter(held))
    before = skus_by_id(http)[sku]["consumedUnits"]
    assert http.delete(f"users/{kat}").status_code == 204
    assert skus_by_id(http)[sku]["consumedUnits"] == before - 1
    for n in range(25 - (before - 1)):  # someone else takes every free seat
        created = http.post("users", json=new_user(f"filler{n}", usageLocation="US")).json()["id"]
        filled = http.post(
            f"users/{created}/assignLicense", json=assign([{"skuId": sku, "disabledPlans": []}])
        )
        assert filled.status_code == 200
    assert http.post(f"directory/deletedItems/{kat}/restore").status_code == 200
    assert licenses_of(http, kat) == held
    assert skus_by_id(http)[sku]["consumedUnits"] == 26


def test_direct_and_inherited_assignments_of_one_sku_take_one_seat(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    """ED licensing-group-advanced.md: "You can add a user to one or both groups and only use one license
    for the product"; licenseAssignmentStates lists both assignment paths."""
    http = graph_http("writer")
    breakglass = user_id(http, "breakglass@contoso.example")
    before = skus_by_id(http)[EMSPREMIUM]["consumedUnits"]
    direct = http.post(
        f"users/{breakglass}/assignLicense", json=assign([{"skuId": EMSPREMIUM, "disabledPlans": []}])
    )
    assert direct.status_code == 200
    group = http.post("groups", json=new_group("lic-double")).json()["id"]
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{breakglass}"}
    assert http.post(f"groups/{group}/members/$ref", json=ref).status_code == 204
    assign_ems = assign([{"skuId": EMSPREMIUM, "disabledPlans": []}])
    assert http.post(f"groups/{group}/assignLicense", json=assign_ems).status_code == 202
    assert skus_by_id(http)[EMSPREMIUM]["consumedUnits"] == before + 1
    states = http.get(f"users/{breakglass}", params={"$select": "licenseAssignmentStates"}).json()
    paths = {s["assignedByGroup"] for s in states["licenseAssignmentStates"] if s["skuId"] == EMSPREMIUM}
    assert paths == {None, group}


def test_a_group_with_a_license_cannot_be_deleted(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    """ED licensing-group-advanced.md: "It isn't possible to delete a group with an active license
    assigned … You may see similar errors when trying to delete the group through … Graph API.\""""
    http = graph_http("writer")
    lic_group = group_id(http, "grp-lic-ems")
    reply = http.delete(f"groups/{lic_group}")
    assert error_of(reply)[:2] == (400, "Request_BadRequest")
    assert http.get(f"groups/{lic_group}").status_code == 200
    assert http.post(f"groups/{lic_group}/assignLicense", json=assign([], [EMSPREMIUM])).status_code == 202
    assert http.delete(f"groups/{lic_group}").status_code == 204


def test_group_licenses_reach_only_direct_user_members(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    """ED licensing-group-advanced.md: "If you apply a license to a nested group, only the immediate
    first-level user members of the group have the licenses applied.\""""
    http = graph_http("writer")
    engineering = group_id(http, "grp-engineering")
    lee = user_id(http, "lee@contoso.example")  # in Platform Engineering, nested in Engineering
    assign_pack = assign([{"skuId": ENTERPRISEPACK, "disabledPlans": []}])
    assert http.post(f"groups/{engineering}/assignLicense", json=assign_pack).status_code == 202
    ada = user_id(http, "ada@contoso.example")
    inherited = http.get(f"users/{ada}", params={"$select": "licenseAssignmentStates"}).json()
    assert engineering in {s["assignedByGroup"] for s in inherited["licenseAssignmentStates"]}
    nested = http.get(f"users/{lee}", params={"$select": "licenseAssignmentStates"}).json()
    assert engineering not in {s["assignedByGroup"] for s in nested["licenseAssignmentStates"]}


def test_group_licenses_need_a_security_enabled_group(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    """ED licensing-group-advanced.md: "The feature can only be used with security groups, and Microsoft
    365 groups that have securityEnabled=TRUE." (the demo's Sales group has securityEnabled false)."""
    http = graph_http("writer")
    sales = group_id(http, "grp-sales")
    reply = http.post(f"groups/{sales}/assignLicense", json=assign([{"skuId": SPE_E5, "disabledPlans": []}]))
    assert error_of(reply)[:2] == (400, "Request_BadRequest")
    assert (
        http.get(f"groups/{sales}", params={"$select": "assignedLicenses"}).json()["assignedLicenses"] == []
    )


def test_group_licenses_use_the_tenant_location_for_users_without_one(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    """ED licensing-group-advanced.md: "For group license assignment, any users without a usage location
    specified inherit the location of the directory … Group license assignment never modifies an existing
    usage location value on a user.\""""
    http = graph_http("writer")
    nomad = http.post("users", json=new_user("nomad")).json()["id"]
    group = http.post("groups", json=new_group("lic-nomad")).json()["id"]
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{nomad}"}
    assert http.post(f"groups/{group}/members/$ref", json=ref).status_code == 204
    assert (
        http.post(
            f"groups/{group}/assignLicense", json=assign([{"skuId": SPE_E5, "disabledPlans": []}])
        ).status_code
        == 202
    )
    body = http.get(f"users/{nomad}", params={"$select": "usageLocation,licenseAssignmentStates"}).json()
    assert body["usageLocation"] is None
    assert [(s["skuId"], s["state"]) for s in body["licenseAssignmentStates"]] == [(SPE_E5, "Active")]
