"""/auditLogs/directoryAudits: the tenant's directory audit log, newest first (Graph docs:
directoryaudit-list, directoryaudit-get, resources/directoryaudit).

Records become visible `audit_delay_s` (admin config) after their activityDateTime, as real audit logs lag.
Both AuditLog.Read.All and Directory.Read.All are needed: directoryaudit-list's least privileged application
permissions are the pair, with no higher one.
"""

from __future__ import annotations

from reconciler.emulator.context import EmulatorContext
from reconciler.emulator.flatfilter import Filterable, compile_flat
from reconciler.emulator.router import Route
from reconciler.emulator.routes import common
from reconciler.emulator.types import GraphApiError, GraphRequest, GraphResponse, Json

AUDIT_LOG_READ = "AuditLog.Read.All"
DIRECTORY_READ = frozenset({"Directory.Read.All", "Directory.ReadWrite.All"})
# Microsoft documents no bound for $top here; the emulator takes 1-1000, the most the reporting API was
# observed to return in one page (Azure/azure-docs-powershell-azuread#409).
MAX_PAGE = 1000
DEFAULT_PAGE = 1000
_EQ = frozenset({"eq"})
_EQ_START = frozenset({"eq", "startswith"})
_TIME = frozenset({"eq", "ge", "le", "gt", "lt"})
# directoryaudit-list ("Attributes supported by $filter parameter") and resources/directoryaudit; gt and lt on
# activityDateTime as clients use them.
FILTERS: Filterable = {
    "id": _EQ,
    "activityDisplayName": _EQ_START,
    "activityDateTime": _TIME,
    "category": _EQ,
    "correlationId": _EQ,
    "loggedByService": _EQ,
    "result": _EQ,
    "initiatedBy/user/id": _EQ,
    "initiatedBy/user/displayName": _EQ,
    "initiatedBy/user/userPrincipalName": _EQ_START,
    "initiatedBy/app/appId": _EQ,
    "initiatedBy/app/displayName": _EQ,
    "targetResources": frozenset({"any"}),
    "targetResources/id": _EQ,
    "targetResources/displayName": _EQ_START,
}
PROPERTIES = frozenset(
    {"id", "category", "correlationId", "result", "resultReason", "activityDisplayName", "activityDateTime",
     "loggedByService", "operationType", "initiatedBy", "targetResources", "additionalDetails"}
)  # fmt: skip
CONTEXT = "auditLogs/directoryAudits"


def _check_permissions(req: GraphRequest) -> None:
    roles = req.app.roles if req.app is not None else frozenset()
    if AUDIT_LOG_READ not in roles or roles.isdisjoint(DIRECTORY_READ):
        raise GraphApiError(
            403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
        )


def _select(req: GraphRequest) -> list[str] | None:
    raw = req.query.get("$select")
    if not raw:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    for name in names:
        if name not in PROPERTIES:
            raise GraphApiError(
                400,
                "BadRequest",
                f"Could not find a property named '{name}' on type 'microsoft.graph.directoryAudit'.",
            )
    return names


def _visible(ctx: EmulatorContext, req: GraphRequest) -> list[Json]:
    records = ctx.store.audit.visible(ctx.now(), ctx.config.audit_delay_s)
    order = (req.query.get("$orderby") or req.query.get("$orderBy") or "").split()
    if order:
        if order[0] != "activityDateTime":
            raise GraphApiError(400, "Request_UnsupportedQuery", "Sorting not supported for current query.")
        if len(order) < 2 or order[1].lower() != "desc":
            records.reverse()
    return records


def list_audits(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    _check_permissions(req)
    select = _select(req)
    raw = req.query.get("$filter")
    matches = compile_flat(raw, FILTERS, "DirectoryAudit", frozenset({"activityDateTime"})) if raw else None

    def render(record: Json) -> Json:
        return dict(record) if select is None else {n: record.get(n) for n in select}

    return common.page(
        ctx,
        req,
        _visible(ctx, req),
        render,
        common.selected_fragment(req, CONTEXT),
        matches,
        max_page=MAX_PAGE,
        default_page=DEFAULT_PAGE,
    )


def get_audit(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    _check_permissions(req)
    record = next((r for r in _visible(ctx, req) if r["id"] == params["id"]), None)
    if record is None:
        raise common.not_found(params["id"])
    select = _select(req)
    body: Json = {
        "@odata.context": common.context_url(req, common.selected_fragment(req, CONTEXT, entity=True))
    }
    body.update(record if select is None else {n: record.get(n) for n in select})
    return GraphResponse(200, body)


ROUTES = [
    # No route-level roles: the handler asks for both permissions, which an any-of list cannot say.
    Route("GET", "/auditLogs/directoryAudits", list_audits, ()),
    Route("GET", "/auditLogs/directoryAudits/{id}", get_audit, ()),
]
