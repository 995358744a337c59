"""directory/deletedItems (list by type, get, restore, permanent delete), directoryObjects, organization."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.emulator import audit, odata
from reconciler.emulator.context import EmulatorContext
from reconciler.emulator.router import Handler, Route
from reconciler.emulator.routes import common
from reconciler.emulator.routes.common import bad_request, not_found
from reconciler.emulator.types import GraphApiError, GraphRequest, GraphResponse, Json

DELETED_READ = (
    "User.DeleteRestore.All",
    "Group.ReadWrite.All",
    "User.ReadWrite.All",
    "User.Read.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
# Listing deleted items needs the read permission of the type listed (directory-deleteditems-list).
DELETED_LIST_READ = {
    "user": ("User.Read.All", "User.DeleteRestore.All", "User.ReadWrite.All", "Directory.Read.All"),
    "group": ("Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All"),
}
DELETED_WRITE = (
    "User.DeleteRestore.All",
    "Group.ReadWrite.All",
    "User.ReadWrite.All",
    "Directory.ReadWrite.All",
)
OBJECTS_READ = ("Directory.Read.All", "Directory.ReadWrite.All")
ORG_READ = (
    "Organization.Read.All",
    "Directory.Read.All",
    "Organization.ReadWrite.All",
    "Directory.ReadWrite.All",
)
MAX_IDS = 1000


def _deleted_view(record: Json, select: list[str] | None) -> Json:
    props = dict(record["props"])
    props["deletedDateTime"] = record["deletedDateTime"]
    if select is None:
        return {"@odata.type": common.odata_type(record["kind"]), **props}
    return {"@odata.type": common.odata_type(record["kind"]), **{n: props.get(n) for n in select}}


def _select(req: GraphRequest) -> list[str] | None:
    raw = req.query.get("$select")
    if not raw:
        return None
    names = [n.strip() for n in raw.split(",")]
    # Graph matches property names case-insensitively here (the docs' own example asks for DisplayName).
    canonical = {"displayname": "displayName", "deleteddatetime": "deletedDateTime", "id": "id"}
    return [canonical.get(n.lower(), n) for n in names] + ([] if "id" in names else ["id"])


RETENTION_S = 30 * 24 * 3600


def _expire(ctx: EmulatorContext) -> None:
    """Deleted items are kept 30 days, then deleted permanently."""
    now = ctx.now()
    for oid, record in list(ctx.store.deleted.items()):
        deleted_at = datetime.strptime(record["deletedDateTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if now - deleted_at.timestamp() > RETENTION_S:
            ctx.store.purge(oid)


def _deleted_of(ctx: EmulatorContext, kind: str | None) -> list[Json]:
    _expire(ctx)
    return [r | {"id": oid} for oid, r in ctx.store.deleted.items() if kind is None or r["kind"] == kind]


def _list_deleted(kind: str | None) -> Handler:
    def handler(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
        if kind is None:
            raise bad_request(
                "The OData cast type is required: list /directory/deletedItems/microsoft.graph.user or "
                "/directory/deletedItems/microsoft.graph.group."
            )
        records = _deleted_of(ctx, kind)
        order = (req.query.get("$orderby") or req.query.get("$orderBy") or "").split()
        if order and order[0] not in ("displayName", "userPrincipalName") and not odata.is_advanced(req):
            raise GraphApiError(400, "Request_UnsupportedQuery", "Sorting not supported for current query.")
        if order:
            records.sort(key=lambda r: str(r["props"].get(order[0], r.get(order[0])) or ""))
            if len(order) > 1 and order[1].lower() == "desc":
                records.reverse()
        select = _select(req)
        context = {"user": "users", "group": "groups", None: "directoryObjects"}[kind]
        return common.page(ctx, req, records, lambda r: _deleted_view(r, select), context)

    return handler


def _count_deleted(kind: str) -> Handler:
    def handler(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
        if not odata.has_eventual(req):
            raise bad_request("$count is not currently supported.")
        return GraphResponse(200, str(len(_deleted_of(ctx, kind))))

    return handler


def _deleted_record(ctx: EmulatorContext, oid: str) -> Json:
    _expire(ctx)
    record = ctx.store.deleted.get(oid)
    if record is None:
        raise not_found(oid)
    return record


def _get_deleted(kind: str | None) -> Handler:
    def handler(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
        record = _deleted_record(ctx, params["id"])
        if kind is not None and record["kind"] != kind:
            raise not_found(params["id"])
        body: Json = {"@odata.context": common.context_url(req, "directoryObjects/$entity")}
        body.update(_deleted_view(record, _select(req)))
        return GraphResponse(200, body)

    return handler


def restore_deleted(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    record = _deleted_record(ctx, params["id"])
    props = record["props"]
    if record["kind"] == "user" and props["userPrincipalName"].lower() in ctx.store.upn_index:
        raise bad_request(
            "Another object with the same value for property userPrincipalName already exists.",
            [{"target": "userPrincipalName", "code": "ObjectConflict"}],
        )
    ctx.store.restore(params["id"])
    kind = record["kind"]
    audit.note(req, f"Restore {kind}", [audit.object_target(kind, {"id": params["id"], **props})])
    body: Json = {"@odata.context": common.context_url(req, "directoryObjects/$entity")}
    body.update(common.render_any(ctx.store, params["id"]))
    return GraphResponse(200, body)


def purge_deleted(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    record = _deleted_record(ctx, params["id"])
    ctx.store.purge(params["id"])
    kind = record["kind"]
    audit.note(
        req, f"Hard Delete {kind}", [audit.object_target(kind, {"id": params["id"], **record["props"]})]
    )
    return GraphResponse(204)


def get_by_ids(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    body = common.body_of(req)
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids:
        raise bad_request("Invalid value specified for property 'ids' of resource 'directoryObject'.")
    if len(ids) > MAX_IDS:
        raise bad_request(f"The number of ids must not exceed {MAX_IDS}.")
    types = {str(t).lower().removeprefix("microsoft.graph.") for t in body.get("types") or ["user", "group"]}
    select = _select(req)
    now = ctx.now()
    value = []
    for oid in ids:
        kind = ctx.store.kind_of(str(oid))
        if kind in types and ctx.store.is_visible(str(oid), now):
            value.append(common.render_any(ctx.store, str(oid), select))
    return GraphResponse(200, {"@odata.context": common.context_url(req, "directoryObjects"), "value": value})


def get_directory_object(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    common.find_object(ctx, params["id"])
    body: Json = {"@odata.context": common.context_url(req, "directoryObjects/$entity")}
    body.update(common.render_any(ctx.store, params["id"], _select(req)))
    return GraphResponse(200, body)


def list_organization(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    org = ctx.store.organization
    return GraphResponse(200, {"@odata.context": common.context_url(req, "organization"), "value": [org]})


def get_organization(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    if params["id"].lower() != ctx.store.tenant_id:
        raise not_found(params["id"])
    body: Json = {"@odata.context": common.context_url(req, "organization/$entity")}
    body.update(ctx.store.organization)
    return GraphResponse(200, body)


ROUTES = [
    Route("GET", "/directory/deletedItems", _list_deleted(None), DELETED_READ),
    *[
        route
        for kind in ("user", "group")
        for cast in (f"microsoft.graph.{kind}", f"graph.{kind}")
        for route in (
            Route("GET", f"/directory/deletedItems/{cast}", _list_deleted(kind), DELETED_LIST_READ[kind]),
            Route(
                "GET", f"/directory/deletedItems/{cast}/$count", _count_deleted(kind), DELETED_LIST_READ[kind]
            ),
            Route("GET", f"/directory/deletedItems/{{id}}/{cast}", _get_deleted(kind), DELETED_READ),
        )
    ],
    Route("GET", "/directory/deletedItems/{id}", _get_deleted(None), DELETED_READ),
    Route("POST", "/directory/deletedItems/{id}/restore", restore_deleted, DELETED_WRITE, write=True),
    Route("DELETE", "/directory/deletedItems/{id}", purge_deleted, DELETED_WRITE, write=True),
    Route("POST", "/directoryObjects/getByIds", get_by_ids, OBJECTS_READ, cost=5),
    Route("GET", "/directoryObjects/{id}", get_directory_object, OBJECTS_READ),
    Route("GET", "/organization", list_organization, ORG_READ),
    Route("GET", "/organization/{id}", get_organization, ORG_READ),
]
