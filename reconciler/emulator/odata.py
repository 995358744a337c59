"""OData query options as Graph's directory applies them (Graph docs: concepts/query-parameters,
concepts/aad-advanced-queries, concepts/paging): $filter, $search, $orderby, $top, $skiptoken, $count, and
the advanced-query rules that decide which of them need `ConsistencyLevel`.

Filters are parsed with odata-query's AST and evaluated by a small visitor over plain dicts; the caller
supplies `get(obj, name)` so computed properties (assignedLicenses) need no special case here.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from odata_query import ast
from odata_query.exceptions import ODataException
from odata_query.grammar import ODataLexer, ODataParser

from reconciler.emulator.instants import graph_instant
from reconciler.emulator.types import GraphApiError, GraphRequest, Json

Getter = Callable[[Json, str], Any]
Predicate = Callable[[Json], bool]

DEFAULT_PAGE = 100
MAX_PAGE = 999

_ADVANCED_HINT = (
    "is not supported because the required parameters might be missing. Try adding $count=true query "
    "parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries "
    "for more information"
)
_STRING_FULL = frozenset({"eq", "ne", "not", "ge", "le", "in", "startswith"})
_BOOL = frozenset({"eq", "ne", "not", "in"})
_INSTANT_OPS = frozenset({"eq", "ne", "not", "ge", "le", "in"})

# Operators each property accepts; ne/not/endswith always need advanced parameters (Graph docs:
# concepts/aad-advanced-queries).
FILTERABLE: dict[str, dict[str, frozenset[str]]] = {
    "user": {
        "id": frozenset({"eq", "ne", "not", "in"}),
        "userPrincipalName": _STRING_FULL | {"endswith"},
        "displayName": _STRING_FULL,
        "mail": _STRING_FULL | {"endswith"},
        "mailNickname": _STRING_FULL,
        "givenName": _STRING_FULL,
        "surname": _STRING_FULL,
        "department": _STRING_FULL,
        "jobTitle": _STRING_FULL,
        "usageLocation": _STRING_FULL,
        "employeeId": _STRING_FULL,
        "city": _STRING_FULL,
        "country": _STRING_FULL,
        "accountEnabled": _BOOL,
        "userType": _BOOL,
        "onPremisesSyncEnabled": _BOOL,
        "createdDateTime": _INSTANT_OPS,
        "assignedLicenses": frozenset({"any", "not", "count"}),
        "employeeHireDate": _INSTANT_OPS,
        "employeeLeaveDateTime": _INSTANT_OPS,
        "employeeOrgData/division": _INSTANT_OPS,
        "employeeOrgData/costCenter": _INSTANT_OPS,
        "faxNumber": _STRING_FULL,
        "otherMails": frozenset({"any", "not", "count"}),
    },
    "group": {
        "id": frozenset({"eq", "ne", "not", "in"}),
        "displayName": _STRING_FULL,
        "mail": _STRING_FULL,
        "mailNickname": _STRING_FULL,
        "preferredLanguage": _STRING_FULL,
        "securityEnabled": _BOOL,
        "mailEnabled": frozenset({"eq", "ne", "not"}),
        "groupTypes": frozenset({"any", "not"}),
        "assignedLicenses": frozenset({"any"}),
        "hasMembersWithLicenseErrors": frozenset({"eq"}),
        "membershipRuleProcessingState": frozenset({"eq", "ne", "not", "in"}),
        "isAssignableToRole": frozenset({"eq", "ne", "not"}),
    },
}
ADVANCED_ONLY_PROPS = frozenset(
    {
        "companyName",
        "employeeType",
        "officeLocation",
        "mobilePhone",
        *(f"onPremisesExtensionAttributes/extensionAttribute{n}" for n in range(1, 16)),
    }
)
_ADVANCED_OPS = frozenset({"ne", "not", "endswith", "count"})


def bad_query(message: str) -> GraphApiError:
    return GraphApiError(400, "Request_UnsupportedQuery", message)


def is_advanced(req: GraphRequest) -> bool:
    """`ConsistencyLevel: eventual` plus `$count=true`: Graph's advanced query capabilities."""
    return has_eventual(req) and req.query.get("$count", "").lower() == "true"


def has_eventual(req: GraphRequest) -> bool:
    return req.headers.get("consistencylevel", "").lower() == "eventual"


def page_size(req: GraphRequest, default: int = DEFAULT_PAGE, maximum: int = MAX_PAGE) -> int:
    raw = req.query.get("$top")
    if raw is None:
        return default
    if not raw.strip().isdigit() or not 1 <= int(raw) <= maximum:
        raise GraphApiError(
            400,
            "Request_BadRequest",
            f"Invalid page size specified: '{raw}'. Must be between 1 and {maximum} inclusive.",
        )
    return int(raw)


