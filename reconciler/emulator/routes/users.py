"""/users: list, get (by id or UPN), create, update, delete, memberOf, manager, directReports, sessions."""

from __future__ import annotations

import re
from typing import Any

from reconciler.emulator import audit
from reconciler.emulator.context import EmulatorContext
from reconciler.emulator.instants import graph_instant
from reconciler.emulator.objects import new_user
from reconciler.emulator.router import Route
from reconciler.emulator.routes import common
from reconciler.emulator.routes.common import bad_request, find_user, not_found
from reconciler.emulator.types import GraphApiError, GraphRequest, GraphResponse, Json

READ = ("User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
WRITE = ("User.ReadWrite.All", "Directory.ReadWrite.All")
DELETE = ("User.DeleteRestore.All", "User.ReadWrite.All", "Directory.ReadWrite.All")

_UPN = re.compile(r"^[A-Za-z0-9'.\-_!#^~]+@([A-Za-z0-9.-]+)$")
_REQUIRED = ("accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile")
# What a client may write; everything else in properties.USER_PROPS is read-only or computed.
_WRITABLE = frozenset(
    {
        "accountEnabled",
        "businessPhones",
        "city",
        "companyName",
        "country",
        "department",
        "displayName",
        "employeeHireDate",
        "employeeId",
        "employeeLeaveDateTime",
        "employeeOrgData",
        "employeeType",
        "givenName",
        "jobTitle",
        "mail",
        "mailNickname",
        "mobilePhone",
        "officeLocation",
        "onPremisesExtensionAttributes",
        "onPremisesImmutableId",
        "otherMails",
        "passwordPolicies",
        "passwordProfile",
        "postalCode",
        "preferredLanguage",
        "showInAddressList",
        "state",
        "streetAddress",
        "surname",
        "usageLocation",
        "userPrincipalName",
        "userType",
        "ageGroup",
        "faxNumber",
    }
)
# Attributes Entra Connect masters for on-premises synced users; the cloud may still set these others.
_CLOUD_WRITABLE_WHEN_SYNCED = frozenset(
    {"usageLocation", "passwordPolicies", "passwordProfile", "preferredLanguage"}
)
_EXPAND = re.compile(r"^(\w+)(?:\(([^)]*)\))?$")
# user-list-manager: "$levels: max, or a number between 1 and 1000"; only the manager chain takes it.
MAX_LEVELS = 1000
# Maximum lengths in characters (Graph docs: resources/user, "Properties").
_MAX_LENGTH = {
    "city": 128,
    "companyName": 64,
    "country": 128,
    "department": 64,
    "displayName": 256,
    "employeeId": 16,
    "givenName": 64,
    "jobTitle": 128,
    "mailNickname": 64,
    "mobilePhone": 64,
    "postalCode": 40,
    "state": 128,
    "streetAddress": 1024,
    "surname": 64,
}
_INSTANTS = ("employeeHireDate", "employeeLeaveDateTime")
_ORG_DATA_KEYS = frozenset({"division", "costCenter"})
EXTENSION_KEYS = tuple(f"extensionAttribute{n}" for n in range(1, 16))
_EXTENSION_MAX = 1024  # characters each (Graph docs: resources/onpremisesextensionattributes)
_PASSWORD_POLICIES = frozenset({"DisablePasswordExpiration", "DisableStrongPassword"})
_MAIL = re.compile(r"[!-~]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")  # no accents (resources/user: mail, otherMails)


def invalid_value(prop: str) -> GraphApiError:
    return bad_request(f"Invalid value specified for property '{prop}' of resource 'User'.")


def check_upn(ctx: EmulatorContext, upn: Any, own_id: str | None) -> str:
    if not isinstance(upn, str):
        raise invalid_value("userPrincipalName")
    match = _UPN.match(upn)
    if match is None:
        raise invalid_value("userPrincipalName")
    verified = {d["name"].lower() for d in ctx.store.organization.get("verifiedDomains", [])}
    if match.group(1).lower() not in verified:
        raise bad_request(
            "The domain portion of the userPrincipalName property is invalid. You must use one of the "
            "verified domain names in your organization."
        )
    existing = ctx.store.upn_index.get(upn.lower())
    if existing is not None and existing != own_id:
        raise bad_request(
            "Another object with the same value for property userPrincipalName already exists.",
            [{"target": "userPrincipalName", "code": "ObjectConflict"}],
        )
    return upn


def check_values(body: Json) -> None:
    for prop, value in body.items():
        if prop not in _WRITABLE:
            raise bad_request(
                f"Property '{prop}' is read-only or does not exist on type 'microsoft.graph.user'."
            )
        if prop == "displayName" and (not isinstance(value, str) or not value.strip()):
            raise invalid_value(prop)
        if prop == "accountEnabled" and not isinstance(value, bool):
            raise invalid_value(prop)
        if prop == "usageLocation" and value is not None and not re.fullmatch(r"[A-Za-z]{2}", str(value)):
            raise invalid_value(prop)
        if prop == "passwordProfile" and (not isinstance(value, dict) or not value.get("password")):
            raise invalid_value(prop)
        if prop == "passwordProfile":
            check_password(str(value["password"]))
        if value is not None:
            body[prop] = _checked(prop, value)


def _checked(prop: str, value: Any) -> Any:
    """`value` as Graph keeps it, or the 400 Graph answers for it."""
    if prop in _MAX_LENGTH and (not isinstance(value, str) or len(value) > _MAX_LENGTH[prop]):
        raise invalid_value(prop)
    if prop in _INSTANTS:
        return _instant(prop, value)
    if prop in ("mail", "otherMails"):
        addresses = value if prop == "otherMails" else [value]
        if not isinstance(addresses, list) or not all(
            isinstance(a, str) and _MAIL.fullmatch(a) for a in addresses
        ):
            raise invalid_value(prop)
    if prop == "passwordPolicies":
        policies = [p.strip() for p in value.split(",")] if isinstance(value, str) else [None]
        if not set(policies) <= _PASSWORD_POLICIES or len(set(policies)) != len(policies):
            raise invalid_value(prop)
    if prop == "employeeOrgData":
        _check_complex(prop, value, _ORG_DATA_KEYS, None)
    if prop == "onPremisesExtensionAttributes":
        _check_complex(prop, value, frozenset(EXTENSION_KEYS), _EXTENSION_MAX)
    return value


def _instant(prop: str, value: Any) -> str:
    instant = graph_instant(value) if isinstance(value, str) else None
    if instant is None:
        raise invalid_value(prop)
    return instant


def _check_complex(prop: str, value: Any, keys: frozenset[str], max_length: int | None) -> None:
    if not isinstance(value, dict):
        raise invalid_value(prop)
    for key, item in value.items():
        if key not in keys:
            raise bad_request(
                f"Property '{key}' does not exist as a declared property or extension property."
            )
        if item is not None and (not isinstance(item, str) or (max_length and len(item) > max_length)):
            raise invalid_value(prop)


def merge_complex(user: Json, body: Json) -> Json:
    """A PATCH of a complex property sets the keys it names and keeps the others (OData: PATCH of a
    complex value); null clears the whole value."""
    merged = dict(body)
    for prop in ("employeeOrgData", "onPremisesExtensionAttributes"):
        if isinstance(body.get(prop), dict):
            merged[prop] = {**(user.get(prop) or {}), **body[prop]}
        elif prop in body and prop == "onPremisesExtensionAttributes":
            merged[prop] = dict.fromkeys(EXTENSION_KEYS)  # Graph returns the 15 keys, unset ones null
    return merged


def check_lifecycle_write(req: GraphRequest, body: Json) -> None:
    if "employeeLeaveDateTime" in body and (req.app is None or common.LIFECYCLE_WRITE not in req.app.roles):
        raise GraphApiError(
            403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
        )


def check_password(password: str) -> None:
    """Entra's rule: 8 to 256 characters from at least three of lowercase, uppercase, digits, symbols."""
    classes = (str.islower, str.isupper, str.isdigit, lambda ch: not ch.isalnum())
    used = sum(1 for is_class in classes if any(is_class(ch) for ch in password))
    if not 8 <= len(password) <= 256 or used < 3:
        raise bad_request(
            "The specified password does not comply with password complexity requirements. "
            "Please provide a different password."
        )


def _expand_options(raw: str, text: str) -> tuple[list[str] | None, int | None]:
    """The `$select` and `$levels` inside `name(...)`, separated by `;` as OData writes them."""
    select: list[str] | None = None
    levels: int | None = None
    for option in (o.strip() for o in text.split(";") if o.strip()):
        key, _, value = option.partition("=")
        if key == "$select":
            select = [s.strip() for s in value.split(",") if s.strip()]
        elif key == "$levels" and (value == "max" or (value.isdigit() and 1 <= int(value) <= MAX_LEVELS)):
            levels = MAX_LEVELS if value == "max" else int(value)
        else:
            raise bad_request(f"Invalid $expand option '{option}' in '{raw}'.")
    return select, levels


def expand(ctx: EmulatorContext, req: GraphRequest, user: Json, out: Json) -> Json:
    raw = req.query.get("$expand")
    if not raw:
        return out
    match = _EXPAND.match(raw.strip())
    if match is None or match.group(1) not in ("manager", "memberOf", "directReports"):
        raise bad_request(f"Could not find a property named '{raw}' on type 'microsoft.graph.user'.")
    name = match.group(1)
    select, levels = _expand_options(raw, match.group(2) or "")
    if levels is not None and name != "manager":
        raise bad_request(f"Invalid $expand option '$levels' in '{raw}'.")
    store = ctx.store
    if name == "manager":
        # Without $levels only the immediate manager (user-list-manager); with it, each manager carries its
        # own, up to the top of the chain (a cycle, which Graph forbids, stops where it closes).
        into, current, seen = out, user["id"], {user["id"]}
        for _ in range(levels or 1):
            manager_id = store.manager.get(current)
            if manager_id is None or manager_id in seen:
                break
            into["manager"] = common.render_any(store, manager_id, select)
            into, current = into["manager"], manager_id
            seen.add(manager_id)
    elif name == "memberOf":
        out["memberOf"] = [
            common.render_any(store, g, select) for g in sorted(store.member_of.get(user["id"], ()))
        ]
    else:
        out["directReports"] = [
            common.render_any(store, r, select) for r in sorted(store.reports.get(user["id"], ()))
        ]
    return out


# ---- handlers ------------------------------------------------------------------------------------


def list_users(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    select = common.parse_select(req, "user")
    matches = common.query_matcher(ctx, req, "user")
    items = common.ordered(ctx, req, "user", ctx.store.listing("user"))
    store = ctx.store

    def render_item(user: Json) -> Json:
        return common.hide_lifecycle(req, expand(ctx, req, user, common.render(store, "user", user, select)))

    return common.page(ctx, req, items, render_item, common.selected_fragment(req, "users"), matches)


def count_users(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    return common.count_response(ctx, req, ctx.store.listing("user"), "user")


def get_user(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    user = find_user(ctx, params["id"])
    select = common.parse_select(req, "user", single=True)
    body: Json = {
        "@odata.context": common.context_url(req, common.selected_fragment(req, "users", entity=True))
    }
    body.update(
        common.hide_lifecycle(req, expand(ctx, req, user, common.render(ctx.store, "user", user, select)))
    )
    return GraphResponse(200, body)


def create_user(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    body = common.body_of(req)
    for prop in _REQUIRED:
        if body.get(prop) in (None, ""):
            raise invalid_value(prop)
    check_values(body)
    check_lifecycle_write(req, body)
    upn = check_upn(ctx, body["userPrincipalName"], None)
    props = {k: v for k, v in body.items() if k != "passwordProfile"} | {"userPrincipalName": upn}
    if "onPremisesExtensionAttributes" in props:  # Graph returns the 15 keys, unset ones null
        props["onPremisesExtensionAttributes"] = {
            **dict.fromkeys(EXTENSION_KEYS),
            **(props["onPremisesExtensionAttributes"] or {}),
        }
    user = new_user(common.new_object_id(ctx), common.iso_now(ctx), props)
    visible_at = ctx.now() + ctx.config.lag_ms / 1000 if ctx.config.lag_ms else 0.0
    ctx.store.save("user", user, visible_at)
    created = [audit.modified(name, None, user.get(name)) for name in sorted(props)]
    audit.note(req, "Add user", [audit.user_target(user, created)])
    out: Json = {"@odata.context": common.context_url(req, "users/$entity")}
    out.update(common.render(ctx.store, "user", user, None))
    return GraphResponse(201, out)


def update_user(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    user = find_user(ctx, params["id"])
    body = common.body_of(req)
    check_values(body)
    check_lifecycle_write(req, body)
    if user.get("onPremisesSyncEnabled") and set(body) - _CLOUD_WRITABLE_WHEN_SYNCED:
        raise bad_request(
            "Unable to update the specified properties for on-premises mastered Directory Sync objects or "
            "objects currently undergoing migration."
        )
    if "userPrincipalName" in body:
        check_upn(ctx, body["userPrincipalName"], user["id"])
    updated = dict(user)
    updated.update({k: v for k, v in merge_complex(user, body).items() if k != "passwordProfile"})
    ctx.store.save("user", updated)
    note_update(req, user, updated, body)
    return GraphResponse(204)


def note_update(req: GraphRequest, before: Json, after: Json, body: Json) -> None:
    """The audit records of a PATCH: "Update user" naming each changed property, "Disable account" or
    "Enable account" when accountEnabled flips, "Reset password" for a new password (never its value)."""
    names = sorted(set(body) - {"passwordProfile"})
    if names:
        audit.note(req, "Update user", [audit.user_target(after, audit.changes(before, after, names))])
    if before.get("accountEnabled") != after.get("accountEnabled"):
        flip = [audit.modified("accountEnabled", before.get("accountEnabled"), after["accountEnabled"])]
        activity = "Enable account" if after["accountEnabled"] else "Disable account"
        audit.note(req, activity, [audit.user_target(after, flip)])
    if "passwordProfile" in body:
        audit.note(req, "Reset password", [audit.user_target(after)])


def delete_user(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    user = find_user(ctx, params["id"])
    ctx.store.delete(user["id"], soft=True, deleted_at=common.iso_now(ctx))
    audit.note(req, "Delete user", [audit.user_target(user)])
    return GraphResponse(204)


def get_manager(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    user = find_user(ctx, params["id"])
    manager_id = ctx.store.manager.get(user["id"])
    if manager_id is None:
        raise not_found("manager")
    body: Json = {"@odata.context": common.context_url(req, "directoryObjects/$entity")}
    body.update(common.render_any(ctx.store, manager_id, common.parse_select(req, "user")))
    return GraphResponse(200, body)


def set_manager(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    user = find_user(ctx, params["id"])
    manager_id = common.ref_target(common.body_of(req).get("@odata.id"))
    manager = find_user(ctx, manager_id)
    if manager["id"] == user["id"]:
        raise bad_request("Invalid value specified for property 'manager' of resource 'User'.")
    before = ctx.store.manager.get(user["id"])
    if before != manager["id"]:
        ctx.store.add_edge("manager", user["id"], manager["id"])
    changed = [audit.modified("manager", before, manager["id"])]
    audit.note(req, "Set user manager", [audit.user_target(user, changed), audit.user_target(manager)])
    return GraphResponse(204)


def remove_manager(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    user = find_user(ctx, params["id"])
    manager_id = ctx.store.manager.get(user["id"])
    if manager_id is None:
        raise not_found("manager")
    ctx.store.remove_edge("manager", user["id"], manager_id)
    changed = [audit.modified("manager", manager_id, None)]
    manager = ctx.store.users[manager_id]
    audit.note(req, "Remove user manager", [audit.user_target(user, changed), audit.user_target(manager)])
    return GraphResponse(204)


def revoke_sessions(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    before = find_user(ctx, params["id"])
    user = dict(before)
    user["signInSessionsValidFromDateTime"] = common.iso_now(ctx)
    ctx.store.save("user", user)
    changed = audit.changes(before, user, ["signInSessionsValidFromDateTime"])
    audit.note(req, "Update StsRefreshTokenValidFrom Timestamp", [audit.user_target(user, changed)])
    return GraphResponse(200, {"@odata.context": common.context_url(req, "Edm.Boolean"), "value": True})


def delegated_only(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    raise GraphApiError(400, "BadRequest", "/me request is only valid with delegated authentication flow.")


ROUTES = [
    # The emulator issues app-only tokens: there is no signed-in user for /me.
    *[
        Route(method, template, delegated_only, ())
        for template in ("/me", "/me/{relation}", "/me/{relation}/{more}")
        for method in ("GET", "POST", "PATCH", "PUT", "DELETE")
    ],
    Route("GET", "/users", list_users, READ, cost=2),
    Route("GET", "/users/$count", count_users, READ),
    Route("POST", "/users", create_user, WRITE, write=True),
    Route("GET", "/users/{id}", get_user, READ),
    Route("PATCH", "/users/{id}", update_user, ("User.ReadWrite.All", "Directory.ReadWrite.All"), write=True),
    Route("DELETE", "/users/{id}", delete_user, DELETE, write=True),
    Route("GET", "/users/{id}/manager", get_manager, READ),
    Route("PUT", "/users/{id}/manager/$ref", set_manager, WRITE, write=True),
    Route("DELETE", "/users/{id}/manager/$ref", remove_manager, WRITE, write=True),
    Route(
        "POST",
        "/users/{id}/revokeSignInSessions",
        revoke_sessions,
        ("User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All"),
        write=True,
    ),
]
