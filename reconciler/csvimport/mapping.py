"""The mapping file of `import --from-csv`: which CSV column is which user attribute, the key that matches a
row to a declared user, and the file new users go to.

```yaml
key: employeeId                  # or userPrincipalName
newUsers: people/new-hires.yaml  # under state_dir
delimiter: ","                   # optional
columns:                         # CSV column → Graph attribute (a nested key as employeeOrgData.division)
  Employee Number: employeeId
  Work Email: userPrincipalName
  Cost Center: employeeOrgData.costCenter
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from reconciler.desired.schema import (
    USER_ATTRIBUTES,
    EmployeeOrgDataModel,
    OnPremisesExtensionAttributesModel,
    describe,
)
from reconciler.desired.typecheck import did_you_mean
from reconciler.errors import Location, Problem, ValidationFailed
from reconciler.files import read_text
from reconciler.yamlload import MarkedMap, parse_yaml

KEYS = ("userPrincipalName", "employeeId")
Key = Literal["userPrincipalName", "employeeId"]
NESTED = {
    "employeeOrgData": tuple(EmployeeOrgDataModel.model_fields),
    "onPremisesExtensionAttributes": tuple(OnPremisesExtensionAttributesModel.model_fields),
}
# What a column may fill: the user attributes (nested ones key by key) and the manager, by UPN.
TARGETS = [
    *(name for name in USER_ATTRIBUTES if name not in NESTED),
    *(f"{parent}.{sub}" for parent, subs in NESTED.items() for sub in subs),
    "manager",
]
_SECTIONS = ["key", "newUsers", "delimiter", "columns"]


@dataclass(frozen=True)
class Column:
    """One CSV column and the attribute it fills: `attribute` alone, or `attribute.sub` of a nested one."""

    name: str
    attribute: str
    sub: str | None
    location: Location  # where the mapping names the column


@dataclass(frozen=True)
class Mapping:
    key: Key
    new_users: str  # relative to state_dir, POSIX
    delimiter: str
    columns: tuple[Column, ...]
    file: str

    @property
    def key_column(self) -> Column:
        return next(c for c in self.columns if c.attribute == self.key and c.sub is None)


def read_mapping(path: str) -> Mapping:
    """The mapping file at `path`; `ValidationFailed` with every problem, each at its FILE:LINE:COL."""
    document, problems = parse_yaml(read_text(Path(path), "mapping file"), path)
    if problems:
        raise ValidationFailed(problems)
    if not isinstance(document, MarkedMap):
        message = (
            f"a mapping file is a mapping with `key:`, `newUsers:` and `columns:`, got {describe(document)}"
        )
        raise ValidationFailed([Problem(message, Location(path, 1, 1))])
    found: list[Problem] = []
    for name in document:
        if name not in _SECTIONS:
            message = (
                f"unknown key {name!r}{did_you_mean(name, _SECTIONS)}; a mapping file holds "
                + ", ".join(f"`{s}:`" for s in _SECTIONS)
            )
            found.append(Problem(message, document.key_location(name)))
    key = _key(document, found)
    new_users = _new_users(document, found)
    delimiter = document.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        found.append(
            Problem('delimiter: expected one character, e.g. "," or ";"', document.location_of("delimiter"))
        )
    columns = _columns(document, found)
    if key is not None and columns and not any(c.attribute == key and c.sub is None for c in columns):
        found.append(
            Problem(
                f"columns: no column is mapped to the key, {key}; map one", document.key_location("columns")
            )
        )
    if found or key is None or new_users is None or not isinstance(delimiter, str):
        raise ValidationFailed(found)
    return Mapping(key, new_users, delimiter, tuple(columns), path)


def _key(document: MarkedMap, found: list[Problem]) -> Key | None:
    key = document.get("key")
    if key == "userPrincipalName":
        return "userPrincipalName"
    if key == "employeeId":
        return "employeeId"
    where = document.location_of("key") if "key" in document else document.location
    message = "key: the attribute that matches a row to a declared user is userPrincipalName or employeeId"
    found.append(Problem(f"{message}, got {key!r}" if "key" in document else f"missing {message}", where))
    return None


def _new_users(document: MarkedMap, found: list[Problem]) -> str | None:
    value = document.get("newUsers")
    where = document.location_of("newUsers") if "newUsers" in document else document.location
    if not isinstance(value, str):
        what = f"got {describe(value)}" if "newUsers" in document else "missing"
        found.append(
            Problem(
                f"newUsers: the file new users go to, under state_dir (e.g. people/new.yaml); {what}", where
            )
        )
        return None
    path = PurePosixPath(value)
    if (
        path.is_absolute()
        or ".." in path.parts
        or path.suffix != ".yaml"
        or any(p.startswith(".") for p in path.parts)
    ):
        found.append(
            Problem(
                f"newUsers: {value!r} must be a .yaml file inside state_dir, written relative to it", where
            )
        )
        return None
    return path.as_posix()


def _columns(document: MarkedMap, found: list[Problem]) -> list[Column]:
    columns = document.get("columns")
    if not isinstance(columns, MarkedMap):
        where = document.location_of("columns") if "columns" in document else document.location
        what = f"got {describe(columns)}" if "columns" in document else "missing"
        found.append(Problem(f"columns: a mapping of CSV column → attribute; {what}", where))
        return []
    result: list[Column] = []
    taken: dict[str, Location] = {}
    for name, target in columns.items():
        where = columns.value_location(name)
        if not isinstance(target, str) or target not in TARGETS:
            shown = repr(target) if isinstance(target, str) else describe(target)
            hint = did_you_mean(target, TARGETS) if isinstance(target, str) else ""
            found.append(Problem(f"columns.{name}: {shown} is no user attribute{hint}", where))
            continue
        if target in taken:
            first = taken[target]
            found.append(
                Problem(
                    f"columns.{name}: {target} is already filled by line {first.line}; map it once", where
                )
            )
            continue
        taken[target] = where
        attribute, _, sub = target.partition(".")
        result.append(Column(str(name), attribute, sub or None, columns.key_location(name)))
    return result
