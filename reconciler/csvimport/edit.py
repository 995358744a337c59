"""Edits of desired-state YAML text in place: a value replaced on its own line, a missing key added under
its user, new users appended to a file. Everything else in the file, comments and order included, stays
byte for byte as it was, so the review of a re-run shows only the attributes that changed.

The files are read with the marks of `yamlload` (where each key and value starts) and changed as lines
of text; PyYAML's own dumper only writes new users. A value spread over lines (a block scalar, a quoted
string broken across lines) or a user written as a flow mapping is left alone and reported: those are
edits for a person.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from reconciler.desired.instants import INSTANT_ATTRIBUTES, graph_instant
from reconciler.desired.schema import USER_ATTRIBUTES
from reconciler.errors import Problem
from reconciler.yamlload import MarkedList, MarkedMap

_RESOLVERS = getattr(yaml, "CSafeLoader", yaml.SafeLoader).yaml_implicit_resolvers
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
# The order `import` writes a user's keys in (importer.user_entry), where new keys are put.
KEY_ORDER = {key: rank for rank, key in enumerate(["id", *USER_ATTRIBUTES, "manager", "licenses"])}


def render(value: Any, flow: bool = False) -> str:
    """`value` as YAML on one line: plain where YAML reads it back as the same string, else quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(render(item, True) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {render(item, True)}" for key, item in value.items()) + "}"
    text = str(value)
    return text if _plain(text, flow) else json.dumps(text, ensure_ascii=False)


def _plain(text: str, flow: bool) -> bool:
    if not text or text != text.strip() or text[0] in _INDICATORS or not text.isprintable():
        return False
    if ": " in text or " #" in text or text.endswith(":") or (flow and any(c in text for c in ",[]{}")):
        return False
    return not any(pattern.match(text) for _, pattern in _RESOLVERS.get(text[0], ()))


def same(attribute: str, written: Any, value: Any) -> bool:
    """Whether the YAML already says `value` (instants compare as the moment they name)."""
    if attribute in INSTANT_ATTRIBUTES and isinstance(written, str):
        return bool(graph_instant(written) == value)
    return bool(written == value)


@dataclass
class TextFile:
    """One YAML file's lines and the edits made to them, applied all at once by `text()`."""

    name: str
    lines: list[str]
    replaced: dict[int, str | None] = field(default_factory=dict)  # 0-based line → new text, None: dropped
    added: dict[int, list[str]] = field(default_factory=dict)  # new lines after a 0-based line

    @property
    def changed(self) -> bool:
        return bool(self.replaced or self.added)

    def line(self, number: int) -> str:
        found = self.replaced.get(number, self.lines[number])
        return found if found is not None else ""

    def text(self) -> str:
        out: list[str] = []
        for number, line in enumerate(self.lines):
            new = self.replaced.get(number, line)
            if new is not None:
                out.append(new)
            out.extend(self.added.get(number, ()))
        return "\n".join(out)


