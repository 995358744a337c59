"""User changes: create (or invite, for a guest), restore, update (attributes and renames), manager and
direct licenses of declared users; disable, delete or purge of undeclared users in an authoritative
scope (SPEC §3, `removal.users`)."""

from __future__ import annotations

from typing import Any

from reconciler.desired.model import DesiredUser
from reconciler.live import LiveUser
from reconciler.plan.licenses import Resolver, license_drafts, remove_license
from reconciler.plan.matching import Draft, Index, needs_of
from reconciler.plan.model import Create, Invite, ManagerChange, ObjectRef, Remove, Restore, Update

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
    # A quick pass keeps the names that may differ (most objects: none); the careful one decides.
    maybe = [
        name
        for name, value in declared.items()
        if name != key_attr
        and (live_attrs.get(name) != value or type(value) is tuple or name in NESTED_ATTRIBUTES)
    ]
    for name in sorted(maybe):
        want, have = normalise(declared[name]), live_attrs.get(name)
        if name in NESTED_ATTRIBUTES:
            change = nested_diff(want, have)
            if change is not None:
                diff[name] = change
        elif want != have:
            diff[name] = {"before": have, "after": want}
    return diff


# Objects of several keys, managed key by key: a key left out of the YAML is never touched.
NESTED_ATTRIBUTES = frozenset({"employeeOrgData", "onPremisesExtensionAttributes"})


def nested_diff(want: dict[str, Any] | None, have: dict[str, Any] | None) -> dict[str, Any] | None:
    """{before, after} of a nested object whose declared keys differ, or None.

    `after` is the whole object the PATCH sends: the live keys with the declared ones over them, so that
    the result is the same whether Graph merges the object or replaces it. Unset keys are left out of
    both sides unless declared (a declared null clears its key); `null` for the object clears every key.
    """
    current = {key: value for key, value in (have or {}).items() if value is not None}
    if want is None:
        return {"before": current, "after": None} if current else None
    if all(current.get(key) == value for key, value in want.items()):
        return None
    after = {**current, **want}
    return {"before": current or None, "after": dict(sorted(after.items()))}


def create_after(declared: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """What a create sends: declared attributes over Graph's required defaults; nulls are not sent."""
    sent = {k: _without_nulls(normalise(v)) for k, v in declared.items() if v is not None}
    merged = {**defaults, **{k: v for k, v in sent.items() if v != {}}}
    return dict(sorted(merged.items()))


def _without_nulls(value: Any) -> Any:
    """A nested object's keys declared null are unset already on a new object: not sent."""
    return {k: v for k, v in value.items() if v is not None} if isinstance(value, dict) else value


def user_drafts(index: Index) -> list[Draft]:
    drafts: list[Draft] = []
    resolver = Resolver(index.live.skus)
    for key in sorted(index.desired.users):
        declared = index.desired.users[key]
        deleted = index.deleted_users.get(key)
        live = index.users[key] or deleted
        me = ObjectRef("user", key, live.id if live else None)
        if deleted is not None:
            drafts.append(Draft(Restore(me, deleted.deleted_at or "")))
        if live is not None:
            drafts.extend(_update(declared, live, me))
        elif declared.invitation is not None:
            # A guest is never created with POST /users: Graph makes it from an invitation.
            after = {k: normalise(v) for k, v in declared.attrs.items() if v is not None and k != UPN}
            drafts.append(Draft(Invite(me, declared.invitation, dict(sorted(after.items())))))
        else:
            defaults = {UPN: key, "accountEnabled": True, "mailNickname": key.split("@", 1)[0]}
            drafts.append(Draft(Create(me, create_after(declared.attrs, defaults))))
        drafts.extend(_manager(index, declared, live, me))
        if declared.licenses is not None:
            current = live.direct_licenses if live else {}
            drafts.extend(license_drafts(me, declared.licenses, current, resolver))
    return drafts


def _update(declared: DesiredUser, live: LiveUser, me: ObjectRef) -> list[Draft]:
    # A guest's UPN is Graph's (…#EXT#@…) unless the YAML names one.
    new_upn = declared.attrs.get(UPN) or (declared.key if declared.upn_declared else live.upn)
    diff = attr_diff(declared.attrs, live.attrs, UPN, live.upn, new_upn)
    if not diff:
        return []
    enabled = diff.get("accountEnabled")
    # Disabling also revokes sign-in sessions so that access is cut at once (SPEC §5).
    revoke = enabled is not None and enabled["after"] is False and enabled["before"] is not False
    return [Draft(Update(me, diff, revoke_sessions=revoke))]


def _manager(index: Index, declared: DesiredUser, live: LiveUser | None, me: ObjectRef) -> list[Draft]:
    if not declared.manager_declared:
        return []
    current = live.manager_id if live else None
    if declared.manager is None:
        if current is None:
            return []
        # The manager cleared is named for the reader only: no id, nothing to resolve.
        return [Draft(ManagerChange("clear_manager", me, ObjectRef("user", index.user_key_of(current))))]
    boss = index.user(declared.manager)
    if boss is None or (boss.id is not None and boss.id == current):
        return []  # an unknown manager is a pre-flight problem, not a change
    return [Draft(ManagerChange("set_manager", me, boss), needs_of(me, boss))]


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
        me = ObjectRef("user", user.key, user.id)
        removal = index.config.removal.users
        if removal in ("delete", "purge"):
            purge = removal == "purge"
            drafts.append(Draft(Remove("delete", me, purge=purge, restorable=not purge)))
            continue
        if user.attrs.get("accountEnabled") is not False:
            drafts.append(Draft(Remove("disable", me)))
        drafts.extend(Draft(remove_license(me, index.live.skus, sku)) for sku in sorted(user.direct_licenses))
    return drafts
