"""Properties of diff over random small tenants and desired states (hypothesis):

- determinism: the same inputs, whatever the insertion order of their dicts and sets, give the same
  plan JSON, and diff does not change its inputs;
- idempotence: simulating the plan on the live state and planning again gives no changes (protected
  principals stay held items, by design);
- dependencies: every `depends_on` names an earlier create, and every edge whose end does not exist
  live yet depends on that end's create.
"""

from __future__ import annotations

from typing import Any

from builders import E3, E5, EXCHANGE, TEAMS, YAMMER, flat, skus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simulate import simulate

from reconciler.config import Config
from reconciler.desired.model import (
    DesiredGroup,
    DesiredRole,
    DesiredState,
    DesiredUser,
    LicenseSpec,
    MemberRef,
    Members,
)
from reconciler.errors import Location
from reconciler.live import (
    LiveGroup,
    LiveLicense,
    LiveRoleAssignment,
    LiveRoleDefinition,
    LiveState,
    LiveUser,
)
from reconciler.plan.diff import diff
from reconciler.plan.digest import desired_digest, live_digest, object_fingerprint, object_fingerprints
from reconciler.plan.model import Plan
from reconciler.plan.render_json import render_json

USER_KEYS = [f"{n}@contoso.example" for n in ("ada", "bob", "cy", "dee", "eve")] + ["fay@fabrikam.example"]
GROUP_KEYS = ["grp-a", "grp-b", "grp-c", "team-d"]
VALUES: dict[str, list[Any]] = {
    "jobTitle": ["Engineer", "Staff", None],
    "department": ["Ops", "Eng", None],
    "usageLocation": ["GB", "US", None],
    "businessPhones": [["1"], ["1", "2"], ["2", "1"], []],
    "displayName": ["One", "Two"],
}
PLANS = {E3: [(YAMMER, "YAMMER_ENTERPRISE"), (EXCHANGE, "EXCHANGE_S_ENTERPRISE")], E5: [(TEAMS, "TEAMS1")]}
PART = {E3: "ENTERPRISEPACK", E5: "SPE_E5"}
HERE = Location("state/x.yaml", 1, 1)


def cased(draw: st.DrawFn, key: str) -> str:
    return draw(st.sampled_from([key, key.upper(), key.capitalize()]))


def some(draw: st.DrawFn, items: list[str]) -> list[str]:
    return draw(st.lists(st.sampled_from(items), unique=True)) if items else []


def maybe(draw: st.DrawFn, items: list[str]) -> str | None:
    return draw(st.none() | st.sampled_from(items)) if items else None