# ---- $skiptoken / nextLink -----------------------------------------------------------------------


def encode_token(state: Json) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str) -> Json:
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise GraphApiError(400, "Request_BadRequest", f"Invalid $skiptoken: '{token}'.") from exc
    if not isinstance(state, dict):
        raise GraphApiError(400, "Request_BadRequest", f"Invalid $skiptoken: '{token}'.")
    return state


def build_url(req: GraphRequest, path: str, query: dict[str, str]) -> str:
    parts = [quote(k, safe="$") + "=" + quote(v, safe=",'()$:@/*") for k, v in query.items()]
    return f"{req.base_url}{path}" + ("?" + "&".join(parts) if parts else "")


def next_link(req: GraphRequest, token_name: str, token: str) -> str:
    query = {k: v for k, v in req.query.items() if k not in ("$skiptoken", "$deltatoken")}
    query[token_name] = token
    return build_url(req, req.path, query)


# ---- $filter -------------------------------------------------------------------------------------

# A string literal: quotes around anything, a quote inside written twice ('O''Brien').
_LITERAL = re.compile(r"'(?:[^']|'')*'")
# The stand-in for the n-th literal while the rewrites below run: nothing else in the text looks like it.
_PLACEHOLDER = re.compile(r"'(\d+)'")
# What Graph accepts and odata-query's grammar does not, rewritten into what it does.
_NOT_CALL = re.compile(r"\bnot\(", re.IGNORECASE)
_FUNC_CASE = re.compile(r"\b(startswith|endswith)\(", re.IGNORECASE)
_SINGLE_IN = re.compile(r"\bin\s*\(\s*('\d+'|[0-9a-fA-F-]{36})\s*\)")
_COUNT_SEGMENT = re.compile(r"(\w+)/\$count\s+(eq|ne)\s+0\b")


def normalise_filter(text: str) -> str:
    """`text` in odata-query's grammar: `not(` spaced, startsWith/endsWith lower-cased, a one-item `in`
    list doubled, `x/$count eq 0` as `countof_x eq 0`. String literals are left exactly as written."""
    literals: list[str] = []

    def hide(match: re.Match[str]) -> str:
        literals.append(match.group(0))
        return f"'{len(literals) - 1}'"

    source = _LITERAL.sub(hide, text)
    source = _NOT_CALL.sub("not (", source)
    source = _FUNC_CASE.sub(lambda m: m.group(1).lower() + "(", source)
    source = _SINGLE_IN.sub(r"in (\1, \1)", source)
    source = _COUNT_SEGMENT.sub(r"countof_\1 \2 0", source)
    return _PLACEHOLDER.sub(lambda m: literals[int(m.group(1))], source)


# The emulator's own bounds on a `$filter` (Microsoft documents none in one place): what a client needs
# (entraform's longest, 50 ids or-ed together, is ~250 nodes) fits many times over, while a filter built to
# exhaust the emulator (thousands of nested clauses evaluated recursively) is refused before it is run.
MAX_FILTER_CHARS = 32_768
MAX_FILTER_NODES = 4_000
MAX_FILTER_DEPTH = 200


def parse_filter(text: str) -> ast._Node:
    """A `$filter` as odata-query's AST, after `normalise_filter`; 400 when it does not parse or is over
    the bounds above."""
    if len(text) > MAX_FILTER_CHARS:
        raise _too_complex(f"it is {len(text)} characters long; at most {MAX_FILTER_CHARS} are accepted")
    source = normalise_filter(text)
    try:
        tree: ast._Node = ODataParser().parse(ODataLexer().tokenize(source))
    except ODataException as exc:
        raise GraphApiError(400, "BadRequest", f"Invalid filter clause: {exc}") from exc
    _check_size(tree)
    return tree


def _check_size(tree: ast._Node) -> None:
    """Walk the tree without recursion, counting nodes and depth."""
    nodes = 0
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_FILTER_NODES:
            raise _too_complex(f"it has more than {MAX_FILTER_NODES} terms")
        if depth > MAX_FILTER_DEPTH:
            raise _too_complex(f"it nests deeper than {MAX_FILTER_DEPTH} levels")
        children: list[Any] = []
        if dataclasses.is_dataclass(node):
            children = [getattr(node, f.name) for f in dataclasses.fields(node)]
        for child in children:
            for item in child if isinstance(child, list | tuple) else [child]:
                if dataclasses.is_dataclass(item):
                    stack.append((item, depth + 1))


