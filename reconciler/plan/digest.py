"""Digests of the desired and live state a plan was made from: sha256 over a canonical JSON.

Where something was written (file, line) is not content: moving a user to another file keeps the
desired digest. Sets are sorted, so a digest never depends on hash order. The fields are listed
explicitly (a generic walk over the dataclasses took 4× longer on 100,000 users): a field added to
the models must be added here too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cached_property
from typing import Any

import msgspec

from reconciler.desired.model import DesiredGroup, DesiredRole, DesiredState, DesiredUser, LicenseSpec
from reconciler.live import LiveLicense, LiveState
from reconciler.plan.model import WrittenDigests


def _digest(content: Any) -> str:
    # The bytes json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) gives for the
    # strings, numbers and lists held here, in a fifth of the time at 100,000 users.
    text = msgspec.json.encode(content, order="deterministic", enc_hook=str)
    return "sha256:" + hashlib.sha256(text).hexdigest()


def _specs(specs: tuple[LicenseSpec, ...] | None) -> list[Any] | None:
    return None if specs is None else [[s.sku, list(s.disabled_plans)] for s in specs]


def _user(u: DesiredUser) -> list[Any]:
    return [u.id, list(u.renamed_from), u.attrs, u.manager_declared, u.manager, _specs(u.licenses)]


def _group(g: DesiredGroup) -> list[Any]:
    return [
        g.id,
        list(g.renamed_from),
        g.attrs,
        None if g.owners is None else sorted(g.owners),
        None if g.members is None else sorted(f"{kind}:{key}" for kind, key in g.members.pairs()),
        g.members_mode,
        _specs(g.licenses),
    ]


def _role(r: DesiredRole) -> list[Any]:
    return [r.role, sorted(f"{p.kind}:{p.key}" for p in r.principals), r.mode]


def desired_digest(desired: DesiredState) -> str:
    users = {key: _user(u) for key, u in desired.users.items()}
    groups = {key: _group(g) for key, g in desired.groups.items()}
    roles = {f"{role}|{scope}": _role(r) for (role, scope), r in desired.roles.items()}
    refs = sorted([r.kind, r.key, r.role] for r in desired.external_refs)
    content: dict[str, Any] = {"users": users, "groups": groups, "external_refs": refs}
    if roles:  # a desired state without roles keeps the digest it had before roles existed
        content["roles"] = roles
    return _digest(content)


def object_fingerprints(desired: DesiredState, live: LiveState) -> dict[str, str]:
    """A digest of each declared object's YAML, by `user:KEY`, `group:KEY` and `role:ROLE_ID|SCOPE` (the
    role as the tenant defines it, whichever of its names the YAML uses). Drift compares them with those
    of the last apply to tell a YAML edit not applied yet from a change made in the tenant."""
    prints = {f"user:{key}": _digest(_user(u)) for key, u in desired.users.items()}
    prints |= {f"group:{key}": _digest(_group(g)) for key, g in desired.groups.items()}
    return prints | _role_fingerprints(desired, live)


def object_fingerprint(desired: DesiredState, live: LiveState, key: str) -> str | None:
    """`object_fingerprints(desired, live).get(key)`, computed for that one object: drift asks only
    about the objects that differ."""
    kind, _, name = key.partition(":")
    if kind == "user":
        user = desired.users.get(name)
        return None if user is None else _digest(_user(user))
    if kind == "group":
        group = desired.groups.get(name)
        return None if group is None else _digest(_group(group))
    return _role_fingerprints(desired, live).get(key)  # a handful of roles: all of them


def _role_fingerprints(desired: DesiredState, live: LiveState) -> dict[str, str]:
    prints = {}
    for role in desired.roles.values():
        definition = live.role_definition(role.role)
        if definition is not None:
            prints[f"role:{definition.id}|{role.directory_scope_id}"] = _digest(_role(role))
    return prints


def _licenses(licenses: Mapping[str, LiveLicense]) -> dict[str, list[str]]:
    return {sku: sorted(lic.disabled_plans) for sku, lic in licenses.items()}


def live_digest(live: LiveState) -> str:
    users = {
        u.id: [
            u.upn,
            u.attrs,
            u.manager_id,
            u.on_premises_sync,
            _licenses(u.direct_licenses),
            sorted(u.inherited_sku_ids),
        ]
        for u in live.users.values()
    }
    groups = {
        g.id: [
            g.mail_nickname,
            g.attrs,
            sorted(g.member_user_ids),
            sorted(g.member_group_ids),
            sorted(g.owner_ids),
            _licenses(g.licenses),
            g.on_premises_sync,
        ]
        for g in live.groups.values()
    }
    skus = {
        s.sku_id: [s.part_number, s.enabled, s.consumed, [[p.id, p.name] for p in s.service_plans]]
        for s in live.skus.values()
    }
    content: dict[str, Any] = {
        "tenant_id": live.tenant_id,
        "users": users,
        "groups": groups,
        "skus": skus,
        "verified_domains": sorted(live.verified_domains),
    }
    if live.role_assignments or live.role_definitions:  # as before roles existed, when none are read
        content["role_definitions"] = {
            d.id: [d.display_name, d.template_id] for d in live.role_definitions.values()
        }
        content["role_assignments"] = {
            a.id: [a.role_definition_id, a.principal_id, a.directory_scope_id]
            for a in live.role_assignments.values()
        }
    return _digest(content)


class StateDigests:
    """The digests of the states a plan was made from, computed when first asked for: only a plan saved
    or shown as JSON carries them, and at 100,000 users they cost 2 s that drift and a plan shown as text
    need not spend. The states are not changed after the diff (apply writes through Graph, then reads
    afresh)."""

    def __init__(self, desired: DesiredState, live: LiveState) -> None:
        self._desired = desired
        self._live = live

    @cached_property
    def desired(self) -> str:
        return desired_digest(self._desired)

    @cached_property
    def live(self) -> str:
        return live_digest(self._live)

    def __eq__(self, other: object) -> bool:  # a plan read back from its file equals the plan saved
        if not isinstance(other, StateDigests | WrittenDigests):
            return NotImplemented
        return (self.desired, self.live) == (other.desired, other.live)
