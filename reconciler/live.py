"""`LiveState`: a normalised snapshot of the tenant, built from raw Graph JSON.

Plain dataclasses of dicts and sets: the bulk read of a 100,000-user tenant and the diff over a
million edges must not go through SDK model objects (msgraph-sdk-python issue #584:
~8 ms per object).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal


@dataclass(frozen=True)  # shared: every user holding the same license holds one object (`license_of`)
class LiveLicense:
    sku_id: str
    disabled_plans: frozenset[str]  # servicePlanIds


@cache
def license_of(sku_id: str, disabled_plans: frozenset[str]) -> LiveLicense:
    """One `LiveLicense` per SKU and disabled plans: a tenant has a handful of distinct ones, held by
    100,000 users."""
    return LiveLicense(sku_id, disabled_plans)


@dataclass
class LiveUser:
    id: str
    upn: str  # userPrincipalName as Graph returns it (original case)
    attrs: dict[str, Any]  # Graph properties read (camelCase), e.g. displayName, jobTitle, accountEnabled
    manager_id: str | None = None
    on_premises_sync: bool = False
    # Direct assignments only (licenseAssignmentStates with assignedByGroup null), by skuId.
    direct_licenses: dict[str, LiveLicense] = field(default_factory=dict)
    # skuIds this user holds through a group (never touched by entraform).
    inherited_sku_ids: frozenset[str] = frozenset()
    mail: str | None = None  # a guest's is the address it was invited at
    external_user_state: str | None = None  # a guest's: PendingAcceptance, then Accepted
    deleted_at: str | None = None  # deletedDateTime, for a user read from directory/deletedItems

    @property
    def key(self) -> str:
        return self.upn.lower()


@dataclass
class LiveGroup:
    id: str
    mail_nickname: str
    attrs: dict[str, Any]
    member_user_ids: set[str] = field(default_factory=set)
    member_group_ids: set[str] = field(default_factory=set)
    owner_ids: set[str] = field(default_factory=set)
    licenses: dict[str, LiveLicense] = field(default_factory=dict)  # group-based licensing, by skuId
    on_premises_sync: bool = False
    deleted_at: str | None = None  # deletedDateTime, for a group read from directory/deletedItems

    @property
    def key(self) -> str:
        return self.mail_nickname.lower()


@dataclass
class ServicePlan:
    id: str
    name: str


@dataclass
class LiveSku:
    sku_id: str
    part_number: str
    enabled: int  # prepaidUnits.enabled
    consumed: int  # consumedUnits
    service_plans: list[ServicePlan] = field(default_factory=list)


# The roles a read is to cover: names as the YAML writes them (displayName or templateId), or "all".
RolesToRead = Collection[str] | Literal["all"]


@dataclass(frozen=True)
class LiveRoleDefinition:
    id: str
    display_name: str
    template_id: str


@dataclass(frozen=True)
class LiveRoleAssignment:
    id: str
    role_definition_id: str
    principal_id: str
    directory_scope_id: str


@dataclass
class LiveState:
    tenant_id: str
    users: dict[str, LiveUser] = field(default_factory=dict)  # by id
    groups: dict[str, LiveGroup] = field(default_factory=dict)  # by id
    skus: dict[str, LiveSku] = field(default_factory=dict)  # by skuId
    verified_domains: set[str] = field(default_factory=set)  # lower-cased
    # Directory roles, read only when the desired state declares some (SPEC §3): every definition, and
    # the assignments of the declared roles only (of every role for `import`).
    role_definitions: dict[str, LiveRoleDefinition] = field(default_factory=dict)  # by id
    role_assignments: dict[str, LiveRoleAssignment] = field(default_factory=dict)  # by id
    # directory/deletedItems, read only when a declared user or group matches no live one: what a plan
    # restores instead of creating anew (Graph keeps deleted users and Microsoft 365 groups 30 days).
    deleted_users: dict[str, LiveUser] = field(default_factory=dict)  # by id
    deleted_groups: dict[str, LiveGroup] = field(default_factory=dict)  # by id

    def role_definition(self, name: str) -> LiveRoleDefinition | None:
        return find_role(self.role_definitions.values(), name)

    def user_by_upn(self) -> dict[str, LiveUser]:
        return {u.key: u for u in self.users.values()}

    def group_by_nickname(self) -> dict[str, LiveGroup]:
        return {g.key: g for g in self.groups.values()}


def find_role(definitions: Iterable[LiveRoleDefinition], name: str) -> LiveRoleDefinition | None:
    """A role definition by displayName (case-insensitive), templateId or id."""
    wanted = name.strip().lower()
    for definition in definitions:
        if wanted in (definition.display_name.lower(), definition.template_id.lower(), definition.id.lower()):
            return definition
    return None