def _too_complex(why: str) -> GraphApiError:
    return GraphApiError(400, "BadRequest", f"Invalid filter clause: the filter is too complex: {why}.")


def compile_filter(text: str, kind: str, advanced: bool, get: Getter) -> Predicate:
    return _Compiler(kind, advanced, get).compile(parse_filter(text))


class _Compiler:
    def __init__(self, kind: str, advanced: bool, get: Getter) -> None:
        self.kind = kind
        self.resource = kind.capitalize()
        self.advanced = advanced
        self.get = get

    def check(self, prop: str, op: str) -> None:
        allowed = FILTERABLE[self.kind].get(prop)
        if allowed is None and prop in ADVANCED_ONLY_PROPS and self.kind == "user" and self.advanced:
            return
        if allowed is None or op not in allowed:
            raise bad_query(
                f"Unsupported or invalid query filter clause specified for property '{prop}' "
                f"of resource '{self.resource}'."
            )
        if op in _ADVANCED_OPS and not self.advanced:
            name = {"endswith": "endsWith", "count": "$count"}.get(op, op)
            raise bad_query(f"Operator '{name}' {_ADVANCED_HINT}")

    def compile(self, node: ast._Node) -> Predicate:
        if isinstance(node, ast.BoolOp):
            left, right = self.compile(node.left), self.compile(node.right)
            if isinstance(node.op, ast.And):
                return lambda o: left(o) and right(o)
            return lambda o: left(o) or right(o)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self._check_not(node.operand)
            inner = self.compile(node.operand)
            return lambda o: not inner(o)
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.CollectionLambda):
            return self._lambda(node)
        raise bad_query("Unsupported query.")

    def _check_not(self, operand: ast._Node) -> None:
        prop = _first_identifier(operand)
        if prop is not None:
            self.check(prop, "not")

    def value(self, obj: Json, prop: str) -> Any:
        """The value of `prop`, or of `owner/key` inside a complex property (employeeOrgData/division)."""
        owner, _, key = prop.partition("/")
        value = self.get(obj, owner)
        if key:
            return value.get(key) if isinstance(value, dict) else None
        return value

    def _compare(self, node: ast.Compare) -> Predicate:
        prop = _property_path(node.left)
        if prop is None:
            raise bad_query("Unsupported query.")
        op = {
            ast.Eq: "eq",
            ast.NotEq: "ne",
            ast.GtE: "ge",
            ast.LtE: "le",
            ast.Gt: "ge",
            ast.Lt: "le",
            ast.In: "in",
        }.get(type(node.comparator), "?")
        if prop.startswith("countof_"):
            prop = prop.removeprefix("countof_")
            self.check(prop, "count")
            wants_empty = op == "eq"
            return lambda o: (not self.value(o, prop)) == wants_empty
        self.check(prop, op)
        if isinstance(node.right, ast.List):
            values = {_norm(_literal(v)) for v in node.right.val}
            return lambda o: _norm(self.value(o, prop)) in values
        value = _norm(_literal(node.right))
        compare: dict[type[ast._Comparator], Callable[[Any, Any], bool]] = {
            ast.Eq: lambda a, b: a == b,
            ast.NotEq: lambda a, b: a != b,
            ast.GtE: lambda a, b: a is not None and a >= b,
            ast.LtE: lambda a, b: a is not None and a <= b,
            ast.Gt: lambda a, b: a is not None and a > b,
            ast.Lt: lambda a, b: a is not None and a < b,
        }
        fn = compare[type(node.comparator)]
        return lambda o: fn(_norm(self.value(o, prop)), value)

    def _call(self, node: ast.Call) -> Predicate:
        name = node.func.name.lower()
        if name not in ("startswith", "endswith") or len(node.args) != 2:
            raise bad_query(f"Unsupported function '{node.func.name}'.")
        target, arg = node.args
        found = _property_path(target)
        if found is None:
            raise bad_query("Unsupported query.")
        prop = found
        self.check(prop, name)
        value = str(_literal(arg)).casefold()
        if name == "startswith":
            return lambda o: str(self.value(o, prop) or "").casefold().startswith(value)
        return lambda o: str(self.value(o, prop) or "").casefold().endswith(value)

    def _lambda(self, node: ast.CollectionLambda) -> Predicate:
        if not isinstance(node.owner, ast.Identifier):
            raise bad_query("Unsupported query.")
        prop = node.owner.name
        self.check(prop, "any")
        if node.lambda_ is None:  # `assignedLicenses/any()`: the collection is not empty
            return lambda o: bool(self.get(o, prop))
        var = node.lambda_.identifier.name
        expr = node.lambda_.expression
        if not isinstance(expr, ast.Compare) or not isinstance(expr.comparator, ast.Eq):
            raise bad_query(f"Unsupported or invalid query filter clause specified for property '{prop}'.")
        left = expr.left
        if (
            isinstance(left, ast.Attribute)
            and isinstance(left.owner, ast.Identifier)
            and left.owner.name == var
        ):
            attr: str | None = left.attr
        elif isinstance(left, ast.Identifier) and left.name == var:
            attr = None
        else:
            raise bad_query("Unsupported query.")
        value = _norm(_literal(expr.right))
        every = isinstance(node.operator, ast.All)

        def matches(item: Any) -> bool:
            return bool(_norm(item.get(attr) if attr and isinstance(item, dict) else item) == value)

        if every:
            return lambda o: all(matches(i) for i in self.get(o, prop) or [])
        return lambda o: any(matches(i) for i in self.get(o, prop) or [])


