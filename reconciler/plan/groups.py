"""Group changes: create and update of declared groups, their members, owners and group-based
licenses; delete of undeclared groups in an authoritative scope (SPEC §3)."""

from __future__ import annotations

from reconciler.desired import grouptypes
from reconciler.desired.model import DesiredGroup
from reconciler.live import LiveGroup
from reconciler.plan.licenses import license_drafts, remove_license
from reconciler.plan.matching import Draft, Index, Ref, needs_of
from reconciler.plan.model import Action, Change
from reconciler.plan.users import attr_diff, create_after

NICKNAME = "mailNickname"


def group_drafts(index: Index, leaver_ids: set[str]) -> list[Draft]:
    """Changes to declared groups; `leaver_ids` are disabled leavers, removed from every declared group."""
    drafts: list[Draft] = []
    for key in sorted(index.desired.groups):
        declared = index.desired.groups[key]
        live = index.groups[key]
        me = Ref("group", key, live.id if live else None, live is None)
        if live is None:
            after = create_after(declared.attrs, _create_defaults(declared))
            drafts.append(Draft(Change(id="", action="create", kind="group", key=key, after=after)))
        else:
            new_nickname = declared.attrs.get(NICKNAME) or key
            diff = attr_diff(declared.attrs, live.attrs, NICKNAME, live.mail_nickname, new_nickname)
            if diff:
                drafts.append(
                    Draft(Change(id="", action="update", kind="group", key=key, object_id=live.id, diff=diff))
                )
        if not is_dynamic(declared.attrs) and not (live and is_dynamic(live.attrs)):
            # Entra ID keeps a dynamic group's members from its rule and refuses edits to them.
            drafts.extend(_members(index, declared, live, me, leaver_ids))
        drafts.extend(_owners(index, declared, live, me))
        if declared.licenses is not None:
            current = live.licenses if live else {}
            drafts.extend(license_drafts(me, declared.licenses, current, index.live.skus))
    return drafts


def is_dynamic(attrs: dict[str, object]) -> bool:
    group_types = attrs.get("groupTypes")
    return isinstance(group_types, list | tuple) and "DynamicMembership" in group_types


def _create_defaults(declared: DesiredGroup) -> dict[str, object]:
    # Graph requires both flags; a Microsoft 365 ("Unified") group is mail-enabled, otherwise security.
    unified = "Unified" in (declared.attrs.get("groupTypes") or ())
    return {NICKNAME: declared.key, "mailEnabled": unified, "securityEnabled": not unified}


def _members(
    index: Index, declared: DesiredGroup, live: LiveGroup | None, me: Ref, leaver_ids: set[str]
) -> list[Draft]:
    current = {
        "user": live.member_user_ids if live else set[str](),
        "group": live.member_group_ids if live else set[str](),
    }
    wanted: set[str] = set()
    drafts: list[Draft] = []
    refs = {(m.kind, m.key) for m in declared.members or ()}
    for kind, key in sorted(refs):
        member = index.user(key) if kind == "user" else index.group(key)
        if member is None:
            continue  # an unknown reference is a pre-flight problem
        if member.id is not None:
            wanted.add(member.id)
            if member.id in current[kind]:
                continue
        drafts.append(Draft(_edge("add_member", me, member), needs_of(me, member)))
    if live is None:
        return drafts
    if declared.members is not None and declared.members_mode == "replace":
        extra = [("user", i) for i in live.member_user_ids - wanted]
        extra += [("group", i) for i in live.member_group_ids - wanted]
    else:
        # Append mode or unmanaged members: only disabled leavers leave (SPEC §2 `removal.users`).
        extra = [("user", i) for i in (live.member_user_ids & leaver_ids) - wanted]
    removals = [
        Ref("user", index.user_key_of(i), i, False)
        if kind == "user"
        else Ref("group", index.group_key_of(i), i, False)
        for kind, i in extra
    ]
    for member in sorted(removals, key=lambda r: (r.label, r.id or "")):
        drafts.append(Draft(_edge("remove_member", me, member)))
    return drafts


def _owners(index: Index, declared: DesiredGroup, live: LiveGroup | None, me: Ref) -> list[Draft]:
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
        drafts.append(Draft(_edge("add_owner", me, owner), needs_of(me, owner)))
    # Graph refuses to remove a group's last owner; ORDER puts every add_owner before any remove_owner.
    gone = [Ref("user", index.user_key_of(i), i, False) for i in current - wanted]
    for owner in sorted(gone, key=lambda r: (r.key, r.id or "")):
        drafts.append(Draft(_edge("remove_owner", me, owner)))
    return drafts


def _edge(action: Action, group: Ref, other: Ref) -> Change:
    """A membership or ownership change between `group` and `other` (ids when they exist live)."""
    change = Change(
        id="", action=action, kind="membership", group=group.key, object_id=group.id, target_id=other.id
    )
    if action in ("add_owner", "remove_owner"):
        change.kind = "owner"
        change.owner = other.key
    else:
        change.member = other.label
    return change


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
        me = Ref("group", g.key, g.id, False)
        drafts += [Draft(remove_license(me, index.live.skus, sku_id)) for sku_id in sorted(g.licenses)]
        drafts.append(Draft(Change(id="", action="delete", kind="group", key=g.key, object_id=g.id)))
    return drafts
