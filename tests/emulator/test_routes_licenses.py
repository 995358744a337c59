"""subscribedSkus, assignLicense (user and group), licenseDetails, seats and group-based licensing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from graph_calls import Tenant, error_of

from reconciler.emulator import skus

E3, E5, EMS = skus.ENTERPRISEPACK, skus.SPE_E5, skus.EMSPREMIUM


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    t = Tenant("demo")
    yield t
    t.close()


def seats(tenant: Tenant) -> dict[str, tuple[int, int]]:
    value = tenant.get("subscribedSkus").json()["value"]
    return {s["skuPartNumber"]: (s["prepaidUnits"]["enabled"], s["consumedUnits"]) for s in value}


def assign(tenant: Tenant, who: str, add: list[dict[str, object]], remove: list[str]) -> object:
    return tenant.call(
        "POST", f"users/{who}/assignLicense", json={"addLicenses": add, "removeLicenses": remove}
    )


def test_subscribed_skus_carry_real_ids_and_plans(tenant: Tenant) -> None:
    value = tenant.get("subscribedSkus").json()["value"]
    by_part = {s["skuPartNumber"]: s for s in value}
    assert by_part["ENTERPRISEPACK"]["skuId"] == E3
    assert by_part["SPE_E5"]["skuId"] == E5 and by_part["EMSPREMIUM"]["skuId"] == EMS
    plans = {p["servicePlanName"] for p in by_part["SPE_E5"]["servicePlans"]}
    assert {"EXCHANGE_S_ENTERPRISE", "TEAMS1", "MCOEV", "AAD_PREMIUM_P2", "INTUNE_A"} <= plans
    sku = by_part["EMSPREMIUM"]
    assert sku["id"] == f"{tenant.store.tenant_id}_{EMS}"
    assert tenant.get(f"subscribedSkus/{sku['id']}").json()["skuPartNumber"] == "EMSPREMIUM"


def test_assign_license_to_user_consumes_a_seat(tenant: Tenant) -> None:
    before = seats(tenant)["SPE_E5"][1]
    response = assign(tenant, "breakglass@contoso.example", [{"skuId": E5, "disabledPlans": []}], [])
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert seats(tenant)["SPE_E5"][1] == before + 1
    user = tenant.get(
        "users/breakglass@contoso.example?$select=assignedLicenses,licenseAssignmentStates"
    ).json()
    assert user["assignedLicenses"] == [{"disabledPlans": [], "skuId": E5}]
    assert user["licenseAssignmentStates"][0]["assignedByGroup"] is None


def test_assign_license_needs_usage_location(tenant: Tenant) -> None:
    tenant.call("PATCH", "users/breakglass@contoso.example", json={"usageLocation": None})
    response = assign(tenant, "breakglass@contoso.example", [{"skuId": E5, "disabledPlans": []}], [])
    assert error_of(response) == (  # type: ignore[arg-type]
        400,
        "Request_BadRequest",
        "License assignment cannot be done for user with invalid usage location.",
    )


def test_assign_unknown_sku(tenant: Tenant) -> None:
    sku = "c7df2760-2c81-4ef7-b578-5b5392b571df"
    response = assign(tenant, "breakglass@contoso.example", [{"skuId": sku, "disabledPlans": []}], [])
    assert error_of(response)[2] == f"License {sku} does not correspond to a valid company License."  # type: ignore[arg-type]


def test_over_assignment_fails_and_seats_stay_true(tenant: Tenant) -> None:
    prepaid, consumed = seats(tenant)["SPE_E5"]
    free_users = [
        u["userPrincipalName"]
        for u in tenant.store.users.values()
        if E5 not in tenant.store.licensing.seat_holders.get(E5, set())
        and u["id"] not in tenant.store.licensing.seat_holders[E5]
    ]
    for upn in free_users[: prepaid - consumed]:
        tenant.call("PATCH", f"users/{upn}", json={"usageLocation": "US"})
        assert assign(tenant, upn, [{"skuId": E5, "disabledPlans": []}], []).status_code == 200  # type: ignore[attr-defined]
    one_more = free_users[prepaid - consumed]
    tenant.call("PATCH", f"users/{one_more}", json={"usageLocation": "US"})
    status, code, message = error_of(assign(tenant, one_more, [{"skuId": E5, "disabledPlans": []}], []))  # type: ignore[arg-type]
    assert (status, code, message) == (
        400,
        "Request_BadRequest",
        f"Subscription {E5} does not have any available licenses.",
    )
    assert seats(tenant)["SPE_E5"] == (prepaid, prepaid)


def test_remove_license_frees_the_seat_and_unassigned_removal_fails(tenant: Tenant) -> None:
    before = seats(tenant)["SPE_E5"][1]
    assert assign(tenant, "grace@contoso.example", [], [E5]).status_code == 200  # type: ignore[attr-defined]
    assert seats(tenant)["SPE_E5"][1] == before - 1
    assert error_of(assign(tenant, "grace@contoso.example", [], [E5]))[0] == 400  # type: ignore[arg-type]


def test_assign_license_requires_both_arrays(tenant: Tenant) -> None:
    response = tenant.call("POST", "users/grace@contoso.example/assignLicense", json={"addLicenses": []})
    assert error_of(response)[:2] == (400, "Request_BadRequest")


def test_disabled_plans_show_in_license_details(tenant: Tenant) -> None:
    details = tenant.get("users/ada@contoso.example/licenseDetails").json()["value"]
    e3 = next(d for d in details if d["skuPartNumber"] == "ENTERPRISEPACK")
    status = {p["servicePlanName"]: p["provisioningStatus"] for p in e3["servicePlans"]}
    assert status["YAMMER_ENTERPRISE"] == "Disabled" and status["TEAMS1"] == "Success"
    assert {d["skuPartNumber"] for d in details} == {"ENTERPRISEPACK", "EMSPREMIUM"}


def test_group_license_applies_to_members_with_assigned_by_group(tenant: Tenant) -> None:
    group_id = tenant.group_id("grp-platform")
    body = {"addLicenses": [{"skuId": EMS, "disabledPlans": []}], "removeLicenses": []}
    before = seats(tenant)["EMSPREMIUM"][1]
    newly_licensed = set(tenant.store.members[group_id]) - tenant.store.licensing.seat_holders[EMS]
    response = tenant.call("POST", f"groups/{group_id}/assignLicense", json=body)
    assert response.status_code == 202 and response.headers["location"]
    assert response.json()["licenseProcessingState"] == {"state": "QueuedForProcessing"}
    group = tenant.get(f"groups/{group_id}?$select=assignedLicenses,licenseProcessingState").json()
    assert group["licenseProcessingState"] == {"state": "ProcessingComplete"}
    states = tenant.get("users/alex@contoso.example?$select=licenseAssignmentStates").json()
    assert {"assignedByGroup": group_id, "skuId": EMS} in [
        {"assignedByGroup": s["assignedByGroup"], "skuId": s["skuId"]}
        for s in states["licenseAssignmentStates"]
    ]
    assert seats(tenant)["EMSPREMIUM"][1] == before + len(newly_licensed)


def test_group_license_beyond_seats_gives_count_violation(tenant: Tenant) -> None:
    group_id = tenant.group_id("grp-finance")  # security-enabled: group licensing needs that
    tenant.store.skus[E5]["prepaidUnits"]["enabled"] = 20  # 17 used: the group's 4 new holders do not fit
    body = {"addLicenses": [{"skuId": E5, "disabledPlans": []}], "removeLicenses": []}
    assert tenant.call("POST", f"groups/{group_id}/assignLicense", json=body).status_code == 202
    prepaid, consumed = seats(tenant)["SPE_E5"]
    assert consumed <= prepaid
    errors = [
        s
        for uid in tenant.store.members[group_id]
        for s in tenant.get(f"users/{uid}?$select=licenseAssignmentStates").json()["licenseAssignmentStates"]
        if s["error"] == "CountViolation"
    ]
    assert consumed == prepaid and errors and errors[0]["state"] == "Error"


def test_membership_change_moves_group_license(tenant: Tenant) -> None:
    ems = tenant.group_id("grp-lic-ems")
    lynne = tenant.user_id("lynne@contoso.example")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{lynne}"}
    assert tenant.call("POST", f"groups/{ems}/members/$ref", json=ref).status_code == 204
    licenses = tenant.get(f"users/{lynne}?$select=assignedLicenses").json()["assignedLicenses"]
    assert [lic["skuId"] for lic in licenses] == [EMS]
    assert tenant.call("DELETE", f"groups/{ems}/members/{lynne}/$ref").status_code == 204
    assert tenant.get(f"users/{lynne}?$select=assignedLicenses").json()["assignedLicenses"] == []


def test_license_details_count_and_item(tenant: Tenant) -> None:
    count = tenant.get(
        "users/ada@contoso.example/licenseDetails/$count", headers={"ConsistencyLevel": "eventual"}
    )
    assert count.text == "2"
    detail = tenant.get("users/ada@contoso.example/licenseDetails").json()["value"][0]
    one = tenant.get(f"users/ada@contoso.example/licenseDetails/{detail['id']}").json()
    assert one["skuId"] == detail["skuId"]
    assert tenant.get("users/ada@contoso.example/licenseDetails/nope").status_code == 404
