"""Licensing: subscribedSkus (seats), user and group assignLicense, licenseDetails."""

from __future__ import annotations

import base64
from typing import Any

from reconciler.emulator import audit, odata
from reconciler.emulator.context import EmulatorContext
from reconciler.emulator.licensing import LICENSE_PROPERTIES
from reconciler.emulator.router import Route
from reconciler.emulator.routes import common
from reconciler.emulator.routes.common import bad_request, find_group, find_user
from reconciler.emulator.types import GraphApiError, GraphRequest, GraphResponse, Json

SKU_READ = (
    "Organization.Read.All",
    "Directory.Read.All",
    "Organization.ReadWrite.All",
    "Directory.ReadWrite.All",
)
ASSIGN = ("LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All")
GROUP_ASSIGN = ("LicenseAssignment.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All")
DETAILS_READ = ("User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")


def render_sku(ctx: EmulatorContext, sku: Json) -> Json:
    out = dict(sku)
    out["consumedUnits"] = ctx.store.licensing.consumed_units(sku["skuId"])
    return out


def list_skus(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    if "$filter" in req.query:
        raise GraphApiError(400, "Request_UnsupportedQuery", "The query specified in the URI is not valid.")
    value = [_select(render_sku(ctx, sku), req) for sku in ctx.store.skus.values()]
    return GraphResponse(200, {"@odata.context": common.context_url(req, "subscribedSkus"), "value": value})


def get_sku(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    sku = next((s for s in ctx.store.skus.values() if s["id"].lower() == params["id"].lower()), None)
    if sku is None:
        raise common.not_found(params["id"])
    body: Json = {"@odata.context": common.context_url(req, "subscribedSkus/$entity")}
    body.update(_select(render_sku(ctx, sku), req))
    return GraphResponse(200, body)


def _select(obj: Json, req: GraphRequest) -> Json:
    raw = req.query.get("$select")
    if not raw:
        return obj
    names = [n.strip() for n in raw.split(",")]
    return {n: obj.get(n) for n in names}


def parse_license_body(ctx: EmulatorContext, body: Json) -> tuple[list[tuple[str, list[str]]], list[str]]:
    missing = [p for p in ("addLicenses", "removeLicenses") if not isinstance(body.get(p), list)]
    if missing:
        raise bad_request(
            "One or more parameters of the function import 'assignLicense' are missing from the request "
            f"payload. The missing parameters are: {', '.join(missing)}."
        )
    adds: list[tuple[str, list[str]]] = []
    for item in body["addLicenses"]:
        sku_id = str(item.get("skuId", "")).lower() if isinstance(item, dict) else ""
        check_sku(ctx, sku_id)
        plans = item.get("disabledPlans") or []
        known = {p["servicePlanId"] for p in ctx.store.skus[sku_id]["servicePlans"]}
        unknown = [p for p in plans if str(p).lower() not in known]
        if unknown:
            raise bad_request(f"Invalid value specified for property 'disabledPlans': '{unknown[0]}'.")
        adds.append((sku_id, [str(p).lower() for p in plans]))
    removes = [str(s).lower() for s in body["removeLicenses"]]
    for sku_id in removes:
        check_sku(ctx, sku_id)
    return adds, removes


def check_sku(ctx: EmulatorContext, sku_id: str) -> None:
    if sku_id not in ctx.store.skus:
        raise bad_request(f"License {sku_id} does not correspond to a valid company License.")


def assign_user_license(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    user = find_user(ctx, params["id"])
    adds, removes = parse_license_body(ctx, common.body_of(req))
    if adds and not user.get("usageLocation"):
        raise bad_request("License assignment cannot be done for user with invalid usage location.")
    store = ctx.store
    before = store.licensing.assigned_licenses(user["id"])
    direct = store.direct_licenses.get(user["id"], {})
    for sku_id in removes:
        if sku_id in direct:
            continue
        if sku_id in store.licensing.effective.get(user["id"], {}):
            raise bad_request(
                "User license is inherited from a group membership and it cannot be removed directly from "
                "the user."
            )
        raise bad_request("User does not have a corresponding license.")
    for sku_id, _ in adds:
        holds_seat = user["id"] in store.licensing.seat_holders.get(sku_id, set())
        prepaid = store.skus[sku_id]["prepaidUnits"]["enabled"]
        freed = 1 if sku_id in removes else 0
        if not holds_seat and store.licensing.consumed_units(sku_id) - freed >= prepaid:
            raise bad_request(f"Subscription {sku_id} does not have any available licenses.")
    for sku_id in removes:
        store.set_direct_license(user["id"], sku_id, None)
    for sku_id, plans in adds:
        store.set_direct_license(user["id"], sku_id, plans)
    after = store.licensing.assigned_licenses(user["id"])
    changed = [audit.modified("assignedLicenses", before, after)] if before != after else []
    audit.note(req, "Change user license", [audit.user_target(user, changed)])
    body: Json = {"@odata.context": common.context_url(req, "users/$entity")}
    # Graph answers with the whole user, licenses included.
    updated = store.users[user["id"]]
    body.update(common.render(store, "user", updated, [*updated, "assignedLicenses", "assignedPlans"]))
    return GraphResponse(200, body)


def assign_group_license(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    group = find_group(ctx, params["id"])
    adds, removes = parse_license_body(ctx, common.body_of(req))
    if adds and not group.get("securityEnabled"):
        # Group-based licensing works only on security groups and security-enabled Microsoft 365 groups.
        raise bad_request("Licenses can be assigned only to security-enabled groups.")
    current: dict[str, list[str]] = {
        lic["skuId"]: list(lic.get("disabledPlans", [])) for lic in group.get("assignedLicenses") or []
    }
    for sku_id in removes:
        current.pop(sku_id, None)
    for sku_id, plans in adds:
        current[sku_id] = plans
    updated = dict(group)
    updated["assignedLicenses"] = [{"disabledPlans": p, "skuId": s} for s, p in current.items()]
    # Graph processes group licenses asynchronously; the emulator finishes at once, so a read after the
    # 202 already sees "ProcessingComplete" and the members' licenses.
    updated["licenseProcessingState"] = {"state": "ProcessingComplete"}
    ctx.store.save("group", updated)
    changed = audit.changes(group, updated, ["assignedLicenses"])
    audit.note(req, "Set group license", [audit.group_target(updated, changed)])
    for member in ctx.store.members[group["id"]]:
        if member in ctx.store.users:
            ctx.store.licensing.refresh(member)
            ctx.store.touch(member, LICENSE_PROPERTIES)
    body: Json = {"@odata.context": common.context_url(req, "groups/$entity")}
    body.update(common.render(ctx.store, "group", updated, None))
    body["assignedLicenses"] = updated["assignedLicenses"]
    body["licenseProcessingState"] = {"state": "QueuedForProcessing"}
    location = f"{req.base_url}/directoryObjects/{group['id']}/Microsoft.DirectoryServices.Group"
    return GraphResponse(202, body, {"Location": location})


def _details(ctx: EmulatorContext, user_id: str) -> list[Json]:
    value = []
    for lic in ctx.store.licensing.assigned_licenses(user_id):
        sku = ctx.store.skus[lic["skuId"]]
        disabled = set(lic["disabledPlans"])
        value.append(
            {
                "id": _detail_id(user_id, sku["skuId"]),
                "skuId": sku["skuId"],
                "skuPartNumber": sku["skuPartNumber"],
                "servicePlans": [
                    {
                        **plan,
                        "provisioningStatus": "Disabled" if plan["servicePlanId"] in disabled else "Success",
                    }
                    for plan in sku["servicePlans"]
                ],
            }
        )
    return value


def license_details(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    user = find_user(ctx, params["id"])
    context = common.context_url(req, f"users('{user['id']}')/licenseDetails")
    return GraphResponse(200, {"@odata.context": context, "value": _details(ctx, user["id"])})


def count_license_details(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    user = find_user(ctx, params["id"])
    if not odata.has_eventual(req):
        raise bad_request("$count is not currently supported.")
    return GraphResponse(200, str(len(_details(ctx, user["id"]))))


def get_license_detail(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    user = find_user(ctx, params["id"])
    detail = next((d for d in _details(ctx, user["id"]) if d["id"] == params["detail_id"]), None)
    if detail is None:
        raise common.not_found(params["detail_id"])
    context = common.context_url(req, f"users('{user['id']}')/licenseDetails/$entity")
    return GraphResponse(200, {"@odata.context": context, **detail})


def _detail_id(user_id: str, sku_id: str) -> str:
    raw: Any = bytes.fromhex(user_id.replace("-", "")) + bytes.fromhex(sku_id.replace("-", ""))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


ROUTES = [
    Route("GET", "/subscribedSkus", list_skus, SKU_READ, cost=3),
    Route("GET", "/subscribedSkus/{id}", get_sku, SKU_READ),
    Route("POST", "/users/{id}/assignLicense", assign_user_license, ASSIGN, write=True),
    Route("GET", "/users/{id}/licenseDetails", license_details, DETAILS_READ, cost=2),
    Route("GET", "/users/{id}/licenseDetails/$count", count_license_details, DETAILS_READ, cost=2),
    Route("GET", "/users/{id}/licenseDetails/{detail_id}", get_license_detail, DETAILS_READ, cost=2),
    Route("POST", "/groups/{id}/assignLicense", assign_group_license, GROUP_ASSIGN, write=True),
]
