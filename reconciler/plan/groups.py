"""Group changes: create and update of declared groups, their members, owners and group-based
licenses; delete of undeclared groups in an authoritative scope (SPEC §3)."""

from __future__ import annotations

from itertools import repeat

from reconciler.desired import grouptypes
from reconciler.desired.model import DesiredGroup, Kind
from reconciler.live import LiveGroup
from reconciler.plan.licenses import Resolver, license_drafts, remove_license
from reconciler.plan.matching import Draft, Index, needs_of
from reconciler.plan.model import (
    Create,
    MembershipChange,
    ObjectRef,
    OwnershipChange,
    Remove,
    Restore,
    Update,
)
from reconciler.plan.users import attr_diff, create_after

NICKNAME = "mailNickname"
_UNKNOWN = ""  # no object has an empty id: a reference to nothing, a pre-flight problem


def group_drafts(index: Index, leaver_ids: set[str]) -> list[Draft]:
    """Changes to declared groups; `leaver_ids` are disabled leavers, removed from every declared group."""
    drafts: list[Draft] = []
    resolver = Resolver(index.live.skus)
    for key in sorted(index.desired.groups):
        declared = index.desired.groups[key]
        deleted = index.deleted_groups.get(key)
        live = index.groups[key] or deleted
        me = ObjectRef("group", key, live.id if live else None)
        if deleted is not None:
            drafts.append(Draft(Restore(me, deleted.deleted_at or "")))
        if live is None:
            # A pinned group gone from the tenant and from deletedItems was a security group: Graph
            # deleted it permanently (only Microsoft 365 groups are kept for a restore).
            after = create_after(declared.attrs, _create_defaults(declared))
            gone = declared.id if not is_unified(declared.attrs) else None
            drafts.append(Draft(Create(me, after, gone_id=gone)))
        else:
            new_nickname = declared.attrs.get(NICKNAME) or key
            diff = attr_diff(declared.attrs, live.attrs, NICKNAME, live.mail_nickname, new_nickname)
            if diff:
                drafts.append(Draft(Update(me, diff)))
        if not is_dynamic(declared.attrs) and not (live and is_dynamic(live.attrs)):
            # Entra ID keeps a dynamic group's members from its rule and refuses edits to them.
            drafts.extend(_members(index, declared, live, me, leaver_ids))
        drafts.extend(_owners(index, declared, live, me))
        if declared.licenses is not None:
            current = live.licenses if live else {}
            drafts.extend(license_drafts(me, declared.licenses, current, resolver))
    return drafts


def is_dynamic(attrs: dict[str, object]) -> bool:
    group_types = attrs.get("groupTypes")
    return isinstance(group_types, list | tuple) and "DynamicMembership" in group_types


def _create_defaults(declared: DesiredGroup) -> dict[str, object]:
    # Graph requires both flags; a Microsoft 365 ("Unified") group is mail-enabled, otherwise security.
    unified = "Unified" in (declared.attrs.get("groupTypes") or ())
    return {NICKNAME: declared.key, "mailEnabled": unified, "securityEnabled": not unified}


def _members(
    index: Index, declared: DesiredGroup, live: LiveGroup | None, me: ObjectRef, leaver_ids: set[str]
) -> list[Draft]:
    current = {
        "user": live.member_user_ids if live else set[str](),
        "group": live.member_group_ids if live else set[str](),
    }
    wanted: set[str] = set()
    adds: set[tuple[Kind, str]] = set()
    ids: dict[Kind, dict[str, str | None]] = {"user": index.user_ids, "group": index.group_ids}
    for kind in ids:
        # In bulk (a million members at 100,000 users): each key's id, then only the keys whose id is
        # not a member yet, or not known yet (None: to be created), are looked at one by one.
        keys = declared.members.keys_of(kind) if declared.members else []
        found = list(map(ids[kind].get, keys, repeat(_UNKNOWN)))
        known: set[str] = set(filter(None, found))  # neither None nor _UNKNOWN
        wanted |= known
        new = known - current[kind]
        adds.update((kind, k) for k, i in zip(keys, found, strict=True) if i is None or i in new)
    drafts: list[Draft] = []
    for kind, key in sorted(adds):
        member = index.user(key) if kind == "user" else index.group(key)
        if member is not None:
            drafts.append(Draft(MembershipChange("add_member", me, member), needs_of(me, member)))
    if live is None:
        return drafts
    if declared.members is not None and declared.members_mode == "replace":
        extra = [("user", i) for i in live.member_user_ids - wanted]
        extra += [("group", i) for i in live.member_group_ids - wanted]
    else:
        # Append mode or unmanaged members: only disabled leavers leave (SPEC §2 `removal.users`).
        extra = [("user", i) for i in (live.member_user_ids & leaver_ids) - wanted]
    removals = [index.live_user(i) if kind == "user" else index.live_group(i) for kind, i in extra]
    for member in sorted(removals, key=lambda r: (r.label, r.id or "")):
        drafts.append(Draft(MembershipChange("remove_member", me, member)))
    return drafts


def _owners(index: Index, declared: DesiredGroup, live: LiveGroup | None, me: ObjectRef) -> list[Draft]:
    if declared.owners is None:
        return []
    current = live.owner_ids if live else set()
    wanted: set[str] = set()
    drafts: list[Draft] = []
    for key in sorted(set(declared.owners)):
        owner = index.user(key)
        if owner is None:
            continue
        if owner.id is not None:
            wanted.add(owner.id)
            if owner.id in current:
                continue
        drafts.append(Draft(OwnershipChange("add_owner", me, owner), needs_of(me, owner)))
    # Graph refuses to remove a group's last owner; ORDER puts every add_owner before any remove_owner.
    gone = [index.live_user(i) for i in current - wanted]
    for owner in sorted(gone, key=lambda r: (r.key, r.id or "")):
        drafts.append(Draft(OwnershipChange("remove_owner", me, owner)))
    return drafts


def in_group_scope(index: Index, group: LiveGroup) -> bool:
    """An authoritative scope holds the group: undeclared, it is deleted. Groups Graph may not change
    (mail-enabled security and distribution groups, Exchange's) are never in scope."""
    scope = index.config.scope.groups
    prefix = scope.match.mail_nickname_prefix
    in_scope = scope.authoritative and (prefix is None or group.key.startswith(prefix.lower()))
    return in_scope and not grouptypes.is_read_only(group.attrs)


def orphan_group_drafts(index: Index) -> list[Draft]:
    """Live groups in an authoritative scope that no YAML declares are deleted."""
    orphans = [
        g
        for g in index.live.groups.values()
        if g.id not in index.declared_group_keys and in_group_scope(index, g)
    ]
    drafts: list[Draft] = []
    for g in sorted(orphans, key=lambda g: (g.key, g.id)):
        # Graph refuses to delete a group that still assigns licenses: remove them first.
        me = ObjectRef("group", g.key, g.id)
        drafts += [Draft(remove_license(me, index.live.skus, sku_id)) for sku_id in sorted(g.licenses)]
        drafts.append(Draft(Remove("delete", me, restorable=is_unified(g.attrs))))
    return drafts


def is_unified(attrs: dict[str, object]) -> bool:
    """A Microsoft 365 group: Graph keeps it restorable for 30 days once deleted."""
    group_types = attrs.get("groupTypes")
    return isinstance(group_types, list | tuple) and "Unified" in group_types
