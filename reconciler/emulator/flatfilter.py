"""`$filter` over the plain Graph objects that are neither users nor groups: role definitions, role
assignments and directory audit records (Graph docs: rbacapplication-list-roledefinitions,
rbacapplication-list-roleassignments, directoryaudit-list).

Each collection says which properties take which operators (`Filterable`): a property is named by its path
("initiatedBy/app/appId"), a lambda's property by the collection and the item's property
("targetResources/id"). Comparisons combine with `and` and `or`. A datetime property compares as an
instant and takes Graph's unquoted literal (`activityDateTime ge 2026-01-01T00:00:00Z`). Strings compare
ignoring case, as the directory does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from odata_query import ast

from reconciler.emulator.odata import parse_filter
from reconciler.emulator.types import GraphApiError, Json

Predicate = Callable[[Json], bool]
# property path -> the operators it takes ("eq", "ne", "in", "ge", "le", "gt", "lt", "startswith", "any")
Filterable = dict[str, frozenset[str]]

_OPERATORS: dict[type[ast._Comparator], tuple[str, Callable[[Any, Any], bool]]] = {
    ast.Eq: ("eq", lambda a, b: a == b),
    ast.NotEq: ("ne", lambda a, b: a != b),
    ast.GtE: ("ge", lambda a, b: a is not None and a >= b),
    ast.LtE: ("le", lambda a, b: a is not None and a <= b),
    ast.Gt: ("gt", lambda a, b: a is not None and a > b),
    ast.Lt: ("lt", lambda a, b: a is not None and a < b),
}


def compile_flat(
    text: str, allowed: Filterable, resource: str, datetimes: frozenset[str] = frozenset()
) -> Predicate:
    """One predicate for `text`; 400 Request_UnsupportedQuery for a property or operator `allowed` lacks."""
    return _Flat(allowed, resource, datetimes).compile(parse_filter(text))


def instant(text: str) -> datetime:
    """An ISO-8601 date or date-time (with `Z` or an offset; any fraction of a second) as a UTC instant."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    head, dot, rest = value.partition(".")
    if dot:  # Python reads at most six digits of a fraction
        digits = "".join(ch for ch in rest if ch.isdigit())
        value = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def path_of(node: ast._Node, variable: str | None = None) -> str | None:
    """`initiatedBy/app/appId` for the attribute chain it names (inside a lambda: below its variable)."""
    if isinstance(node, ast.Identifier):
        return None if node.name == variable else node.name
    if isinstance(node, ast.Attribute):
        owner = path_of(node.owner, variable)
        return node.attr if owner is None else f"{owner}/{node.attr}"
    return None


def value_at(obj: Any, path: str) -> Any:
    for part in path.split("/"):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


class _Flat:
    def __init__(self, allowed: Filterable, resource: str, datetimes: frozenset[str]) -> None:
        self.allowed = allowed
        self.resource = resource
        self.datetimes = datetimes

    def unsupported(self, prop: str) -> GraphApiError:
        return GraphApiError(
            400,
            "Request_UnsupportedQuery",
            f"Unsupported or invalid query filter clause specified for property '{prop}' of resource "
            f"'{self.resource}'.",
        )

    def check(self, prop: str, op: str) -> None:
        if op not in self.allowed.get(prop, frozenset()):
            raise self.unsupported(prop)

    def compile(self, node: ast._Node) -> Predicate:
        if isinstance(node, ast.BoolOp):
            left, right = self.compile(node.left), self.compile(node.right)
            if isinstance(node.op, ast.And):
                return lambda o: left(o) and right(o)
            return lambda o: left(o) or right(o)
        if isinstance(node, ast.Compare):
            return self._compare(node, None, "")
        if isinstance(node, ast.Call):
            return self._startswith(node, None, "")
        if isinstance(node, ast.CollectionLambda):
            return self._lambda(node)
        raise GraphApiError(400, "Request_UnsupportedQuery", "Unsupported query.")

    def _compare(self, node: ast.Compare, variable: str | None, prefix: str) -> Predicate:
        path = path_of(node.left, variable)
        if path is None:
            raise GraphApiError(400, "Request_UnsupportedQuery", "Unsupported query.")
        prop = prefix + path
        if isinstance(node.comparator, ast.In) and isinstance(node.right, ast.List):
            self.check(prop, "in")
            values = {self._literal(prop, v) for v in node.right.val}
            return lambda o: self._value(prop, value_at(o, path)) in values
        name, compare = _OPERATORS.get(type(node.comparator), ("?", lambda a, b: False))
        self.check(prop, name)
        wanted = self._literal(prop, node.right)
        return lambda o: compare(self._value(prop, value_at(o, path)), wanted)

    def _startswith(self, node: ast.Call, variable: str | None, prefix: str) -> Predicate:
        if node.func.name.lower() != "startswith" or len(node.args) != 2:
            raise GraphApiError(400, "Request_UnsupportedQuery", f"Unsupported function '{node.func.name}'.")
        path = path_of(node.args[0], variable)
        if path is None:
            raise GraphApiError(400, "Request_UnsupportedQuery", "Unsupported query.")
        self.check(prefix + path, "startswith")
        start = str(self._literal(prefix + path, node.args[1]))
        return lambda o: str(self._value(prefix + path, value_at(o, path)) or "").startswith(start)

    def _lambda(self, node: ast.CollectionLambda) -> Predicate:
        collection = path_of(node.owner)
        if collection is None or node.lambda_ is None or not isinstance(node.operator, ast.Any):
            raise GraphApiError(400, "Request_UnsupportedQuery", "Unsupported query.")
        self.check(collection, "any")
        variable = node.lambda_.identifier.name
        expr = node.lambda_.expression
        prefix = f"{collection}/"
        if isinstance(expr, ast.Compare):
            inner = self._compare(expr, variable, prefix)
        elif isinstance(expr, ast.Call):
            inner = self._startswith(expr, variable, prefix)
        else:
            raise self.unsupported(collection)
        return lambda o: any(inner(item) for item in value_at(o, collection) or [] if isinstance(item, dict))

    def _literal(self, prop: str, node: ast._Node) -> Any:
        if prop in self.datetimes:
            if not isinstance(node, ast.DateTime | ast.Date):
                raise GraphApiError(
                    400,
                    "BadRequest",
                    f"Invalid filter clause: the value of '{prop}' must be a DateTimeOffset literal, "
                    "written without quotes (e.g. 2026-01-01T00:00:00Z).",
                )
            return instant(node.val)
        if isinstance(node, ast.Null):
            return None
        if isinstance(node, ast.Boolean):
            return node.val.lower() == "true"
        if isinstance(node, ast.Integer):
            return int(node.val)
        if isinstance(node, ast.String | ast.GUID):
            return node.val.casefold()
        raise GraphApiError(400, "Request_UnsupportedQuery", "Unsupported literal in filter clause.")

    def _value(self, prop: str, value: Any) -> Any:
        if prop in self.datetimes:
            return instant(value) if isinstance(value, str) else None
        return value.casefold() if isinstance(value, str) else value
