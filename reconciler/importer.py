"""`LiveState` → desired-state YAML files, so a team can adopt entraform from an existing tenant.

The output is meant to validate as it is and to plan as empty against the tenant it came from.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

from reconciler.desired import grouptypes
from reconciler.desired.schema import GROUP_ATTRIBUTES, USER_ATTRIBUTES
from reconciler.files import make_directory, write_lines
from reconciler.live import LiveGroup, LiveLicense, LiveSku, LiveState, LiveUser

SCHEMA_FILE = Path("schemas") / "state.schema.json"  # where `entraform schema` writes it by default


def _present(value: Any) -> bool:
    return value is not None and value != [] and value != ""


def _licenses(licenses: Iterable[LiveLicense], skus: dict[str, LiveSku]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for lic in licenses:
        sku = skus.get(lic.sku_id)
        names = {p.id: p.name for p in sku.service_plans} if sku else {}
        entry: dict[str, Any] = {"sku": sku.part_number if sku else lic.sku_id}
        if lic.disabled_plans:
            entry["disabledPlans"] = sorted(names.get(p, p) for p in lic.disabled_plans)
        out.append(entry)
    return sorted(out, key=lambda e: str(e["sku"]))


def is_guest(user: LiveUser) -> bool:
    return user.attrs.get("userType") == "Guest"


def invited_address(user: LiveUser) -> str:
    """The address a guest was invited at: its `mail`, else read back from its `local_domain#EXT#` UPN."""
    if user.mail:
        return user.mail
    local = user.upn.split("#EXT#", 1)[0]
    name, _, domain = local.rpartition("_")
    return f"{name}@{domain}" if name else local


def user_ref(user: LiveUser) -> str:
    """How the written YAML names a user: its UPN, or a guest's invited address (its key there)."""
    return invited_address(user) if is_guest(user) else user.upn


# A guest's UPN and mailNickname are Graph's (`…#EXT#`): it is declared by its invitation instead.
_GRAPH_MADE_FOR_GUESTS = frozenset({"userPrincipalName", "mailNickname"})


