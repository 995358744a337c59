"""Read-only relationship collections: a user's memberOf, transitiveMemberOf and directReports, a group's
members, transitiveMembers, owners, memberOf and transitiveMemberOf.

Each one is served as Graph (and the SDK, which writes casts as `graph.user`) addresses it: the collection,
`/$count`, the type casts `/microsoft.graph.user|group` (and `/graph.user|group`) with their `/$count`, and
one member by id, optionally cast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reconciler.emulator.context import EmulatorContext
from reconciler.emulator.router import Handler, Route
from reconciler.emulator.routes import common
from reconciler.emulator.types import GraphRequest, GraphResponse

USER_READ = ("User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
MEMBERSHIP_READ = ("GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", *USER_READ)
GROUP_READ = ("GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All")

Related = Callable[[EmulatorContext, str], list[str]]


def transitive_groups(ctx: EmulatorContext, oid: str) -> list[str]:
    """Every group `oid` belongs to, directly or through nested groups."""
    seen: set[str] = set()
    frontier = set(ctx.store.member_of.get(oid, ()))
    while frontier:
        group_id = frontier.pop()
        if group_id not in seen:
            seen.add(group_id)
            frontier.update(ctx.store.member_of.get(group_id, ()))
    return sorted(seen)


def transitive_members(ctx: EmulatorContext, group_id: str) -> list[str]:
    """Every member of `group_id` and of the groups nested in it, each once (cycles are tolerated)."""
    seen: dict[str, None] = {}
    stack = [group_id]
    visited = {group_id}
    while stack:
        for oid in ctx.store.members.get(stack.pop(), {}):
            seen.setdefault(oid, None)
            if oid in ctx.store.groups and oid not in visited:
                visited.add(oid)
                stack.append(oid)
    return list(seen)


def owned_groups(ctx: EmulatorContext, user_id: str) -> list[str]:
    return sorted(group_id for group_id, owners in ctx.store.owners.items() if user_id in owners)


@dataclass(frozen=True)
class Relation:
    parent: str  # "users" or "groups"
    name: str
    related: Related
    casts: tuple[str, ...]  # the kinds it may hold
    permissions: tuple[str, ...]
    cost: int = 1


RELATIONS = (
    Relation(
        "users", "memberOf", lambda c, i: sorted(c.store.member_of.get(i, ())), ("group",), MEMBERSHIP_READ, 2
    ),
    Relation("users", "transitiveMemberOf", transitive_groups, ("group",), MEMBERSHIP_READ, 2),
    Relation("users", "directReports", lambda c, i: sorted(c.store.reports.get(i, ())), ("user",), USER_READ),
    Relation("users", "ownedObjects", lambda c, i: owned_groups(c, i), ("group",), MEMBERSHIP_READ, 2),
    Relation("groups", "members", lambda c, i: list(c.store.members[i]), ("user", "group"), GROUP_READ, 3),
    Relation("groups", "transitiveMembers", transitive_members, ("user", "group"), GROUP_READ, 5),
    Relation("groups", "owners", lambda c, i: list(c.store.owners[i]), ("user", "group"), GROUP_READ),
    Relation("groups", "memberOf", lambda c, i: sorted(c.store.member_of.get(i, ())), ("group",), GROUP_READ),
    Relation("groups", "transitiveMemberOf", transitive_groups, ("group",), GROUP_READ),
)


def _parent_id(ctx: EmulatorContext, relation: Relation, key: str) -> str:
    found = common.find_user(ctx, key) if relation.parent == "users" else common.find_group(ctx, key)
    return str(found["id"])


def _collection(relation: Relation, kind: str | None, count: bool) -> Handler:
    def handler(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
        ids = relation.related(ctx, _parent_id(ctx, relation, params["id"]))
        return common.related_page(ctx, req, ids, kind, count)

    return handler


def _item(relation: Relation, kind: str | None) -> Handler:
    def handler(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
        member_id = params["member_id"]
        ids = relation.related(ctx, _parent_id(ctx, relation, params["id"]))
        if member_id not in ids or (kind is not None and ctx.store.kind_of(member_id) != kind):
            raise common.not_found(member_id)
        raw = req.query.get("$select")
        names = [n.strip() for n in raw.split(",") if n.strip()] if raw else None
        body = {"@odata.context": common.context_url(req, "directoryObjects/$entity")}
        body.update(common.render_any(ctx.store, member_id, names))
        return GraphResponse(200, body)

    return handler


def _routes(relation: Relation) -> list[Route]:
    base = f"/{relation.parent}/{{id}}/{relation.name}"
    routes = [
        Route("GET", base, _collection(relation, None, False), relation.permissions, relation.cost),
        Route(
            "GET", f"{base}/$count", _collection(relation, None, True), relation.permissions, relation.cost
        ),
        Route("GET", f"{base}/{{member_id}}", _item(relation, None), relation.permissions),
    ]
    for kind in relation.casts:
        for cast in (f"microsoft.graph.{kind}", f"graph.{kind}"):
            routes += [
                Route(
                    "GET",
                    f"{base}/{cast}",
                    _collection(relation, kind, False),
                    relation.permissions,
                    relation.cost,
                ),
                Route(
                    "GET",
                    f"{base}/{cast}/$count",
                    _collection(relation, kind, True),
                    relation.permissions,
                    relation.cost,
                ),
                Route("GET", f"{base}/{{member_id}}/{cast}", _item(relation, kind), relation.permissions),
            ]
    return routes


ROUTES = [route for relation in RELATIONS for route in _routes(relation)]
