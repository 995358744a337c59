"""`--target KIND:KEY`: a plan narrowed to the changes touching some objects (SPEC §1).

A target must name an object the desired state declares (by key or a former key) or the tenant holds:
a typo is an error, not an empty plan that looks like a clean tenant.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reconciler.desired.model import DesiredGroup, DesiredState, DesiredUser
from reconciler.errors import EntraformError
from reconciler.live import LiveState
from reconciler.plan.model import Change, Plan, ends

TARGET_KINDS = ("user", "group")


@dataclass(frozen=True)
class Target:
    """A user by UPN or a group by mailNickname (case-insensitive)."""

    kind: str
    key: str

    @classmethod
    def parse(cls, text: str) -> Target:
        kind, sep, key = text.partition(":")
        if not sep or kind not in TARGET_KINDS or not key.strip():
            raise EntraformError(
                f"--target {text!r}: write KIND:KEY with KIND user or group, "
                "e.g. user:ada@contoso.example or group:grp-engineering"
            )
        return cls(kind, key.strip().lower())

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"

    def touches(self, change: Change) -> bool:
        """The change is about this object: the object itself, or an edge (member, owner, manager,
        license) with this object at either end."""
        return any(end.kind == self.kind and end.key == self.key for end in ends(change))


def check_targets(targets: list[Target], desired: DesiredState, live: LiveState) -> None:
    """Raise naming every target that matches no object in the desired state or the tenant."""
    if not targets:
        return
    known: dict[str, set[str]] = {
        "user": {u.key for u in live.users.values()},
        "group": {g.key for g in live.groups.values()},
    }
    declared: list[DesiredUser | DesiredGroup] = [*desired.users.values(), *desired.groups.values()]
    for obj in declared:
        kind = "user" if isinstance(obj, DesiredUser) else "group"
        known[kind].update((obj.key, *obj.renamed_from))
    unknown = [target for target in targets if target.key not in known[target.kind]]
    if unknown:
        what = f"matches no {unknown[0].kind}" if len(unknown) == 1 else "match no object"
        raise EntraformError(
            f"--target {', '.join(str(t) for t in unknown)}: {what} in the desired state or the tenant; "
            "check the spelling (a UPN or mailNickname; case does not matter)"
        )


def narrow(plan: Plan, targets: list[Target]) -> Plan:
    """Only the changes touching a target, plus the changes they depend on; ids are kept."""
    if not targets:
        return plan
    by_id = {c.id: c for c in plan.changes}
    keep = {c.id for c in plan.changes if any(t.touches(c) for t in targets)}
    todo = list(keep)
    while todo:
        for dep in by_id[todo.pop()].depends_on:
            if dep in by_id and dep not in keep:
                keep.add(dep)
                todo.append(dep)
    keys = {target.key for target in targets}
    return replace(
        plan,
        changes=[c for c in plan.changes if c.id in keep],
        unsafe=[item for item in plan.unsafe if keep.intersection(item.change_ids)],
        held=[item for item in plan.held if item.principal.lower() in keys],
        targets=[str(t) for t in targets],
    )