class UserEditor:
    """Sets attributes of one declared user (its YAML mapping `item`) in `file`."""

    def __init__(self, file: TextFile, item: MarkedMap, problems: list[Problem]) -> None:
        self.file = file
        self.item = item
        self.problems = problems
        self.indent = " " * min(mark.column for mark in item.key_marks.values())
        self.changed: set[str] = set()

    def refuse(self, key: str, why: str) -> None:
        where = self.item.key_location(key) if key in self.item.key_marks else self.item.location
        self.problems.append(Problem(f"{key}: {why}; edit it by hand", where))

    def set(self, attribute: str, value: Any) -> None:
        item = self.item
        if attribute not in item:
            self._insert(attribute, f"{attribute}: {render(value)}")
        elif same(attribute, item[attribute], value):
            return
        elif isinstance(item[attribute], MarkedMap):
            self.refuse(attribute, "written as a mapping where a value belongs")
            return
        elif isinstance(item[attribute], MarkedList):
            self._replace_list(attribute, value)
        else:
            self._replace_scalar(item, attribute, value)
        self.changed.add(attribute)

    def set_nested(self, attribute: str, values: dict[str, Any]) -> None:
        """Set the keys of a nested object (employeeOrgData.division …), each on its own."""
        item = self.item
        current = item.get(attribute)
        if attribute not in item or current is None:
            if attribute in item:
                self._set_line(item, attribute, self.indent + f"{attribute}: {render(values)}")
            else:
                self._insert(attribute, f"{attribute}: {render(values)}")
            self.changed.add(attribute)
            return
        if not isinstance(current, MarkedMap):
            self.refuse(attribute, "written as a value where a mapping of keys belongs")
            return
        wanted = {key: value for key, value in values.items() if current.get(key) != value}
        if not wanted:
            return
        if self._starts_with(current.mark, "{"):
            self._replace_flow(attribute, current, {**current, **wanted})
        else:
            sub_indent = " " * min(mark.column for mark in current.key_marks.values())
            for key, value in wanted.items():
                if key in current:
                    self._replace_scalar(current, key, value)
                else:
                    self._add_after(current, sub_indent + f"{key}: {render(value)}")
        self.changed.add(attribute)

    # ---- text operations -----------------------------------------------------------------------

    def _starts_with(self, mark: Any, text: str) -> bool:
        line: str = self.file.lines[mark.line]
        return line[mark.column :].startswith(text)

    def _insert(self, attribute: str, text: str) -> None:
        """A new key of the user, after the written key that `import` would write just before it (after
        the whole user when none does), so that the file keeps import's order where it had it."""
        rank = KEY_ORDER.get(attribute, len(KEY_ORDER))
        before = [key for key in self.item if KEY_ORDER.get(key, len(KEY_ORDER)) < rank]
        if not before:
            self._add_after(self.item, self.indent + text)
            return
        anchor = max(before, key=lambda key: KEY_ORDER[key])
        child = self.item[anchor]
        line = (
            _last_line(child)
            if isinstance(child, MarkedMap | MarkedList)
            else self.item.value_marks[anchor].line
        )
        self.file.added.setdefault(line, []).append(self.indent + text)

    def _set_line(self, mapping: MarkedMap, key: str, line: str) -> None:
        self.file.replaced[mapping.key_marks[key].line] = line

    def _add_after(self, mapping: MarkedMap | MarkedList, line: str) -> None:
        self.file.added.setdefault(_last_line(mapping), []).append(line)

    def _replace_scalar(self, mapping: MarkedMap, key: str, value: Any) -> None:
        key_mark, value_mark = mapping.key_marks[key], mapping.value_marks[key]
        written = mapping[key]
        if written is None:  # `key:` or `key: null`: the line is rewritten
            prefix = self.file.line(key_mark.line)[: key_mark.column]
            self.file.replaced[key_mark.line] = f"{prefix}{key}: {render(value)}"
            return
        if value_mark.line != key_mark.line or (isinstance(written, str) and "\n" in written):
            self.refuse(key, "its value spans lines")
            return
        line = self.file.line(value_mark.line)
        end = _scalar_end(line, value_mark.column)
        if end is None:
            self.refuse(key, "its value spans lines")
            return
        self.file.replaced[value_mark.line] = line[: value_mark.column] + render(value) + line[end:]

    def _replace_list(self, key: str, value: list[Any]) -> None:
        written: MarkedList = self.item[key]
        key_mark = self.item.key_marks[key]
        if self._starts_with(written.mark, "["):
            line = self.file.line(written.mark.line)
            end = _flow_end(line, written.mark.column)
            if end is None or written.mark.line != key_mark.line:
                self.refuse(key, "its list spans lines")
                return
            self.file.replaced[written.mark.line] = line[: written.mark.column] + render(value) + line[end:]
            return
        if any(isinstance(entry, MarkedMap | MarkedList) for entry in written):
            self.refuse(key, "its items are not plain values")
            return
        # A block list becomes a flow list on the key's line: one line to review instead of several.
        prefix = self.file.line(key_mark.line)[: key_mark.column]
        self.file.replaced[key_mark.line] = f"{prefix}{key}: {render(value)}"
        for mark in written.item_marks:
            self.file.replaced[mark.line] = None

    def _replace_flow(self, key: str, current: MarkedMap, merged: dict[str, Any]) -> None:
        line = self.file.line(current.mark.line)
        end = _flow_end(line, current.mark.column)
        if end is None:
            self.refuse(key, "its mapping spans lines")
            return
        self.file.replaced[current.mark.line] = line[: current.mark.column] + render(merged) + line[end:]


def _last_line(value: MarkedMap | MarkedList) -> int:
    """The 0-based line of the last thing written inside `value`."""
    last = value.mark.line
    if isinstance(value, MarkedMap):
        for key, mark in value.value_marks.items():
            last = max(last, mark.line, value.key_marks[key].line)
            child = value[key]
            if isinstance(child, MarkedMap | MarkedList):
                last = max(last, _last_line(child))
    else:
        for index, mark in enumerate(value.item_marks):
            last = max(last, mark.line)
            child = value[index]
            if isinstance(child, MarkedMap | MarkedList):
                last = max(last, _last_line(child))
    return last


def _scalar_end(line: str, start: int) -> int | None:
    """Where the scalar starting at `start` ends on `line` (before any comment), or None when it goes on."""
    quote = line[start : start + 1]
    if quote == "'":
        index = start + 1
        while index < len(line):
            if line[index] == "'":
                if line[index + 1 : index + 2] == "'":
                    index += 2
                    continue
                return index + 1
            index += 1
        return None
    if quote == '"':
        index = start + 1
        while index < len(line):
            if line[index] == "\\":
                index += 2
                continue
            if line[index] == '"':
                return index + 1
            index += 1
        return None
    if quote in ("|", ">"):
        return None
    comment = line.find(" #", start)
    end = comment if comment >= 0 else len(line)
    return len(line[:end].rstrip(" \t\r"))


def _flow_end(line: str, start: int) -> int | None:
    """Where the flow collection opening at `start` closes on `line`, or None when it goes on."""
    depth, index = 0, start
    while index < len(line):
        char = line[index]
        if char in "'\"":
            end = _scalar_end(line, index)
            if end is None:
                return None
            index = end
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return None


def new_user_lines(entry: dict[str, Any], prefix: str) -> list[str]:
    """A new user as block YAML lines, its dash at `prefix` (e.g. "  - ")."""
    dumped = yaml.dump([entry], Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    lines = dumped.rstrip("\n").split("\n")
    continuation = " " * (len(prefix) - 2)
    return [prefix + lines[0][2:], *(continuation + line for line in lines[1:])]
