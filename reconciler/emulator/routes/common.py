"""What every route shares: Graph's error bodies, object rendering with $select, and paged collections."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from reconciler.emulator import odata
from reconciler.emulator.context import EmulatorContext
from reconciler.emulator.objects import COMPUTED, NOT_RENDERED
from reconciler.emulator.properties import (
    GROUP_DEFAULT,
    GROUP_MAILBOX_PROPS,
    GROUP_PROPS,
    USER_DEFAULT,
    USER_NOT_LISTABLE,
    USER_PROPS,
    USER_SIGN_IN_ACTIVITY,
)
from reconciler.emulator.store import Store
from reconciler.emulator.types import GraphApiError, GraphRequest, GraphResponse, Json

AUDIT_LOG_READ = "AuditLog.Read.All"


def iso_now(ctx: EmulatorContext) -> str:
    return datetime.fromtimestamp(ctx.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def not_found(oid: str) -> GraphApiError:
    return GraphApiError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{oid}' does not exist or one of its queried reference-property objects are not present.",
    )


def bad_request(message: str, details: list[dict[str, str]] | None = None) -> GraphApiError:
    return GraphApiError(400, "Request_BadRequest", message, details)


def body_of(req: GraphRequest) -> Json:
    if not isinstance(req.body, dict):
        raise bad_request("Empty Payload. JSON content expected.")
    # msgraph-sdk sends the type annotation ("#microsoft.graph.user") in every create and update body.
    return {k: v for k, v in req.body.items() if k != "@odata.type"}


def new_object_id(ctx: EmulatorContext) -> str:
    """A fresh id from the emulator's RNG; never one in use, deleted or remembered by delta (the RNG
    restarts when the runtime config changes, so it can repeat itself)."""
    store = ctx.store
    while True:
        oid = str(uuid.UUID(int=ctx.rng.getrandbits(128), version=4))
        if store.kind_of(oid) is None and oid not in store.deleted and oid not in store.tombstones:
            return oid


def odata_type(kind: str) -> str:
    return f"#microsoft.graph.{kind}"


# ---- lookups honouring replication lag -----------------------------------------------------------


def find_user(ctx: EmulatorContext, key: str) -> Json:
    # A guest's UPN holds `#EXT#`, which a URL must carry percent-encoded (%23EXT%23).
    user_id = ctx.store.user_id_for(unquote(key))
    if user_id is None or not ctx.store.is_visible(user_id, ctx.now()):
        raise not_found(key)
    return ctx.store.users[user_id]


def check_object_id(oid: str) -> None:
    """Object ids are GUIDs; Graph rejects anything else before looking (users take a UPN instead)."""
    try:
        uuid.UUID(oid)
    except ValueError:
        raise bad_request(f"Invalid object identifier '{oid}'.") from None


def find_group(ctx: EmulatorContext, group_id: str) -> Json:
    check_object_id(group_id)
    group = ctx.store.groups.get(group_id)
    if group is None or not ctx.store.is_visible(group_id, ctx.now()):
        raise not_found(group_id)
    return group


def find_object(ctx: EmulatorContext, oid: str) -> tuple[str, Json]:
    check_object_id(oid)
    kind = ctx.store.kind_of(oid)
    if kind is None or not ctx.store.is_visible(oid, ctx.now()):
        raise not_found(oid)
    return kind, ctx.store.users[oid] if kind == "user" else ctx.store.groups[oid]


_REF_ID = re.compile(r"/(directoryObjects|users|groups)/([^/?]+)/?$")


def ref_target(value: Any) -> str:
    """The object id of an `@odata.id` / `@odata.bind` URL."""
    match = _REF_ID.search(str(value)) if isinstance(value, str) else None
    if match is None:
        raise bad_request(f"Invalid object identifier '{value}'.")
    if match.group(1) != "users":
        check_object_id(match.group(2))
    return match.group(2)


# ---- rendering -----------------------------------------------------------------------------------


def user_getter(store: Store) -> odata.Getter:
    def get(user: Json, name: str) -> Any:
        if name == "assignedLicenses":
            return store.licensing.assigned_licenses(user["id"])
        if name == "licenseAssignmentStates":
            return store.licensing.license_states(user["id"])
        if name == "assignedPlans":
            return store.licensing.assigned_plans(user["id"])
        return user.get(name)

    return get


def group_getter(store: Store) -> odata.Getter:
    def get(group: Json, name: str) -> Any:
        if name == "hasMembersWithLicenseErrors":
            return store.licensing.has_members_with_errors(group["id"])
        return group.get(name, GROUP_MAILBOX_PROPS.get(name))

    return get


def parse_select(req: GraphRequest, kind: str, single: bool = False) -> list[str] | None:
    """The `$select`ed names, checked against the property catalogue; `single`: a GET of one object."""
    raw = req.query.get("$select")
    if not raw:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    known = USER_PROPS if kind == "user" else GROUP_PROPS
    for name in names:
        if name not in known:
            raise GraphApiError(
                400,
                "BadRequest",
                f"Could not find a property named '{name}' on type 'microsoft.graph.{kind}'.",
            )
        if kind == "user" and name in USER_NOT_LISTABLE and not single:
            raise GraphApiError(501, "NotImplemented", "This operation target is not yet supported.")
        if (
            kind == "user"
            and name == USER_SIGN_IN_ACTIVITY
            and (req.app is None or AUDIT_LOG_READ not in req.app.roles)
        ):
            raise GraphApiError(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )
    return names


# employeeLeaveDateTime: read with either, written with the second only (Graph docs: resources/user).
LIFECYCLE_READ = ("User-LifeCycleInfo.Read.All", "User-LifeCycleInfo.ReadWrite.All")
LIFECYCLE_WRITE = "User-LifeCycleInfo.ReadWrite.All"


def hide_lifecycle(req: GraphRequest, user: Json) -> Json:
    """A rendered user as an app without a lifecycle permission sees it: without its leave date.

    Graph documents the permission a read needs, not what it answers without one; the emulator answers as
    for an unset date, so a reader that is not allowed to know learns nothing."""
    if user.get("employeeLeaveDateTime") is not None and (
        req.app is None or not req.app.roles.intersection(LIFECYCLE_READ)
    ):
        user["employeeLeaveDateTime"] = None
    return user


def render(store: Store, kind: str, obj: Json, select: list[str] | None, typed: bool = False) -> Json:
    """An object as Graph returns it: the default property set, or exactly the `$select`ed ones."""
    names = select if select is not None else (USER_DEFAULT if kind == "user" else GROUP_DEFAULT)
    out: Json = {"@odata.type": odata_type(kind)} if typed else {}
    computed = COMPUTED[kind]
    get = obj.get
    for name in names:
        if name in computed:
            out[name] = (user_getter(store) if kind == "user" else group_getter(store))(obj, name)
        elif name not in NOT_RENDERED:
            out[name] = get(name)
    return out


def render_any(store: Store, oid: str, select: list[str] | None = None) -> Json:
    """A member of a directoryObject collection: typed, and for users with `accountEnabled` as well."""
    kind = store.kind_of(oid)
    assert kind is not None
    if kind == "user":
        return render(store, kind, store.users[oid], select or [*USER_DEFAULT, "accountEnabled"], typed=True)
    return render(store, kind, store.groups[oid], select, typed=True)


def context_url(req: GraphRequest, fragment: str) -> str:
    return f"{req.base_url}/$metadata#{fragment}"


def selected_fragment(req: GraphRequest, entity_set: str, entity: bool = False) -> str:
    """`users(id,displayName)[/$entity]`: Graph names the `$select`ed properties in `@odata.context`."""
    raw = req.query.get("$select")
    selected = f"({','.join(n.strip() for n in raw.split(',') if n.strip())})" if raw else ""
    return f"{entity_set}{selected}" + ("/$entity" if entity else "")


# ---- collections ---------------------------------------------------------------------------------


def page(
    ctx: EmulatorContext,
    req: GraphRequest,
    items: list[Json],
    render_item: Callable[[Json], Json],
    context: str,
    matches: Callable[[Json], bool] | None = None,
    max_page: int = odata.MAX_PAGE,
    default_page: int = odata.DEFAULT_PAGE,
) -> GraphResponse:
    """One page of `items` (in a stable order) with `$top`, `$skiptoken` and `@odata.count`.

    The skiptoken carries the position and the id of the last item returned, so a page stays correct when
    items before it were added or removed meanwhile.
    """
    if "$skip" in req.query:
        raise bad_request("'$skip' is not supported by the service.")
    size = odata.page_size(req, default_page, max_page)
    start = 0
    token = req.query.get("$skiptoken")
    if token:
        state = odata.decode_token(token)
        start = int(state.get("i", 0))
        last = state.get("l")
        if last is not None and not (0 < start <= len(items) and items[start - 1]["id"] == last):
            start = next((n + 1 for n, item in enumerate(items) if item["id"] == last), start)
    now = ctx.now()
    lagging = bool(ctx.store.visible_at)
    chosen: list[Json] = []
    index = start
    more = False
    while index < len(items):
        item = items[index]
        index += 1
        if lagging and not ctx.store.is_visible(item["id"], now):
            continue
        if matches is not None and not matches(item):
            continue
        if len(chosen) == size:
            more = True
            index -= 1
            break
        chosen.append(item)
    body: Json = {"@odata.context": context_url(req, context)}
    if not token and odata.is_advanced(req):
        body["@odata.count"] = sum(
            1
            for item in items
            if (not lagging or ctx.store.is_visible(item["id"], now)) and (matches is None or matches(item))
        )
    if more:
        body["@odata.nextLink"] = odata.next_link(
            req, "$skiptoken", odata.encode_token({"i": index, "l": chosen[-1]["id"]})
        )
    body["value"] = [render_item(item) for item in chosen]
    return GraphResponse(200, body)


def query_matcher(ctx: EmulatorContext, req: GraphRequest, kind: str) -> Callable[[Json], bool] | None:
    """The `$filter` and `$search` of a request as one predicate (None: everything matches)."""
    get = user_getter(ctx.store) if kind == "user" else group_getter(ctx.store)
    predicates = []
    if req.query.get("$filter"):
        predicates.append(odata.compile_filter(req.query["$filter"], kind, odata.is_advanced(req), get))
    if req.query.get("$search"):
        if not odata.has_eventual(req):
            raise GraphApiError(
                400,
                "Request_UnsupportedQuery",
                "Request with $search query parameter only works through MSGraph with a special request "
                "header: 'ConsistencyLevel: eventual'",
            )
        predicates.append(odata.compile_search(req.query["$search"], get))
    if not predicates:
        return None
    if len(predicates) == 1:
        return predicates[0]
    first, second = predicates
    return lambda o: first(o) and second(o)


def ordered(ctx: EmulatorContext, req: GraphRequest, kind: str, items: Iterable[Json]) -> list[Json]:
    order = odata.parse_orderby(req, kind)
    listed = items if isinstance(items, list) else list(items)
    if order is None:
        return listed
    prop, descending = order
    get = user_getter(ctx.store) if kind == "user" else group_getter(ctx.store)

    def key(obj: Json) -> tuple[bool, str]:
        value = get(obj, prop)
        return (value is None, str(value).casefold() if value is not None else "")

    return sorted(listed, key=key, reverse=descending)


def count_response(ctx: EmulatorContext, req: GraphRequest, items: list[Json], kind: str) -> GraphResponse:
    """The `/$count` segment: text/plain, only with `ConsistencyLevel: eventual`."""
    if not odata.has_eventual(req):
        raise bad_request("$count is not currently supported.")
    matches = query_matcher(ctx, req, kind)
    now = ctx.now()
    total = sum(1 for i in items if ctx.store.is_visible(i["id"], now) and (matches is None or matches(i)))
    return GraphResponse(200, str(total))


def related_page(
    ctx: EmulatorContext, req: GraphRequest, ids: list[str], kind: str | None, count: bool = False
) -> GraphResponse:
    """A directoryObject collection (members, owners, memberOf…), optionally cast to users or groups."""
    store = ctx.store
    items = [obj for oid in ids if (kind is None or store.kind_of(oid) == kind) and (obj := store.get(oid))]
    if count:
        return count_response(ctx, req, items, kind or "user")
    raw = req.query.get("$select")
    names = [n.strip() for n in raw.split(",") if n.strip()] if raw else None
    by_kind = {k: query_matcher(ctx, req, k) for k in ((kind,) if kind else ("user", "group"))}
    matches = None
    if any(m is not None for m in by_kind.values()):

        def matches(obj: Json) -> bool:
            predicate = by_kind.get("user" if obj["id"] in store.users else "group")
            return predicate is None or predicate(obj)

    items = ordered(ctx, req, kind or "user", items)
    context = selected_fragment(req, f"{kind}s") if kind else "directoryObjects"
    return page(ctx, req, items, lambda o: render_any(store, o["id"], names), context, matches)
