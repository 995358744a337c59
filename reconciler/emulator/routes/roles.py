"""Directory roles: /roleManagement/directory/roleDefinitions (the built-in roles, read-only) and
/roleManagement/directory/roleAssignments (list, get, create, delete).

Graph docs: rbacapplication-list-roledefinitions, unifiedroledefinition-get, rbacapplication-list-
roleassignments, unifiedroleassignment-get, rbacapplication-post-roleassignments,
unifiedroleassignment-delete, resources/unifiedroleassignment. Principals are users and role-assignable
groups (the emulator holds no service principals). Scopes are the tenant ("/") and administrative units
("/administrativeUnits/{id}"); the emulator keeps no administrative units, so any such id is taken.
"""

from __future__ import annotations

import re

from reconciler.emulator import audit, roledefs
from reconciler.emulator.context import EmulatorContext
from reconciler.emulator.flatfilter import Filterable, compile_flat
from reconciler.emulator.roles import TENANT_SCOPE, new_assignment
from reconciler.emulator.router import Route
from reconciler.emulator.routes import common
from reconciler.emulator.routes.common import bad_request, not_found
from reconciler.emulator.types import GraphApiError, GraphRequest, GraphResponse, Json

# Least privileged first, as each page's permissions table lists them.
DEFINITIONS_READ = (
    "RoleManagement.Read.Directory",
    "Directory.Read.All",
    "RoleManagement.ReadWrite.Directory",
    "Directory.ReadWrite.All",
)
ASSIGNMENTS_READ = (
    "RoleManagement.Read.Directory",
    "RoleManagement.Read.All",
    "Directory.Read.All",
    "RoleManagement.ReadWrite.Directory",
    "Directory.ReadWrite.All",
)
ASSIGNMENTS_WRITE = ("RoleManagement.ReadWrite.Directory",)

