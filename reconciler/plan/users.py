"""User changes: create, update (attributes and renames), manager and direct licenses of declared
users; disable or delete of undeclared users in an authoritative scope (SPEC §3, `removal.users`)."""

from __future__ import annotations

from typing import Any

from reconciler.desired.model import DesiredUser
from reconciler.live import LiveUser
from reconciler.plan.licenses import license_drafts, remove_license
from reconciler.plan.matching import Draft, Index, Ref, needs_of
from reconciler.plan.model import Change

UPN = "userPrincipalName"


def normalise(value: Any) -> Any:
    """YAML sequences arrive as tuples or lists; Graph's JSON has lists. Order is kept (it matters)."""
    return list(value) if isinstance(value, tuple) else value


def attr_diff(
    declared: dict[str, Any], live_attrs: dict[str, Any], key_attr: str, key_before: str, key_after: str
) -> dict[str, dict[str, Any]]:
    """{attr: {before, after}} for the declared attributes that differ; an absent live value is None.

    The key attribute compares case-insensitively (like matching): a case-only difference is no rename.
    """
    diff: dict[str, dict[str, Any]] = {}
    if key_before.lower() != key_after.lower():
        diff[key_attr] = {"before": key_before, "after": key_after}
    for name in sorted(declared):
        if name == key_attr:
            continue
        want, have = normalise(declared[name]), live_attrs.get(name)
        if want != have:
            diff[name] = {"before": have, "after": want}
    return diff


def create_after(declared: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """What a create sends: declared attributes over Graph's required defaults; nulls are not sent."""
    merged = {**defaults, **{k: normalise(v) for k, v in declared.items() if v is not None}}
    return dict(sorted(merged.items()))


def user_drafts(index: Index) -> list[Draft]:
    drafts: list[Draft] = []
    for key in sorted(index.desired.users):
        declared = index.desired.users[key]
        live = index.users[key]
        me = Ref("user", key, live.id if live else None, live is None)
        if live is None:
            defaults = {UPN: key, "accountEnabled": True, "mailNickname": key.split("@", 1)[0]}
            after = create_after(declared.attrs, defaults)
            drafts.append(Draft(Change(id="", action="create", kind="user", key=key, after=after)))
        else:
            drafts.extend(_update(declared, live))
        drafts.extend(_manager(index, declared, live, me))
        if declared.licenses is not None:
            current = live.direct_licenses if live else {}
            drafts.extend(license_drafts(me, declared.licenses, current, index.live.skus))
    return drafts


def _update(declared: DesiredUser, live: LiveUser) -> list[Draft]:
    new_upn = declared.attrs.get(UPN) or declared.key
    diff = attr_diff(declared.attrs, live.attrs, UPN, live.upn, new_upn)
    if not diff:
        return []
    change = Change(id="", action="update", kind="user", key=declared.key, object_id=live.id, diff=diff)
    enabled = diff.get("accountEnabled")
    # Disabling also revokes sign-in sessions so that access is cut at once (SPEC §5).
    change.revoke_sessions = (
        enabled is not None and enabled["after"] is False and enabled["before"] is not False
    )
    return [Draft(change)]


def _manager(index: Index, declared: DesiredUser, live: LiveUser | None, me: Ref) -> list[Draft]:
    if not declared.manager_declared:
        return []
    current = live.manager_id if live else None
    if declared.manager is None:
        if current is None:
            return []
        old = index.user_key_of(current)
        change = Change(
            id="", action="clear_manager", kind="manager", user=me.key, manager=old, object_id=me.id
        )
        return [Draft(change)]
    boss = index.user(declared.manager)
    if boss is None or (boss.id is not None and boss.id == current):
        return []  # an unknown manager is a pre-flight problem, not a change
    change = Change(
        id="",
        action="set_manager",
        kind="manager",
        user=me.key,
        manager=boss.key,
        object_id=me.id,
        target_id=boss.id,
    )
    return [Draft(change, needs_of(me, boss))]


def in_user_scope(index: Index, user: LiveUser) -> bool:
    scope = index.config.scope.users
    suffix = scope.match.upn_suffix
    return scope.authoritative and (suffix is None or user.key.endswith(suffix.lower()))


def leavers(index: Index) -> list[LiveUser]:
    """Live users in an authoritative scope that no YAML declares, by key."""
    found = [
        u
        for u in index.live.users.values()
        if u.id not in index.declared_user_keys and in_user_scope(index, u)
    ]
    return sorted(found, key=lambda u: (u.key, u.id))


def leaver_drafts(index: Index, users: list[LiveUser]) -> list[Draft]:
    """`removal.users`: delete, or disable (with sessions revoked) and drop direct licenses.

    An already-disabled leaver gets no new disable, but licenses left behind by an earlier, partly failed
    apply are still removed, so that plan/apply converges. Memberships are the groups' business.
    """
    drafts: list[Draft] = []
    for user in users:
        if index.config.removal.users == "delete":
            drafts.append(Draft(Change(id="", action="delete", kind="user", key=user.key, object_id=user.id)))
            continue
        if user.attrs.get("accountEnabled") is not False:
            change = Change(
                id="", action="disable", kind="user", key=user.key, object_id=user.id, revoke_sessions=True
            )
            drafts.append(Draft(change))
        me = Ref("user", user.key, user.id, False)
        drafts.extend(Draft(remove_license(me, index.live.skus, sku)) for sku in sorted(user.direct_licenses))
    return drafts
