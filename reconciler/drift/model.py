"""A drift report (SPEC §4.1): every place the tenant differs from git, and who changed it when.

Items come from the plan that would put the tenant back as git says (`fix` names its change): one item
per differing attribute or edge, worded as a difference, not as a change to make.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.plan.model import HeldItem

Origin = Literal["tenant", "git", "unknown"]


@dataclass(frozen=True)
class ChangedBy:
    """Who made a change, as the directory audit log names them."""

    app: str | None = None  # appId
    app_name: str | None = None
    user: str | None = None  # userPrincipalName


@dataclass(frozen=True)
class Attribution:
    """Where a difference came from: the newest matching audit record, or none."""

    origin: Origin
    changed_by: ChangedBy | None = None
    changed_at: str | None = None
    activity: str | None = None


UNKNOWN = Attribution("unknown")


@dataclass(frozen=True)
class DriftItem:
    """One difference. `names` are the plan JSON's (`key`, or `group`/`member`, `role`/`principal`…)."""

    id: str
    kind: str
    names: dict[str, str]
    attribute: str | None
    git: Any  # what git says: a value, or "present" / "absent"
    tenant: Any  # what the tenant has
    fix: str  # the id of the plan change that puts it back
    target_ids: tuple[str, ...]  # Graph ids an audit record about it would name
    attribution: Attribution = UNKNOWN
    added_to_scope: bool = False  # an undeclared object in an authoritative scope
    deleted_in_tenant: bool = False  # a declared object the tenant no longer has


@dataclass
class DriftReport:
    tenant: str
    checked_at: str
    items: list[DriftItem] = field(default_factory=list)
    held: list[HeldItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # said once: e.g. who/when is unavailable

    @property
    def is_empty(self) -> bool:
        return not self.items and not self.held

    def summary(self) -> dict[str, int]:
        origins = [item.attribution.origin for item in self.items]
        return {
            "items": len(self.items),
            "changed_in_tenant": origins.count("tenant"),
            "not_applied": origins.count("git"),
            "unknown": origins.count("unknown"),
            "added_to_scope": sum(1 for item in self.items if item.added_to_scope),
            "held": len(self.held),
        }