def user_entry(user: LiveUser, live: LiveState, with_ids: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if with_ids:
        entry["id"] = user.id
    guest = is_guest(user)
    for attr in USER_ATTRIBUTES:
        value = user.upn if attr == "userPrincipalName" else user.attrs.get(attr)
        if guest and attr in _GRAPH_MADE_FOR_GUESTS:
            continue
        if attr == "userType" and value == "Member":
            continue  # Graph's default: said only of guests
        if isinstance(value, dict):  # employeeOrgData, onPremisesExtensionAttributes: the keys set
            value = {key: item for key, item in value.items() if _present(item)}
        if _present(value) and value != {}:
            entry[attr] = value
    if guest:
        entry["invitation"] = {"invitedUserEmailAddress": invited_address(user)}
    if user.manager_id and user.manager_id in live.users:
        entry["manager"] = user_ref(live.users[user.manager_id])
    if user.direct_licenses:
        entry["licenses"] = _licenses(user.direct_licenses.values(), live.skus)
    return entry


def group_entry(group: LiveGroup, live: LiveState, with_ids: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if with_ids:
        entry["id"] = group.id
    for attr in GROUP_ATTRIBUTES:
        value = group.mail_nickname if attr == "mailNickname" else group.attrs.get(attr)
        if attr == "groupTypes":
            entry[attr] = value or []  # said even when empty: what a group is decides what it may hold
        elif _present(value) or attr in ("securityEnabled", "mailEnabled"):
            entry[attr] = value if value is not None else False
    owners = sorted(user_ref(live.users[i]) for i in group.owner_ids if i in live.users)
    if owners:
        entry["owners"] = owners
    dynamic = bool(group.attrs.get("membershipRule"))
    if not dynamic:
        members: list[Any] = sorted(user_ref(live.users[i]) for i in group.member_user_ids if i in live.users)
        members += sorted(
            ({"group": live.groups[i].mail_nickname} for i in group.member_group_ids if i in live.groups),
            key=lambda m: m["group"],
        )
        entry["members"] = members
    if group.licenses:
        entry["licenses"] = _licenses(group.licenses.values(), live.skus)
    return entry


def find_schema(out_dir: Path) -> Path | None:
    """The state schema an editor should use for files written to `out_dir`: `schemas/state.schema.json`
    in `out_dir` or the nearest folder above it (the repository's), or None when there is none."""
    folder = out_dir.resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / SCHEMA_FILE).is_file():
            return candidate / SCHEMA_FILE
    return None


def modeline(schema: Path | None, out_dir: Path) -> str:
    """The first line that points the YAML language server at `schema`, relative to the file."""
    if schema is None:
        return ""
    relative = Path(os.path.relpath(schema, out_dir.resolve())).as_posix()
    return f"# yaml-language-server: $schema={relative}\n"


Layout = Literal["single", "per-department", "per-group-prefix"]
LAYOUTS: tuple[Layout, ...] = ("single", "per-department", "per-group-prefix")
_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class Export:
    files: dict[str, str]  # YAML text by file name (relative to the output folder)
    users: int
    groups: int
    read_only_groups: int  # left out: Exchange's groups cannot be declared
    roles: int
    unnamed_holders: int  # role assignments of service principals (or unread objects): not declarable


@dataclass(frozen=True)
class _File:
    name: str  # relative path, e.g. "users/engineering.yaml"
    section: str  # users, groups or roles
    entries: Iterator[tuple[dict[str, Any], str]]  # each with a comment line after it ("" for none)


@dataclass
class _Plan:
    """What goes where: the files of a layout, their entries made one at a time as they are written."""

    files: list[_File]
    users: int
    groups: int
    read_only_groups: int
    roles: int
    unnamed: int


def _plan(
    live: LiveState, user_ids: set[str] | None, group_ids: set[str] | None, with_ids: bool, layout: Layout
) -> _Plan:
    users = sorted(
        (u for u in live.users.values() if user_ids is None or u.id in user_ids), key=lambda u: u.key
    )
    chosen = [g for g in live.groups.values() if group_ids is None or g.id in group_ids]
    # Exchange's groups cannot be declared (read-only through Graph): members may still name them.
    groups = sorted((g for g in chosen if not grouptypes.is_read_only(g.attrs)), key=lambda g: g.key)
    roles, unnamed = role_entries(live)
    user_files = (
        _split(users, lambda u: f"users/{_slug(u.attrs.get('department'), 'no-department')}.yaml")
        if layout == "per-department"
        else {"users.yaml": users}
    )
    group_files = (
        _split(
            groups, lambda g: f"groups/{_slug(g.key.split('-', 1)[0] if '-' in g.key else '', 'other')}.yaml"
        )
        if layout == "per-group-prefix"
        else {"groups.yaml": groups}
    )
    files = [
        _File(name, "users", ((user_entry(u, live, with_ids), user_note(u)) for u in part))
        for name, part in user_files.items()
    ]
    files += [
        _File(name, "groups", ((group_entry(g, live, with_ids), "") for g in part))
        for name, part in group_files.items()
    ]
    if roles:
        files.append(_File("roles.yaml", "roles", ((r, "") for r in roles)))
    return _Plan(files, len(users), len(groups), len(chosen) - len(groups), len(roles), unnamed)


T = TypeVar("T")


def _split(items: list[T], file_of: Callable[[T], str]) -> dict[str, list[T]]:
    files: dict[str, list[T]] = {}
    for item in items:
        files.setdefault(file_of(item), []).append(item)
    return dict(sorted(files.items()))


def _slug(value: Any, empty: str) -> str:
    """A file name from a department or prefix: lower case, letters, digits and dashes."""
    text = re.sub(r"[^a-z0-9]+", "-", str(value or "").lower()).strip("-")
    return text or empty


def user_note(user: LiveUser) -> str:
    """A guest's redemption state, read-only in Graph: said as a comment under the guest."""
    if not is_guest(user) or not user.external_user_state:
        return ""
    return f"  # externalUserState: {user.external_user_state} (read-only: set when the guest redeems)\n"


def _items(entries: Iterator[tuple[dict[str, Any], str]]) -> Iterator[str]:
    """Each entry as one YAML list item, dumped on its own: a file of 100,000 users is never held whole."""
    for entry, note in entries:
        yield yaml.dump(
            [entry], Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=110
        )
        if note:
            yield note


def target_files(
    layout: Layout, live: LiveState, user_ids: set[str] | None, group_ids: set[str] | None
) -> list[str]:
    """The files an import would write, to refuse overwriting any of them first."""
    return [f.name for f in _plan(live, user_ids, group_ids, False, layout).files]


def write_state(
    live: LiveState,
    out_dir: Path,
    *,
    user_ids: set[str] | None = None,
    group_ids: set[str] | None = None,
    with_ids: bool = False,
    layout: Layout = "single",
    schema: Path | None = None,
) -> Export:
    """Write the desired-state YAML of `live` under `out_dir`, streamed entry by entry; each file
    starts with the modeline of `schema` (relative to it) and is written whole or not at all."""
    plan = _plan(live, user_ids, group_ids, with_ids, layout)
    for file in plan.files:
        path = out_dir / file.name
        make_directory(path.parent)
        lines = itertools.chain([modeline(schema, path.parent), f"{file.section}:\n"], _items(file.entries))
        write_lines(path, lines, "YAML file")
    return Export(
        {f.name: "" for f in plan.files},
        plan.users,
        plan.groups,
        plan.read_only_groups,
        plan.roles,
        plan.unnamed,
    )


def export_state(
    live: LiveState,
    *,
    user_ids: set[str] | None = None,
    group_ids: set[str] | None = None,
    with_ids: bool = False,
    header: str = "",
    layout: Layout = "single",
) -> Export:
    """The YAML text of each file in memory (`header`, a modeline, first): for tests and benchmarks."""
    plan = _plan(live, user_ids, group_ids, with_ids, layout)
    texts = {f.name: "".join([header, f"{f.section}:\n", *_items(f.entries)]) for f in plan.files}
    return Export(texts, plan.users, plan.groups, plan.read_only_groups, plan.roles, plan.unnamed)


def role_entries(live: LiveState) -> tuple[list[dict[str, Any]], int]:
    """One `roles:` entry per role and scope the read holds assignments of, principals by UPN or
    `group: NICK` (sorted); and how many holders are neither (service principals: not declarable)."""
    holders: dict[tuple[str, str], list[Any]] = {}
    unnamed = 0
    for assignment in live.role_assignments.values():
        definition = live.role_definitions.get(assignment.role_definition_id)
        user = live.users.get(assignment.principal_id)
        group = live.groups.get(assignment.principal_id)
        if definition is None or (user is None and group is None):
            unnamed += 1
            continue
        principal: Any = (
            user_ref(user) if user is not None else {"group": group.mail_nickname if group else ""}
        )
        holders.setdefault((definition.display_name, assignment.directory_scope_id), []).append(principal)
    entries: list[dict[str, Any]] = []
    for (name, scope), principals in sorted(holders.items()):
        users = sorted(p for p in principals if isinstance(p, str))
        groups = sorted((p for p in principals if isinstance(p, dict)), key=lambda p: str(p["group"]))
        entry: dict[str, Any] = {"role": name, "principals": [*users, *groups]}
        if scope != "/":
            entry["directoryScopeId"] = scope
        entries.append(entry)
    return entries, unnamed
