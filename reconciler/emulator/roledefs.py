"""The tenant's directory role definitions: Microsoft Entra's built-in roles, read from builtin_roles.yaml.

A built-in role's id is its templateId, the same in every tenant (Graph docs: resources/unifiedroledefinition;
rbacapplication-list-roledefinitions, whose examples show `id` equal to `templateId`). The emulator holds
no custom roles: `roleDefinitions` is read-only here.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

from reconciler.emulator.types import Json

DATA = "builtin_roles.yaml"
# Graph's version of every built-in definition (rbacapplication-list-roledefinitions example).
VERSION = "1"


@functools.cache
def _catalogue() -> tuple[Json, ...]:
    text = resources.files(__package__).joinpath(DATA).read_text(encoding="utf-8")
    document: Any = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return tuple(_definition(entry) for entry in document["roles"])


def _definition(entry: Json) -> Json:
    return {
        "id": entry["id"],
        "description": entry["description"],
        "displayName": entry["displayName"],
        "isBuiltIn": True,
        "isEnabled": True,
        "resourceScopes": ["/"],
        "templateId": entry["id"],
        "version": VERSION,
        "rolePermissions": [
            {"allowedResourceActions": list(entry["allowedResourceActions"]), "condition": None}
        ],
    }


def definitions() -> list[Json]:
    """Every role definition, in the catalogue's order (copies: callers may change them)."""
    return [dict(d, rolePermissions=[dict(p) for p in d["rolePermissions"]]) for d in _catalogue()]


def definition(role_id: str) -> Json | None:
    """The definition with this id (its templateId; case-insensitive, as GUIDs are)."""
    wanted = role_id.lower()
    return next((dict(d) for d in _catalogue() if d["id"] == wanted), None)


def role_name(role_id: str) -> str:
    found = definition(role_id)
    return str(found["displayName"]) if found else role_id


def role_id_named(display_name: str) -> str:
    """The id of the built-in role with this displayName (for seeds); KeyError for an unknown one."""
    for d in _catalogue():
        if d["displayName"] == display_name:
            return str(d["id"])
    raise KeyError(display_name)
