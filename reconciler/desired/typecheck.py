"""Type-check one YAML user or group against its pydantic model; point each error at its YAML node.

Pydantic reports `("licenses", 0, "sku")` and "Input should be a valid string"; users get
`users[3].licenses[0].sku: expected a string, got a number` at that node's line and column, a
"did you mean" for a misspelt key and, where YAML read an unquoted word as something else, the fix.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from reconciler.desired.schema import InvitationModel, LicenseModel, describe
from reconciler.errors import Location, Problem
from reconciler.yamlload import MarkedList, MarkedMap

M = TypeVar("M", bound=BaseModel)


@dataclass
class Checked(Generic[M]):
    """The outcome of type-checking one item.

    When the item has type errors, `spec` is what validates once the broken keys are left out (or
    None if even that fails, e.g. the key is missing), so that the rules can still check the rest
    and one run reports every problem of the item.
    """

    spec: M | None
    problems: list[Problem]


def type_check(model: type[M], item: MarkedMap, path: str) -> Checked[M]:
    """Validate `item`, written at `path` (e.g. `users[3]`)."""
    try:
        return Checked(model.model_validate(item), [])
    except ValidationError as exc:
        errors = exc.errors()
    problems = [_problem(model, item, path, error) for error in errors]
    broken = {error["loc"][0] for error in errors if error["loc"]}
    rest = item.without(broken)
    try:
        return Checked(model.model_validate(rest), problems)
    except ValidationError:
        return Checked(None, problems)


def did_you_mean(word: str, known: list[str]) -> str:
    """` (did you mean 'jobTitle'?)` when a known name is close to `word`, else ""."""
    folded = {name.lower(): name for name in known}
    match = folded.get(word.lower()) or next(
        iter(difflib.get_close_matches(word, known, n=1, cutoff=0.6)), None
    )
    return f" (did you mean {match!r}?)" if match else ""


def join_path(path: str, part: str | int) -> str:
    return f"{path}[{part}]" if isinstance(part, int) else f"{path}.{part}"


def _problem(model: type[BaseModel], item: MarkedMap, path: str, error: ErrorDetails) -> Problem:
    loc = error["loc"]
    parent: Any = item
    location = item.location
    parent_path = path
    for part in loc[:-1]:
        parent, location = _child(parent, part, location)
        parent_path = join_path(parent_path, part)
    last = loc[-1] if loc else ""
    value = error["input"]
    kind = error["type"]
    if kind == "missing":
        return Problem(f"{parent_path}: missing required key {last!r}", _own_location(parent, location))
    if kind == "extra_forbidden" and isinstance(parent, MarkedMap) and isinstance(last, str):
        nested: dict[str, type[BaseModel]] = {"licenses": LicenseModel, "invitation": InvitationModel}
        owner: type[BaseModel] = next(
            (nested[part] for part in loc[:-1] if isinstance(part, str) and part in nested), model
        )
        known = list(owner.model_fields)
        message = f"unknown key {last!r}{did_you_mean(last, known)}"
        return Problem(f"{parent_path}: {message}", parent.key_location(last))
    _, location = _child(parent, last, location)
    message = _message(error, value, _plain_text(parent, last))
    return Problem(f"{join_path(parent_path, last)}: {message}", location)


def _child(parent: Any, part: str | int, location: Location) -> tuple[Any, Location]:
    if isinstance(parent, MarkedMap) and isinstance(part, str) and part in parent:
        return parent[part], parent.location_of(part)
    if isinstance(parent, MarkedList) and isinstance(part, int) and part < len(parent):
        return parent[part], parent.item_location(part)
    return parent, location


def _plain_text(parent: Any, part: str | int) -> str | None:
    if isinstance(parent, MarkedMap) and isinstance(part, str):
        return parent.plain_text.get(part)
    if isinstance(parent, MarkedList) and isinstance(part, int):
        return parent.plain_text.get(part)
    return None


def _own_location(value: Any, fallback: Location) -> Location:
    return value.location if isinstance(value, MarkedMap | MarkedList) else fallback


def _message(error: ErrorDetails, value: Any, plain: str | None) -> str:
    kind = error["type"]
    got = describe(value)
    quote = f'; write "{plain}" in quotes' if plain is not None else ""
    if kind == "string_type":
        return f"expected a string, got {got}{quote}"
    if kind == "bool_type":
        return f"expected true or false, got {got}"
    if kind == "list_type":
        if value is None:
            return "expected a list, got null; write [] for none, or leave the key out to leave it unmanaged"
        hint = f"; write [{value}] for a list of one" if isinstance(value, str) else ""
        if isinstance(value, dict):
            hint = "; start each item with `- `"
        return f"expected a list, got {got}{hint}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        hint = f"; write `sku: {value}`" if isinstance(value, str) and "licenses" in error["loc"] else ""
        return f"expected a mapping (key: value), got {got}{hint}"
    if kind == "literal_error":
        ctx = error.get("ctx") or {}
        shown = repr(value) if isinstance(value, str) else got
        return f"expected {ctx.get('expected', 'one of the allowed values')}, got {shown}{quote}"
    return error["msg"]