def _property_path(node: ast._Node) -> str | None:
    """`displayName`, or `employeeOrgData/costCenter` for a key of a complex property; else None."""
    if isinstance(node, ast.Identifier):
        return node.name
    if isinstance(node, ast.Attribute) and isinstance(node.owner, ast.Identifier):
        return f"{node.owner.name}/{node.attr}"
    return None


def _first_identifier(node: ast._Node) -> str | None:
    if isinstance(node, ast.Identifier):
        return node.name.removeprefix("countof_")
    for child in ("left", "owner", "operand"):
        sub = getattr(node, child, None)
        if isinstance(sub, ast._Node):
            return _first_identifier(sub)
    if isinstance(node, ast.Call) and node.args:
        return _first_identifier(node.args[0])
    return None


def _literal(node: ast._Node) -> Any:
    if isinstance(node, ast.Null):
        return None
    if isinstance(node, ast.Boolean):
        return node.val.lower() == "true"
    if isinstance(node, ast.Integer):
        return int(node.val)
    if isinstance(node, ast.DateTime):
        return graph_instant(node.val) or node.val  # the form the directory keeps, to compare in order
    if isinstance(node, ast.String | ast.GUID | ast.Date):
        return node.val
    raise bad_query("Unsupported literal in filter clause.")


def _norm(value: Any) -> Any:
    """Directory string comparisons ignore case."""
    return value.casefold() if isinstance(value, str) else value


# ---- $search -------------------------------------------------------------------------------------

_WORD_START = re.compile(r"\b\w")
_SEARCH_TERM = re.compile(r'"([A-Za-z]+):([^"]*)"|\b(AND|OR)\b')


def compile_search(text: str, get: Getter) -> Predicate:
    """`"displayName:foo" OR "mail:bar"`: each term matches words of the property that start with it."""
    terms: list[tuple[str, str]] = []
    ops: list[str] = []
    for match in _SEARCH_TERM.finditer(text):
        if match.group(3):
            ops.append(match.group(3))
        else:
            terms.append((match.group(1), match.group(2).casefold()))
    if not terms:
        raise GraphApiError(400, "Request_UnsupportedQuery", f"Invalid $search query: {text}")

    def term(obj: Json, prop: str, value: str) -> bool:
        text_value = str(get(obj, prop) or "").casefold()
        return any(text_value[m.start() :].startswith(value) for m in _WORD_START.finditer(text_value))

    def predicate(obj: Json) -> bool:
        result = term(obj, *terms[0])
        for index, (prop, value) in enumerate(terms[1:]):
            op = ops[index] if index < len(ops) else "AND"
            result = (result or term(obj, prop, value)) if op == "OR" else (result and term(obj, prop, value))
        return result

    return predicate


# ---- $orderby ------------------------------------------------------------------------------------

_DEFAULT_SORTABLE = {"user": {"displayName", "userPrincipalName"}, "group": {"displayName"}}


def parse_orderby(req: GraphRequest, kind: str) -> tuple[str, bool] | None:
    raw = req.query.get("$orderby") or req.query.get("$orderBy")
    if not raw:
        return None
    parts = raw.strip().split()
    prop = parts[0]
    descending = len(parts) > 1 and parts[1].lower() == "desc"
    advanced = is_advanced(req)
    if not advanced and ("$filter" in req.query or prop not in _DEFAULT_SORTABLE.get(kind, set())):
        raise bad_query("Sorting not supported for current query.")
    return prop, descending
