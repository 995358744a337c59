"""/groups: list, get, create (with binds), update (bulk member binds), delete, members and owners."""

from __future__ import annotations

import re

from reconciler.emulator import audit, member_types
from reconciler.emulator.context import EmulatorContext
from reconciler.emulator.objects import new_group
from reconciler.emulator.router import Handler, Route
from reconciler.emulator.routes import common
from reconciler.emulator.routes.common import bad_request, find_group, not_found
from reconciler.emulator.types import GraphApiError, GraphRequest, GraphResponse, Json

READ = (
    "GroupMember.Read.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
CREATE = ("Group.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All")
WRITE = ("Group.ReadWrite.All", "Directory.ReadWrite.All")
MEMBER_WRITE = ("GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All")

ROLE_MANAGEMENT = "RoleManagement.ReadWrite.Directory"
_ACTIVITY = {
    ("members", True): "Add member to group",
    ("members", False): "Remove member from group",
    ("owners", True): "Add owner to group",
    ("owners", False): "Remove owner from group",
}
MAX_BINDS = 20
_NICKNAME_FORBIDDEN = re.compile(r"[@()\\\[\]\";:.<>, ]|[^\x00-\x7f]")
_WRITABLE = frozenset(
    {
        "description",
        "displayName",
        "groupTypes",
        "mailEnabled",
        "mailNickname",
        "securityEnabled",
        "visibility",
        "isAssignableToRole",
        "membershipRule",
        "membershipRuleProcessingState",
        "preferredDataLocation",
        "preferredLanguage",
        "classification",
        "theme",
    }
)
_BINDS = {"members@odata.bind": "members", "owners@odata.bind": "owners"}
REPLICATING = "The source resource object or one of the objects being referenced don't exist."
# Graph creates and changes only Microsoft 365 and security groups (group-post-groups; groups-overview). The
# text is Graph's as observed (microsoftgraph/microsoft-graph-docs-contrib#8276, #3748).
MAIL_ENABLED_WRITE = (
    "The service does not currently support writes of mail-enabled groups. Please ensure that the "
    "mail-enablement property is unset and the security-enablement property is set."
)


def invalid_value(prop: str) -> GraphApiError:
    return bad_request(f"Invalid value specified for property '{prop}' of resource 'Group'.")


def already_exists(relation: str) -> GraphApiError:
    return bad_request(
        "One or more added object references already exist for the following modified properties: "
        f"'{relation}'."
    )


def check_values(body: Json, creating: bool) -> None:
    for prop, value in body.items():
        if prop in _BINDS:
            continue
        if prop not in _WRITABLE:
            raise bad_request(
                f"Property '{prop}' is read-only or does not exist on type 'microsoft.graph.group'."
            )
        if prop == "displayName" and (not isinstance(value, str) or not value.strip() or len(value) > 256):
            raise invalid_value(prop)
        if prop == "mailNickname" and (
            not isinstance(value, str) or not value or len(value) > 64 or _NICKNAME_FORBIDDEN.search(value)
        ):
            raise invalid_value(prop)
        if prop in ("mailEnabled", "securityEnabled") and not isinstance(value, bool):
            raise invalid_value(prop)
        if prop == "groupTypes" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise invalid_value(prop)
    if creating:
        for prop in ("displayName", "mailEnabled", "mailNickname", "securityEnabled"):
            if prop not in body:
                raise invalid_value(prop)


def bind_targets(ctx: EmulatorContext, body: Json, group: Json) -> list[tuple[str, str]]:
    """The (relation, object id) pairs of `members@odata.bind` / `owners@odata.bind`, all checked first:
    Graph applies them all or none (group-post-members, example 2). `group` may be one being created."""
    pairs: list[tuple[str, str]] = []
    for key, relation in _BINDS.items():
        urls = body.get(key)
        if urls is None:
            continue
        if not isinstance(urls, list):
            raise bad_request(f"Invalid value for '{key}': an array of URLs is expected.")
        pairs.extend((relation, common.ref_target(url)) for url in urls)
    if any(relation == "members" for relation, _ in pairs):
        refusal = member_types.members_refusal(group)
        if refusal is not None:
            raise refusal
    if len(pairs) > MAX_BINDS:
        raise bad_request(
            f"The request contains {len(pairs)} references; at most {MAX_BINDS} can be added in one request."
        )
    existing = group["id"] in ctx.store.groups
    now = ctx.now()
    for relation, oid in pairs:
        kind = ctx.store.kind_of(oid)
        if kind is None:
            raise not_found(oid)
        if not ctx.store.is_visible(oid, now):
            raise bad_request(REPLICATING)
        check_edge(ctx, group, relation, oid, kind)
        if (
            existing
            and oid in (ctx.store.members if relation == "members" else ctx.store.owners)[group["id"]]
        ):
            raise already_exists(relation)
    if len(set(pairs)) != len(pairs):
        raise already_exists(pairs[0][0])
    return pairs


def check_edge(ctx: EmulatorContext, group: Json, relation: str, oid: str, kind: str) -> None:
    """Graph's rules on who may be a member (member_types) or an owner (group-post-owners: users and
    service principals; the emulator holds no service principals)."""
    if relation == "owners":
        if kind != "user":
            raise bad_request(f"Invalid object identifier '{oid}'.")
        return
    refusal = member_types.membership_refusal(group, kind, ctx.store.get(oid))
    if refusal is not None:
        raise refusal


def check_role_management(req: GraphRequest, group: Json) -> None:
    """Creating a role-assignable group, and adding or removing its members, needs RoleManagement.
    ReadWrite.Directory besides (group-post-groups; group-post-members and group-delete-members:
    "the calling user must also be assigned the RoleManagement.ReadWrite.Directory permission")."""
    if group.get("isAssignableToRole") and (req.app is None or ROLE_MANAGEMENT not in req.app.roles):
        raise GraphApiError(
            403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
        )


def note_edge(
    ctx: EmulatorContext, req: GraphRequest, relation: str, group: Json, oid: str, added: bool
) -> None:
    """The audit record of one member or owner added or removed: both ends are its targets."""
    kind = ctx.store.kind_of(oid) or "user"
    other = ctx.store.get(oid) or {"id": oid}
    targets = [audit.object_target(kind, other), audit.group_target(group)]
    audit.note(req, _ACTIVITY[relation, added], targets)


def check_proxy_conflict(ctx: EmulatorContext, group: Json) -> None:
    mail = group.get("mail")
    if not mail:
        return
    for other in ctx.store.groups.values():
        if other["id"] != group["id"] and (other.get("mail") or "").lower() == mail.lower():
            raise bad_request(
                "Another object with the same value for property proxyAddresses already exists.",
                [{"target": "proxyAddresses", "code": "ObjectConflict"}],
            )


# ---- handlers ------------------------------------------------------------------------------------


def _render_with_expand(
    ctx: EmulatorContext, req: GraphRequest, group: Json, select: list[str] | None
) -> Json:
    out = common.render(ctx.store, "group", group, select)
    raw = req.query.get("$expand")
    if raw:
        match = re.match(r"^(members|owners)(?:\(\$select=([^)]*)\))?$", raw.strip())
        if match is None:
            raise bad_request(f"Could not find a property named '{raw}' on type 'microsoft.graph.group'.")
        names = [s.strip() for s in match.group(2).split(",")] if match.group(2) else None
        related = ctx.store.members if match.group(1) == "members" else ctx.store.owners
        # Graph expands at most 100 related objects (Graph docs: concepts/paging, known issue 13635).
        ids = list(related.get(group["id"], {}))[:100]
        out[match.group(1)] = [common.render_any(ctx.store, oid, names) for oid in ids]
    return out


def list_groups(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    select = common.parse_select(req, "group")
    matches = common.query_matcher(ctx, req, "group")
    items = common.ordered(ctx, req, "group", ctx.store.listing("group"))
    context = common.selected_fragment(req, "groups")
    return common.page(ctx, req, items, lambda g: _render_with_expand(ctx, req, g, select), context, matches)


def count_groups(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    return common.count_response(ctx, req, ctx.store.listing("group"), "group")


def get_group(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    group = find_group(ctx, params["id"])
    body: Json = {
        "@odata.context": common.context_url(req, common.selected_fragment(req, "groups", entity=True))
    }
    body.update(_render_with_expand(ctx, req, group, common.parse_select(req, "group", single=True)))
    return GraphResponse(200, body)


def create_group(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    body = common.body_of(req)
    check_values(body, creating=True)
    check_role_management(req, body)
    unified = "Unified" in (body.get("groupTypes") or [])
    if body["mailEnabled"] and not unified:
        raise bad_request(MAIL_ENABLED_WRITE)
    domain = ctx.store.organization["verifiedDomains"][0]["name"]
    props = {k: v for k, v in body.items() if k not in _BINDS}
    group = new_group(common.new_object_id(ctx), common.iso_now(ctx), domain, props)
    check_proxy_conflict(ctx, group)
    pairs = bind_targets(ctx, body, group)
    visible_at = ctx.now() + ctx.config.lag_ms / 1000 if ctx.config.lag_ms else 0.0
    ctx.store.save("group", group, visible_at)
    created = [audit.modified(name, None, group.get(name)) for name in sorted(props)]
    audit.note(req, "Add group", [audit.group_target(group, created)])
    for relation, oid in pairs:
        ctx.store.add_edge(relation, group["id"], oid)
        note_edge(ctx, req, relation, group, oid, added=True)
    out: Json = {
        "@odata.context": common.context_url(req, "groups/$entity"),
        "@odata.id": f"{req.base_url}/directoryObjects/{group['id']}/Microsoft.DirectoryServices.Group",
    }
    out.update(common.render(ctx.store, "group", group, None))
    return GraphResponse(201, out)


def update_group(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    group = find_group(ctx, params["id"])
    body = common.body_of(req)
    check_values(body, creating=False)
    if member_types.is_read_only(group):
        raise bad_request(member_types.READ_ONLY_GROUP)
    changes = {k: v for k, v in body.items() if k not in _BINDS}
    updated = group | changes
    if member_types.is_read_only(updated):
        raise bad_request(MAIL_ENABLED_WRITE)
    pairs = bind_targets(ctx, body, updated)
    if any(relation == "members" for relation, _ in pairs):
        check_role_management(req, group)
    if changes:
        ctx.store.save("group", updated)
        modified = audit.changes(group, updated, sorted(changes))
        audit.note(req, "Update group", [audit.group_target(updated, modified)])
    for relation, oid in pairs:
        ctx.store.add_edge(relation, group["id"], oid)
        note_edge(ctx, req, relation, updated, oid, added=True)
    return GraphResponse(204)


def delete_group(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    group = find_group(ctx, params["id"])
    if group.get("assignedLicenses"):
        # Entra refuses to delete a group that still assigns licenses, so that members keep their service.
        raise bad_request("The group has licenses assigned; remove them before deleting the group.")
    # Microsoft 365 groups go to deletedItems for 30 days; security groups are deleted permanently.
    unified = "Unified" in (group.get("groupTypes") or [])
    ctx.store.delete(group["id"], soft=unified, deleted_at=common.iso_now(ctx))
    # Entra logs "Delete group" for a soft and a hard delete alike (Entra docs: recover-from-deletions).
    audit.note(req, "Delete group", [audit.group_target(group)])
    return GraphResponse(204)


def _list_refs(relation: str) -> Handler:
    """`GET …/members/$ref`: the related objects as a page of directoryObject URLs."""

    def handler(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
        group = find_group(ctx, params["id"])
        related = ctx.store.members if relation == "members" else ctx.store.owners
        items = [{"id": oid} for oid in related[group["id"]]]
        prefix = f"{req.base_url}/directoryObjects/"
        response = common.page(ctx, req, items, lambda item: {"id": item["id"]}, "Collection(string)")
        response.body["value"] = [prefix + item["id"] for item in response.body["value"]]
        return response

    return handler


def _add_ref(relation: str) -> Handler:
    def handler(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
        group = ctx.store.groups.get(params["id"])
        if group is None:
            raise not_found(params["id"])
        oid = common.ref_target(common.body_of(req).get("@odata.id"))
        kind = ctx.store.kind_of(oid)
        if kind is None:
            raise not_found(oid)
        now = ctx.now()
        if not ctx.store.is_visible(group["id"], now) or not ctx.store.is_visible(oid, now):
            raise bad_request(REPLICATING)
        check_edge(ctx, group, relation, oid, kind)
        if relation == "members":
            check_role_management(req, group)
        if oid in (ctx.store.members if relation == "members" else ctx.store.owners)[group["id"]]:
            raise already_exists(relation)
        ctx.store.add_edge(relation, group["id"], oid)
        note_edge(ctx, req, relation, group, oid, added=True)
        return GraphResponse(204)

    return handler


def _remove_ref(relation: str) -> Handler:
    def handler(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
        group = find_group(ctx, params["id"])
        oid = params["member_id"]
        related = (ctx.store.members if relation == "members" else ctx.store.owners)[group["id"]]
        if oid not in related:
            raise not_found(oid)
        refusal = member_types.members_refusal(group) if relation == "members" else None
        if refusal is not None:
            raise refusal
        if relation == "members":
            check_role_management(req, group)
        if relation == "owners" and len(related) == 1:
            raise bad_request("The group must have at least one owner, hence this owner cannot be removed.")
        ctx.store.remove_edge(relation, group["id"], oid)
        note_edge(ctx, req, relation, group, oid, added=False)
        return GraphResponse(204)

    return handler


ROUTES = [
    Route("GET", "/groups", list_groups, READ),
    Route("GET", "/groups/$count", count_groups, READ),
    Route("POST", "/groups", create_group, CREATE, write=True),
    Route("GET", "/groups/{id}", get_group, READ),
    Route("PATCH", "/groups/{id}", update_group, WRITE, write=True),
    Route("DELETE", "/groups/{id}", delete_group, WRITE, write=True),
    Route("GET", "/groups/{id}/members/$ref", _list_refs("members"), READ, cost=3),
    Route("GET", "/groups/{id}/owners/$ref", _list_refs("owners"), READ),
    Route("POST", "/groups/{id}/members/$ref", _add_ref("members"), MEMBER_WRITE, write=True),
    Route(
        "DELETE", "/groups/{id}/members/{member_id}/$ref", _remove_ref("members"), MEMBER_WRITE, write=True
    ),
    Route("POST", "/groups/{id}/owners/$ref", _add_ref("owners"), MEMBER_WRITE, write=True),
    Route("DELETE", "/groups/{id}/owners/{member_id}/$ref", _remove_ref("owners"), MEMBER_WRITE, write=True),
]
