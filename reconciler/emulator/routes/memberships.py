"""checkMemberGroups, getMemberGroups, checkMemberObjects and getMemberObjects on users, groups and
directoryObjects (Graph docs: directoryobject-checkmembergroups, -getmembergroups, -checkmemberobjects,
-getmemberobjects).

All four are transitive. The emulator's directory holds no administrative units or directory roles, so the
"objects" functions answer the same groups as the "groups" ones.
"""

from __future__ import annotations

from reconciler.emulator.context import EmulatorContext
from reconciler.emulator.router import Handler, Route
from reconciler.emulator.routes import common
from reconciler.emulator.routes.relations import transitive_groups
from reconciler.emulator.types import GraphApiError, GraphRequest, GraphResponse

MAX_CHECKED = 20  # "Up to 20 groups may be specified" / "You can specify up to 20 objects."

_USER_READ = frozenset({"User.Read.All", "User.ReadWrite.All"})
_MEMBERSHIP_READ = frozenset(
    {"GroupMember.Read.All", "Group.Read.All", "GroupMember.ReadWrite.All", "Group.ReadWrite.All"}
)
_DIRECTORY_READ = frozenset({"Directory.Read.All", "Directory.ReadWrite.All"})

# Application permissions, as alternatives each of which needs one role of every set it lists.
Requirement = tuple[tuple[frozenset[str], ...], ...]
_USER_AND_MEMBERSHIP: Requirement = ((_USER_READ, _MEMBERSHIP_READ), (_DIRECTORY_READ,))
_GROUP: Requirement = ((_MEMBERSHIP_READ,), (_DIRECTORY_READ,))
_USER: Requirement = ((_USER_READ,), (_DIRECTORY_READ,))
_DIRECTORY: Requirement = ((_DIRECTORY_READ,),)
# The pages list these per kind of object; getMemberGroups follows checkMemberGroups.
PERMISSIONS: dict[tuple[str, str], Requirement] = {
    ("users", "Groups"): _USER_AND_MEMBERSHIP,
    ("groups", "Groups"): _GROUP,
    ("directoryObjects", "Groups"): _USER_AND_MEMBERSHIP,
    ("users", "Objects"): _USER,
    ("groups", "Objects"): _GROUP,
    ("directoryObjects", "Objects"): _DIRECTORY,
}


def _check_permissions(req: GraphRequest, requirement: Requirement) -> None:
    roles = req.app.roles if req.app is not None else frozenset()
    if not any(all(not roles.isdisjoint(needed) for needed in option) for option in requirement):
        raise GraphApiError(
            403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
        )


def _target(ctx: EmulatorContext, parent: str, key: str) -> str:
    if parent == "users":
        return str(common.find_user(ctx, key)["id"])
    if parent == "groups":
        return str(common.find_group(ctx, key)["id"])
    return str(common.find_object(ctx, key)[1]["id"])


def _member_function(parent: str, what: str, check: bool) -> Handler:
    requirement = PERMISSIONS[parent, what]
    # checkMemberGroups takes `groupIds`, checkMemberObjects `ids`.
    ids_parameter = "groupIds" if what == "Groups" else "ids"

    def handler(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
        _check_permissions(req, requirement)
        groups = transitive_groups(ctx, _target(ctx, parent, params["id"]))
        body = common.body_of(req)
        if check:
            asked = body.get(ids_parameter)
            if not isinstance(asked, list) or not all(isinstance(i, str) for i in asked):
                raise common.bad_request(f"Invalid value specified for property '{ids_parameter}'.")
            if len(asked) > MAX_CHECKED:
                # The limit is documented; the text is ours.
                raise common.bad_request(f"At most {MAX_CHECKED} ids may be checked in one request.")
            member_of = set(groups)
            value = [oid for oid in asked if oid in member_of]
        else:
            only_security = body.get("securityEnabledOnly")
            if not isinstance(only_security, bool):
                raise common.bad_request("Invalid value specified for property 'securityEnabledOnly'.")
            value = [g for g in groups if not only_security or ctx.store.groups[g].get("securityEnabled")]
        context = common.context_url(req, "Collection(Edm.String)")
        return GraphResponse(200, {"@odata.context": context, "value": value})

    return handler


ROUTES = [
    # No route-level roles: the handler checks the documented combinations ("User.Read.All and
    # GroupMember.Read.All"), which a single any-of list cannot say.
    Route(
        "POST",
        f"/{parent}/{{id}}/{verb}Member{what}",
        _member_function(parent, what, verb == "check"),
        (),
        cost,
    )
    for parent in ("users", "groups", "directoryObjects")
    for what in ("Groups", "Objects")
    # Graph docs: concepts/throttling-limits (checkMember* 4 RU, getMember* 2 RU).
    for verb, cost in (("get", 2), ("check", 4))
]