BASE = "/roleManagement/directory"
_EQ_IN = frozenset({"eq", "in"})
# rbacapplication-list-roledefinitions: "$filter (eq and in) on id, displayName, and isBuiltIn".
DEFINITION_FILTERS: Filterable = {
    "id": _EQ_IN,
    "displayName": _EQ_IN,
    "isBuiltIn": _EQ_IN,
    "templateId": _EQ_IN,
}
# resources/unifiedroleassignment: each of these "Supports $filter (eq, in)".
ASSIGNMENT_FILTERS: Filterable = {
    "id": _EQ_IN,
    "principalId": _EQ_IN,
    "roleDefinitionId": _EQ_IN,
    "directoryScopeId": _EQ_IN,
    "appScopeId": _EQ_IN,
}
DEFINITION_PROPS = frozenset(
    {"id", "description", "displayName", "isBuiltIn", "isEnabled", "resourceScopes", "rolePermissions",
     "templateId", "version"}
)  # fmt: skip
ASSIGNMENT_PROPS = frozenset(
    {"id", "principalId", "roleDefinitionId", "directoryScopeId", "appScopeId", "resourceScope"}
)
_SCOPE = re.compile(r"^/administrativeUnits/[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_WRITABLE = frozenset({"roleDefinitionId", "principalId", "directoryScopeId", "appScopeId"})

# Observed from Graph (Microsoft365DSC/Microsoft365DSC#879; hashicorp/terraform-provider-azuread#651).
NOT_ROLE_ASSIGNABLE = "Groups without IsAssignableToRole property set cannot be assigned to roles."
# Observed from Graph for an assignment that exists already (dod-ccpo/atat#1554, 2020), no details.
CONFLICT = (
    "A conflicting object with one or more of the specified property values is present in the directory."
)


def _select(req: GraphRequest, known: frozenset[str], kind: str) -> list[str] | None:
    raw = req.query.get("$select")
    if not raw:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    for name in names:
        if name not in known:
            raise GraphApiError(
                400,
                "BadRequest",
                f"Could not find a property named '{name}' on type 'microsoft.graph.{kind}'.",
            )
    return names if "id" in names else ["id", *names]


def _pick(obj: Json, names: list[str] | None) -> Json:
    return dict(obj) if names is None else {n: obj.get(n) for n in names}


# ---- role definitions ------------------------------------------------------------------------------


def list_definitions(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    select = _select(req, DEFINITION_PROPS, "unifiedRoleDefinition")
    raw = req.query.get("$filter")
    matches = compile_flat(raw, DEFINITION_FILTERS, "UnifiedRoleDefinition") if raw else None
    context = common.selected_fragment(req, f"{BASE[1:]}/roleDefinitions")
    items = roledefs.definitions()
    return common.page(ctx, req, items, lambda d: _pick(d, select), context, matches)


def get_definition(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    found = roledefs.definition(params["id"])
    if found is None:
        raise not_found(params["id"])
    context = common.selected_fragment(req, f"{BASE[1:]}/roleDefinitions", entity=True)
    body: Json = {"@odata.context": common.context_url(req, context)}
    body.update(_pick(found, _select(req, DEFINITION_PROPS, "unifiedRoleDefinition")))
    return GraphResponse(200, body)


# ---- role assignments ------------------------------------------------------------------------------


def _expand(ctx: EmulatorContext, req: GraphRequest) -> bool:
    raw = (req.query.get("$expand") or "").strip()
    if not raw:
        return False
    if raw != "principal":
        raise bad_request(
            f"Could not find a property named '{raw}' on type 'microsoft.graph.unifiedRoleAssignment'."
        )
    return True


def _render(ctx: EmulatorContext, assignment: Json, select: list[str] | None, expand: bool) -> Json:
    out = _pick(assignment, select)
    if expand and ctx.store.kind_of(assignment["principalId"]) is not None:
        out["principal"] = common.render_any(ctx.store, assignment["principalId"])
    return out


def _context(req: GraphRequest, expand: bool, entity: bool = False) -> str:
    fragment = common.selected_fragment(req, f"{BASE[1:]}/roleAssignments")
    if expand:
        fragment += "(principal())"
    return fragment + ("/$entity" if entity else "")


def list_assignments(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    select = _select(req, ASSIGNMENT_PROPS, "unifiedRoleAssignment")
    expand = _expand(ctx, req)
    raw = req.query.get("$filter")
    matches = compile_flat(raw, ASSIGNMENT_FILTERS, "UnifiedRoleAssignment") if raw else None
    items = ctx.store.roles.listing()
    return common.page(
        ctx, req, items, lambda a: _render(ctx, a, select, expand), _context(req, expand), matches
    )


def _assignment(ctx: EmulatorContext, assignment_id: str) -> Json:
    found = ctx.store.roles.by_id.get(assignment_id)
    if found is None:
        raise not_found(assignment_id)
    return found


def get_assignment(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    assignment = _assignment(ctx, params["id"])
    expand = _expand(ctx, req)
    select = _select(req, ASSIGNMENT_PROPS, "unifiedRoleAssignment")
    body: Json = {"@odata.context": common.context_url(req, _context(req, expand, entity=True))}
    body.update(_render(ctx, assignment, select, expand))
    return GraphResponse(200, body)


def _invalid(prop: str) -> GraphApiError:
    # Graph documents no text for these refusals; this is the directory's wording for a bad value.
    return bad_request(f"Invalid value specified for property '{prop}' of resource 'UnifiedRoleAssignment'.")


def _principal(ctx: EmulatorContext, principal_id: object) -> tuple[str, Json]:
    if not isinstance(principal_id, str) or not principal_id:
        raise _invalid("principalId")
    common.check_object_id(principal_id)
    kind = ctx.store.kind_of(principal_id)
    if kind is None or not ctx.store.is_visible(principal_id, ctx.now()):
        raise not_found(principal_id)
    obj = ctx.store.users[principal_id] if kind == "user" else ctx.store.groups[principal_id]
    if kind == "group" and not obj.get("isAssignableToRole"):
        raise bad_request(NOT_ROLE_ASSIGNABLE)
    return kind, obj


def _scope(body: Json) -> str:
    if body.get("appScopeId") not in (None, ""):
        raise _invalid("appScopeId")  # the directory provider's app scopes need applications
    scope = body.get("directoryScopeId")
    if not isinstance(scope, str) or not (scope == TENANT_SCOPE or _SCOPE.match(scope)):
        raise _invalid("directoryScopeId")
    return (
        scope
        if scope == TENANT_SCOPE
        else scope.lower().replace("/administrativeunits/", "/administrativeUnits/")
    )


def _audit(req: GraphRequest, activity: str, kind: str, principal: Json, role_id: str) -> None:
    targets = [audit.object_target(kind, principal), audit.role_target(role_id, roledefs.role_name(role_id))]
    audit.note(req, activity, targets)


def create_assignment(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    body = common.body_of(req)
    for prop in body:
        if prop not in _WRITABLE:
            raise bad_request(
                f"Property '{prop}' is read-only or does not exist on type "
                "'microsoft.graph.unifiedRoleAssignment'."
            )
    role_id = body.get("roleDefinitionId")
    if not isinstance(role_id, str) or not role_id:
        raise _invalid("roleDefinitionId")
    definition = roledefs.definition(role_id)
    if definition is None:
        # Observed: an unknown role definition is a missing resource (microsoftgraph/microsoft-graph-docs
        # #18218; AlexFilipin/ConditionalAccess#46).
        raise not_found(role_id)
    kind, principal = _principal(ctx, body.get("principalId"))
    scope = _scope(body)
    if ctx.store.roles.find(definition["id"], principal["id"], scope) is not None:
        raise bad_request(CONFLICT)
    assignment = new_assignment(definition["id"], principal["id"], scope)
    ctx.store.roles.add(assignment)
    activity = "Add member to role" if scope == TENANT_SCOPE else "Add scoped member to role"
    _audit(req, activity, kind, principal, definition["id"])
    out: Json = {"@odata.context": common.context_url(req, f"{BASE[1:]}/roleAssignments/$entity")}
    out.update(assignment)
    return GraphResponse(201, out)


def delete_assignment(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    assignment = ctx.store.roles.remove(_assignment(ctx, params["id"])["id"])
    principal_id = assignment["principalId"]
    kind = ctx.store.kind_of(principal_id) or "user"
    principal = ctx.store.get(principal_id) or {"id": principal_id}
    scope = assignment["directoryScopeId"]
    activity = "Remove member from role" if scope == TENANT_SCOPE else "Remove scoped member from role"
    _audit(req, activity, kind, principal, assignment["roleDefinitionId"])
    return GraphResponse(204)


ROUTES = [
    Route("GET", f"{BASE}/roleDefinitions", list_definitions, DEFINITIONS_READ),
    Route("GET", f"{BASE}/roleDefinitions/{{id}}", get_definition, DEFINITIONS_READ),
    Route("GET", f"{BASE}/roleAssignments", list_assignments, ASSIGNMENTS_READ),
    Route("POST", f"{BASE}/roleAssignments", create_assignment, ASSIGNMENTS_WRITE, write=True, strict=True),
    Route("GET", f"{BASE}/roleAssignments/{{id}}", get_assignment, ASSIGNMENTS_READ),
    Route(
        "DELETE",
        f"{BASE}/roleAssignments/{{id}}",
        delete_assignment,
        ASSIGNMENTS_WRITE,
        write=True,
        strict=True,
    ),
]