def attrs(draw: st.DrawFn, *, clearing: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, values in VALUES.items():
        if draw(st.booleans()):
            choices = values if clearing else [v for v in values if v is not None]
            out[name] = draw(st.sampled_from(choices))
    if draw(st.booleans()):
        out["accountEnabled"] = draw(st.booleans())
    return out


def live_licenses(draw: st.DrawFn) -> dict[str, LiveLicense]:
    chosen = draw(st.lists(st.sampled_from([E3, E5]), unique=True))
    return {
        sku: LiveLicense(
            sku, frozenset(draw(st.lists(st.sampled_from([p for p, _ in PLANS[sku]]), unique=True)))
        )
        for sku in chosen
    }


def license_specs(draw: st.DrawFn) -> tuple[LicenseSpec, ...] | None:
    if draw(st.booleans()):
        return None
    specs = []
    for sku in draw(st.lists(st.sampled_from([E3, E5]), unique=True)):
        plans = draw(st.lists(st.sampled_from(PLANS[sku]), unique=True))
        names = tuple(cased(draw, draw(st.sampled_from(pair))) for pair in plans)
        specs.append(LicenseSpec(cased(draw, draw(st.sampled_from([sku, PART[sku]]))), names))
    return tuple(specs)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[DesiredState, LiveState, Config]:
    live = LiveState(tenant_id="t", skus=skus(), verified_domains={"contoso.example", "fabrikam.example"})
    for n, key in enumerate(draw(st.lists(st.sampled_from(USER_KEYS), unique=True))):
        user = LiveUser(
            f"lu{n}", cased(draw, key), attrs(draw, clearing=False), direct_licenses=live_licenses(draw)
        )
        live.users[user.id] = user
    for n, key in enumerate(draw(st.lists(st.sampled_from(GROUP_KEYS), unique=True))):
        group = LiveGroup(
            f"lg{n}", cased(draw, key), attrs(draw, clearing=False), licenses=live_licenses(draw)
        )
        live.groups[group.id] = group
    user_ids, group_ids = sorted(live.users), sorted(live.groups)
    for user in live.users.values():
        user.manager_id = maybe(draw, user_ids)
    for group in live.groups.values():
        group.member_user_ids = (
            set(draw(st.lists(st.sampled_from(user_ids), unique=True))) if user_ids else set()
        )
        others = [g for g in group_ids if g != group.id]
        group.member_group_ids = (
            set(draw(st.lists(st.sampled_from(others), unique=True))) if others else set()
        )
        group.owner_ids = set(draw(st.lists(st.sampled_from(user_ids), unique=True))) if user_ids else set()

    desired = DesiredState()
    live_users = {u.key: u for u in live.users.values()}
    live_groups = {g.key: g for g in live.groups.values()}
    declared_users = draw(st.lists(st.sampled_from(USER_KEYS), unique=True))
    declared_groups = draw(st.lists(st.sampled_from(GROUP_KEYS), unique=True))
    # Old names may only be live names nobody declares; references never use an old name.
    spare_users = [k for k in live_users if k not in declared_users]
    spare_groups = [k for k in live_groups if k not in declared_groups]
    for key in declared_users:
        pin, renamed = _identity(draw, key, live_users, spare_users)
        wanted = DesiredUser(key, attrs(draw, clearing=True), HERE, id=pin, renamed_from=renamed)
        if draw(st.booleans()):
            wanted.attrs["userPrincipalName"] = cased(draw, key)
        wanted.licenses = license_specs(draw)
        desired.users[key] = wanted
    for key in declared_groups:
        pin, renamed = _identity(draw, key, live_groups, spare_groups)
        desired.groups[key] = DesiredGroup(
            key, attrs(draw, clearing=True), HERE, id=pin, renamed_from=renamed
        )
    user_refs = sorted(set(declared_users) | set(live_users))
    group_refs = sorted(set(declared_groups) | set(live_groups))
    for wanted in desired.users.values():
        if draw(st.booleans()):
            wanted.manager_declared = True
            wanted.manager = maybe(draw, user_refs)
    for wanted_group in desired.groups.values():
        if draw(st.booleans()):
            members = [MemberRef("user", k) for k in some(draw, user_refs)]
            members += [
                MemberRef("group", k) for k in some(draw, [k for k in group_refs if k != wanted_group.key])
            ]
            wanted_group.members = Members.of(members)
            wanted_group.members_mode = draw(st.sampled_from(["replace", "append"]))
        if draw(st.booleans()):
            wanted_group.owners = tuple(some(draw, user_refs))
        wanted_group.licenses = license_specs(draw)
    _roles(draw, desired, live, user_refs, group_refs)
    # References to renamed-away names would be YAML errors; keep only what exists after the plan.
    gone_users = {old.lower() for u in desired.users.values() for old in u.renamed_from}
    gone_users |= {
        live.users[u.id].key for u in desired.users.values() if u.id and live.users[u.id].key != u.key
    }
    gone_groups = {old.lower() for g in desired.groups.values() for old in g.renamed_from}
    gone_groups |= {
        live.groups[g.id].key for g in desired.groups.values() if g.id and live.groups[g.id].key != g.key
    }
    _drop_refs(desired, gone_users, gone_groups)

    config = Config.model_validate(
        {
            "scope": {
                "protected": draw(st.lists(st.sampled_from(USER_KEYS + GROUP_KEYS), max_size=1)),
                "users": {"authoritative": draw(st.booleans()), "match": {"upn_suffix": "@contoso.example"}},
                "groups": {"authoritative": draw(st.booleans()), "match": {"mail_nickname_prefix": "grp-"}},
            },
            "removal": {"users": draw(st.sampled_from(["disable", "delete"]))},
            "safety": {"min_existing": draw(st.sampled_from([0, 3, 100]))},
        }
    )
    return desired, live, config


ROLES = {"r-ga": "Global Administrator", "r-ua": "User Administrator"}


def _roles(
    draw: st.DrawFn, desired: DesiredState, live: LiveState, user_refs: list[str], group_refs: list[str]
) -> None:
    """Two directory roles, held by some live users and groups, declared (by name or id) for some."""
    live.role_definitions = {rid: LiveRoleDefinition(rid, name, rid) for rid, name in ROLES.items()}
    holders = sorted(live.users) + sorted(live.groups)
    for rid in ROLES:
        for n, principal in enumerate(some(draw, holders)):
            live.role_assignments[f"a-{rid}-{n}"] = LiveRoleAssignment(f"a-{rid}-{n}", rid, principal, "/")
    for rid in some(draw, list(ROLES)):
        name = cased(draw, draw(st.sampled_from([ROLES[rid], rid])))
        principals = [MemberRef("user", k) for k in some(draw, user_refs)]
        principals += [MemberRef("group", k) for k in some(draw, group_refs)]
        mode = draw(st.sampled_from(["replace", "append"]))
        role = DesiredRole(name, "/", tuple(principals), mode, HERE)
        desired.roles[role.key] = role


def _identity(
    draw: st.DrawFn, key: str, live_by_key: dict[str, Any], spare: list[str]
) -> tuple[str | None, tuple[str, ...]]:
    """A pin (as `import --with-ids` writes) or a rename from a spare live name, or neither."""
    if key in live_by_key:
        return (live_by_key[key].id if draw(st.booleans()) else None), ()
    if not spare or draw(st.booleans()):
        return None, ()
    old = draw(st.sampled_from(spare))
    spare.remove(old)
    if draw(st.booleans()):
        return live_by_key[old].id, ()
    return None, (old.upper(),)


def _drop_refs(desired: DesiredState, gone_users: set[str], gone_groups: set[str]) -> None:
    gone = {"user": gone_users, "group": gone_groups}
    for key, role in list(desired.roles.items()):
        principals = tuple(p for p in role.principals if p.key not in gone[p.kind])
        desired.roles[key] = DesiredRole(
            role.role, role.directory_scope_id, principals, role.mode, role.location
        )
    for user in desired.users.values():
        if user.manager in gone_users:
            user.manager = None
    for group in desired.groups.values():
        if group.members is not None:
            gone = {"user": gone_users, "group": gone_groups}
            group.members = Members.of(m for m in group.members if m.key not in gone[m.kind])
        if group.owners is not None:
            group.owners = tuple(o for o in group.owners if o not in gone_users)


def reversed_copy(desired: DesiredState, live: LiveState) -> tuple[DesiredState, LiveState]:
    """The same content with every dict and set built in the opposite order."""
    rev_live = LiveState(
        tenant_id=live.tenant_id,
        skus=dict(reversed(live.skus.items())),
        verified_domains=set(reversed(sorted(live.verified_domains))),
        role_definitions=dict(reversed(live.role_definitions.items())),
        role_assignments=dict(reversed(live.role_assignments.items())),
    )
    for user in reversed(list(live.users.values())):
        rev_live.users[user.id] = LiveUser(
            user.id,
            user.upn,
            dict(reversed(user.attrs.items())),
            user.manager_id,
            direct_licenses=dict(reversed(user.direct_licenses.items())),
        )
    for group in reversed(list(live.groups.values())):
        rev_live.groups[group.id] = LiveGroup(
            group.id,
            group.mail_nickname,
            dict(reversed(group.attrs.items())),
            set(reversed(sorted(group.member_user_ids))),
            set(reversed(sorted(group.member_group_ids))),
            set(reversed(sorted(group.owner_ids))),
            dict(reversed(group.licenses.items())),
        )
    rev_desired = DesiredState(
        users=dict(reversed(desired.users.items())),
        groups=dict(reversed(desired.groups.items())),
        roles=dict(reversed(desired.roles.items())),
    )
    return rev_desired, rev_live


def check_dependencies(plan: Plan) -> None:
    changes = [flat(c) for c in plan.changes]  # as the plan JSON names them
    creates: dict[tuple[str, str | None], str] = {
        (c.kind, c.key): c.id for c in changes if c.action == "create"
    }
    by_id = {c.id: c for c in changes}
    for change in changes:
        if change.action == "delete" and change.kind == "group":
            # A group delete waits for exactly the removal of the licenses it assigns.
            removals = [c.id for c in changes if c.action == "remove_license" and c.group == change.key]
            assert change.depends_on == removals
            assert all(by_id[dep].id < change.id for dep in change.depends_on)
            continue
        assert all(dep < change.id and dep in creates.values() for dep in change.depends_on)
        if change.kind == "role":
            label = change.principal
            end = ("group", label.removeprefix("group:")) if label.startswith("group:") else ("user", label)
            if end in creates:
                assert creates[end] in change.depends_on
        if change.kind in ("membership", "owner", "manager", "license"):
            ends = {
                "membership": [change.group],
                "owner": [change.group],
                "license": [change.user or change.group],
            }
            for end in ends.get(change.kind, []):
                kind = "user" if change.kind == "license" and change.user else "group"
                if (kind, end) in creates:
                    assert creates[(kind, end)] in change.depends_on


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scenarios())
def test_plan_is_deterministic_and_pure(scenario: tuple[DesiredState, LiveState, Config]) -> None:
    desired, live, config = scenario
    digests = (desired_digest(desired), live_digest(live))
    first = diff(desired, live, config)
    assert (desired_digest(desired), live_digest(live)) == digests
    assert render_json(diff(desired, live, config)) == render_json(first)
    assert render_json(diff(*reversed_copy(desired, live), config)) == render_json(first)


@SETTINGS
@given(scenarios())
def test_one_object_fingerprint_is_the_one_in_the_full_map(
    scenario: tuple[DesiredState, LiveState, Config],
) -> None:
    desired, live, _ = scenario
    prints = object_fingerprints(desired, live)
    asked = [*prints, "user:nobody", "group:nobody", "role:no-such-role|/"]
    assert {key: object_fingerprint(desired, live, key) for key in asked} == {
        key: prints.get(key) for key in asked
    }


@SETTINGS
@given(scenarios())
def test_applying_the_plan_then_planning_again_changes_nothing(
    scenario: tuple[DesiredState, LiveState, Config],
) -> None:
    desired, live, config = scenario
    plan = diff(desired, live, config)
    check_dependencies(plan)
    after = simulate(plan, live)
    again = diff(desired, after, config)
    assert again.changes == [], [c.id + " " + c.action + " " + str(c.subject.key) for c in again.changes]
    # A held difference can only vanish when its reference did (a leaver deleted by this plan).
    assert {i.wants for i in again.held} <= {i.wants for i in plan.held}
