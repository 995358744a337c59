"""Small builders of DesiredState, LiveState and Config for the plan tests."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from reconciler.config import Config
from reconciler.desired.model import (
    DesiredGroup,
    DesiredRole,
    DesiredState,
    DesiredUser,
    LicenseSpec,
    MemberRef,
    Members,
    Reference,
)
from reconciler.errors import Location
from reconciler.live import (
    LiveGroup,
    LiveLicense,
    LiveRoleAssignment,
    LiveRoleDefinition,
    LiveSku,
    LiveState,
    LiveUser,
    ServicePlan,
)
from reconciler.plan.diff import diff
from reconciler.plan.model import Change
from reconciler.plan.planfile import change_from_dict, change_to_dict

E3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"  # ENTERPRISEPACK
E5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"  # SPE_E5
YAMMER = "7547a3fe-08ee-4ccb-b430-5077c5041653"  # YAMMER_ENTERPRISE
EXCHANGE = "efb87545-963c-4e0d-99df-69c6916d9eb0"  # EXCHANGE_S_ENTERPRISE
TEAMS = "57ff2da0-773e-42df-b2af-ffb7a2317929"  # TEAMS1

_UNSET: Any = object()


def at(line: int, file: str = "state/people.yaml") -> Location:
    return Location(file, line, 1)


def lic(sku: str, *plans: str, line: int | None = None) -> LicenseSpec:
    return LicenseSpec(sku, tuple(plans), at(line) if line else None)


def duser(
    upn: str,
    *,
    id: str | None = None,
    renamed_from: tuple[str, ...] = (),
    manager: Any = _UNSET,
    licenses: list[LicenseSpec] | None = None,
    line: int = 1,
    **attrs: Any,
) -> DesiredUser:
    return DesiredUser(
        key=upn.lower(),
        attrs=attrs,
        location=at(line),
        id=id,
        renamed_from=renamed_from,
        manager_declared=manager is not _UNSET,
        manager=None if manager is _UNSET or manager is None else manager.lower(),
        licenses=tuple(licenses) if licenses is not None else None,
    )


def dgroup(
    nick: str,
    *,
    id: str | None = None,
    renamed_from: tuple[str, ...] = (),
    owners: list[str] | None = None,
    members: list[str] | None = None,
    mode: str = "replace",
    licenses: list[LicenseSpec] | None = None,
    line: int = 1,
    **attrs: Any,
) -> DesiredGroup:
    """`members` are UPNs, or `group:NICK` for a nested group."""
    refs = None
    if members is not None:
        refs = Members.of(
            MemberRef("group", m.removeprefix("group:").lower())
            if m.startswith("group:")
            else MemberRef("user", m.lower())
            for m in members
        )
    return DesiredGroup(
        key=nick.lower(),
        attrs=attrs,
        location=at(line, "state/groups.yaml"),
        id=id,
        renamed_from=renamed_from,
        owners=tuple(o.lower() for o in owners) if owners is not None else None,
        members=refs,
        members_mode=mode,  # type: ignore[arg-type]
        licenses=tuple(licenses) if licenses is not None else None,
    )


def desired(
    *objects: DesiredUser | DesiredGroup | DesiredRole, refs: list[Reference] | None = None
) -> DesiredState:
    state = DesiredState(external_refs=refs or [])
    for obj in objects:
        if isinstance(obj, DesiredUser):
            state.users[obj.key] = obj
        elif isinstance(obj, DesiredRole):
            state.roles[obj.key] = obj
        else:
            state.groups[obj.key] = obj
    return state


def luser(
    id: str,
    upn: str,
    *,
    manager_id: str | None = None,
    synced: bool = False,
    licenses: dict[str, tuple[str, ...]] | None = None,
    inherited: tuple[str, ...] = (),
    **attrs: Any,
) -> LiveUser:
    attrs.setdefault("accountEnabled", True)
    return LiveUser(
        id=id,
        upn=upn,
        attrs=attrs,
        manager_id=manager_id,
        on_premises_sync=synced,
        direct_licenses={sku: LiveLicense(sku, frozenset(plans)) for sku, plans in (licenses or {}).items()},
        inherited_sku_ids=frozenset(inherited),
    )


def lgroup(
    id: str,
    nick: str,
    *,
    members: tuple[str, ...] = (),
    member_groups: tuple[str, ...] = (),
    owners: tuple[str, ...] = (),
    licenses: dict[str, tuple[str, ...]] | None = None,
    synced: bool = False,
    **attrs: Any,
) -> LiveGroup:
    return LiveGroup(
        id=id,
        mail_nickname=nick,
        attrs=attrs,
        member_user_ids=set(members),
        member_group_ids=set(member_groups),
        owner_ids=set(owners),
        licenses={sku: LiveLicense(sku, frozenset(plans)) for sku, plans in (licenses or {}).items()},
        on_premises_sync=synced,
    )


def skus(e3_free: int = 10, e5_free: int = 10) -> dict[str, LiveSku]:
    return {
        E3: LiveSku(
            E3,
            "ENTERPRISEPACK",
            enabled=25,
            consumed=25 - e3_free,
            service_plans=[
                ServicePlan(YAMMER, "YAMMER_ENTERPRISE"),
                ServicePlan(EXCHANGE, "EXCHANGE_S_ENTERPRISE"),
            ],
        ),
        E5: LiveSku(
            E5, "SPE_E5", enabled=25, consumed=25 - e5_free, service_plans=[ServicePlan(TEAMS, "TEAMS1")]
        ),
    }


def live(
    *objects: LiveUser | LiveGroup,
    sku_table: dict[str, LiveSku] | None = None,
    domains: tuple[str, ...] = ("contoso.example", "fabrikam.example"),
) -> LiveState:
    state = LiveState(tenant_id="tenant-1", skus=sku_table if sku_table is not None else skus())
    state.verified_domains = set(domains)
    for obj in objects:
        if isinstance(obj, LiveUser):
            state.users[obj.id] = obj
        else:
            state.groups[obj.id] = obj
    return state


def config(**sections: Any) -> Config:
    """`config(scope={...}, removal={...}, safety={...})`; safety checks off unless given."""
    sections.setdefault("safety", {"min_existing": 1_000_000})
    return Config.model_validate(sections)


def sample() -> tuple[DesiredState, LiveState, Config]:
    """A small tenant and a desired state that needs one change of most kinds, plus a protected item."""
    state = live(
        luser("u1", "bob@contoso.example", jobTitle="Engineer", usageLocation="GB", licenses={E3: (YAMMER,)}),
        luser("u2", "grace@contoso.example"),
        luser("u3", "breakglass@contoso.example", jobTitle="Emergency"),
        luser("u4", "eve@contoso.example"),
        lgroup("g1", "grp-eng", members=("u1", "u4"), owners=("u2",), displayName="Engineering"),
    )
    want = desired(
        duser(
            "ada@contoso.example", displayName="Ada Lovelace", usageLocation="GB", licenses=[lic("SPE_E5")]
        ),
        duser("bob@contoso.example", jobTitle="Staff Engineer", manager="grace@contoso.example", licenses=[]),
        duser("breakglass@contoso.example", jobTitle="Hacked"),
        dgroup(
            "grp-eng",
            members=["ada@contoso.example", "bob@contoso.example"],
            owners=["grace@contoso.example"],
        ),
    )
    return want, state, config(scope={"protected": ["breakglass@contoso.example"]})


def flat(change: Change) -> SimpleNamespace:
    """A change as the plan JSON names its fields (SPEC §4); a field the JSON leaves out is None."""
    data = change_to_dict(change)
    fields = {name: data.get(JSON_NAMES.get(name, name)) for name in FLAT_FIELDS}
    fields["depends_on"] = data.get("depends_on", [])
    fields["revoke_sessions"] = data.get("revoke_sessions", False)
    return SimpleNamespace(**fields)


def flat_diff(want: DesiredState, have: LiveState, cfg: Config) -> Any:
    """`diff`, with each change seen as its plan JSON (`flat`), so tests read the documented fields."""
    plan = diff(want, have, cfg)
    return replace(plan, changes=[flat(c) for c in plan.changes])


JSON_NAMES = {"disabled_plans": "disabledPlans"}
FLAT_FIELDS = (
    "id",
    "action",
    "kind",
    "key",
    "object_id",
    "after",
    "diff",
    "group",
    "member",
    "owner",
    "user",
    "manager",
    "sku",
    "sku_id",
    "disabled_plans",
    "disabled_plan_ids",
    "target_id",
    "role",
    "principal",
)


def change(id: str, action: str, kind: str, **fields: Any) -> Change:
    """A change written the way the plan JSON writes it: `change("c1", "add_member", "membership",
    group="grp-a", member="ada@…", object_id="g1")` (a create needs no `after`, an update no `diff`)."""
    data: dict[str, Any] = {"id": id, "action": action, "kind": kind}
    if action == "create":
        data["after"] = {}
    if action == "update":
        data["diff"] = {}
    data |= {JSON_NAMES.get(k, k): v for k, v in fields.items() if v is not None and v is not False}
    return change_from_dict(data)


# The directory roles of the unit tests: real templateIds of three built-in roles.
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
USER_ADMIN = "fe930be7-5e62-47db-91af-98c3a49a38b1"
HELPDESK_ADMIN = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
ROLE_NAMES = {
    GLOBAL_ADMIN: "Global Administrator",
    USER_ADMIN: "User Administrator",
    HELPDESK_ADMIN: "Helpdesk Administrator",
}


def with_roles(state: LiveState, *holders: tuple[str, str]) -> LiveState:
    """`state` with the three built-in roles defined and `holders` (role id, principal id) assigned at /."""
    state.role_definitions = {rid: LiveRoleDefinition(rid, name, rid) for rid, name in ROLE_NAMES.items()}
    for n, (role_id, principal_id) in enumerate(holders):
        state.role_assignments[f"ra{n}"] = LiveRoleAssignment(f"ra{n}", role_id, principal_id, "/")
    return state


def drole(role: str, *principals: str, mode: str = "replace", scope: str = "/", line: int = 1) -> DesiredRole:
    """`principals` are UPNs, or `group:NICK`."""
    refs = tuple(
        MemberRef("group", p.removeprefix("group:"))
        if p.startswith("group:")
        else MemberRef("user", p.lower())
        for p in principals
    )
    return DesiredRole(role, scope, refs, mode, at(line, "state/roles.yaml"))  # type: ignore[arg-type]
