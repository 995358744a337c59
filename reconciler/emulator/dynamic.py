"""Dynamic membership rules (Entra "rule syntax"), the subset the emulator evaluates:

    (user.employeeType -eq "Employee") and (user.accountEnabled -eq true)

`user.<property>` compared with -eq, -ne, -startsWith, -notStartsWith, -contains or -notContains to a
"string", true, false or null; combined with and, or, not and parentheses. A rule outside that subset is
refused with `RuleError` (its group then simply has no computed members).

`DynamicGroups` keeps the members of dynamic groups in step with their rules, as Entra does: it compiles
each group's rule once and says which memberships a write to a user or a group makes wrong; the store
applies them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from reconciler.emulator.types import Json

Rule = Callable[[Json], bool]

_TOKEN = re.compile(
    r'\s*(?:(?P<open>\()|(?P<close>\))|(?P<string>"(?:[^"\\]|\\.)*")|(?P<op>-\w+)'
    r"|(?P<word>[A-Za-z_][\w.]*))"
)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "-eq": lambda a, b: _fold(a) == _fold(b),
    "-ne": lambda a, b: _fold(a) != _fold(b),
    "-startswith": lambda a, b: isinstance(a, str) and a.casefold().startswith(str(b).casefold()),
    "-notstartswith": lambda a, b: not (isinstance(a, str) and a.casefold().startswith(str(b).casefold())),
    "-contains": lambda a, b: isinstance(a, str) and str(b).casefold() in a.casefold(),
    "-notcontains": lambda a, b: not (isinstance(a, str) and str(b).casefold() in a.casefold()),
}


class RuleError(ValueError):
    """A membership rule the emulator does not evaluate."""


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def compile_rule(text: str) -> Rule:
    tokens = _tokens(text)
    rule, rest = _or(tokens)
    if rest:
        raise RuleError(f"unexpected {rest[0][1]!r} in membership rule {text!r}")
    return rule


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            raise RuleError(f"cannot read membership rule {text!r} at {position}")
        tokens.append((match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    return tokens


def _or(tokens: list[tuple[str, str]]) -> tuple[Rule, list[tuple[str, str]]]:
    left, tokens = _and(tokens)
    while tokens and tokens[0] in (("word", "or"), ("op", "-or")):
        right, tokens = _and(tokens[1:])
        left = (lambda a, b: lambda u: a(u) or b(u))(left, right)
    return left, tokens


def _and(tokens: list[tuple[str, str]]) -> tuple[Rule, list[tuple[str, str]]]:
    left, tokens = _unary(tokens)
    while tokens and tokens[0] in (("word", "and"), ("op", "-and")):
        right, tokens = _unary(tokens[1:])
        left = (lambda a, b: lambda u: a(u) and b(u))(left, right)
    return left, tokens


def _unary(tokens: list[tuple[str, str]]) -> tuple[Rule, list[tuple[str, str]]]:
    if not tokens:
        raise RuleError("membership rule ends too early")
    if tokens[0] in (("word", "not"), ("op", "-not")):
        inner, rest = _unary(tokens[1:])
        return (lambda u: not inner(u)), rest
    if tokens[0][0] == "open":
        inner, rest = _or(tokens[1:])
        if not rest or rest[0][0] != "close":
            raise RuleError("unbalanced parentheses in membership rule")
        return inner, rest[1:]
    return _comparison(tokens)


def _comparison(tokens: list[tuple[str, str]]) -> tuple[Rule, list[tuple[str, str]]]:
    if len(tokens) < 3 or tokens[0][0] != "word" or not tokens[0][1].startswith("user."):
        raise RuleError("a membership rule compares user.<property> with a value")
    prop = tokens[0][1].removeprefix("user.")
    compare = _COMPARE.get(tokens[1][1].lower())
    if tokens[1][0] != "op" or compare is None:
        raise RuleError(f"unsupported operator {tokens[1][1]!r} in membership rule")
    kind, raw = tokens[2]
    if kind == "string":
        value: Any = raw[1:-1].replace('\\"', '"')
    elif raw in ("true", "false"):
        value = raw == "true"
    elif raw == "null":
        value = None
    else:
        raise RuleError(f"unsupported value {raw!r} in membership rule")
    return (lambda user: compare(user.get(prop), value)), tokens[3:]


class DynamicGroups:
    """The compiled rules of the dynamic groups whose processing is on."""

    def __init__(self) -> None:
        self._compiled: dict[str, Rule | None] = {}  # group id -> its rule, None when it has none

    def forget(self, group_id: str) -> None:
        """Compile the group's rule again when next asked (it changed, or the group is gone)."""
        self._compiled.pop(group_id, None)

    def rules(self, groups: Mapping[str, Json]) -> dict[str, Rule]:
        rules = {}
        for group_id, group in groups.items():
            if group_id not in self._compiled:
                self._compiled[group_id] = _group_rule(group)
            rule = self._compiled[group_id]
            if rule is not None:
                rules[group_id] = rule
        return rules

    def seed_members(self, groups: Mapping[str, Json], users: Iterable[Json]) -> list[tuple[str, str]]:
        """(group id, user id) for every user each dynamic group's rule takes in."""
        listed = list(users)
        return [(g, u["id"]) for g, rule in self.rules(groups).items() for u in listed if rule(u)]

    def updates(
        self,
        kind: str,
        oid: str,
        users: Mapping[str, Json],
        groups: Mapping[str, Json],
        members: Mapping[str, Mapping[str, None]],
    ) -> Iterator[tuple[str, str, bool]]:
        """(group id, user id, add?) for each membership a write to the user or group `oid` makes wrong.

        Each one is checked against `members` only when the caller asks for it, after applying the ones
        before, so a membership the caller's own upkeep already fixed meanwhile is not reported again.
        """
        if kind == "group":
            self.forget(oid)
        rules = self.rules(groups)
        if kind == "group":
            pairs = [(oid, user) for user in users] if oid in rules else []
        else:
            pairs = [(group_id, oid) for group_id in rules]
        for group_id, user_id in pairs:
            wanted = rules[group_id](users[user_id])
            if wanted != (user_id in members.get(group_id, {})):
                yield group_id, user_id, wanted


def _group_rule(group: Json) -> Rule | None:
    if "DynamicMembership" not in (group.get("groupTypes") or []):
        return None
    if group.get("membershipRuleProcessingState") != "On" or not group.get("membershipRule"):
        return None
    try:
        return compile_rule(group["membershipRule"])
    except RuleError:
        return None
