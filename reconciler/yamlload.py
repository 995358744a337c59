"""YAML text → plain dicts and lists that remember the line and column of every key and value.

PyYAML's `safe_load` forgets where things were written and silently keeps the last of two duplicate
keys. Here values are built by hand (with libyaml when available: 100,000 users must load in seconds,
not minutes), so that every later error can point at `FILE:LINE:COL` and a duplicate key is an error
instead of a lost line. The usual document is built straight from the parser's events; one with
anchors, aliases, tags, merges or a duplicate key is composed into nodes first and converted.

The parser's marks are kept as they are and become `Location`s only when asked for: a large tree
holds millions of them and a run asks for a few. `stream_yaml` goes further for a desired-state file: it
hands over each item of its top-level lists as soon as the item is read, so that a file of 100,000 users
is never held whole as YAML values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.error import Mark  # libyaml's marks are of a class of its own, with the same line and column
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import Location, Problem

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_MAX_EXPANSION = 100  # expanded values per written one; reusing a few anchors stays far below
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# First characters of a plain scalar that YAML may read as something other than a string.
_NOT_ONLY_STRINGS = frozenset(_BaseLoader.yaml_implicit_resolvers)


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        # Called for every node: skip PyYAML's regular expressions for the common plain word
        # (`ada@contoso.example`, `Engineering`). The safe resolvers have no wildcard (None) entry.
        if kind is ScalarNode and (not implicit[0] or value[:1] not in _NOT_ONLY_STRINGS):
            return _STR
        tag: str = super().resolve(kind, value, implicit)
        return tag


def _location(file: str, mark: Mark) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


class MarkedMap(dict[str, Any]):
    """A YAML mapping that also knows where it, each key and each value were written."""

    __slots__ = ("file", "key_marks", "mark", "plain_text", "value_marks")

    def __init__(self, file: str, mark: Mark) -> None:
        super().__init__()
        self.file = file
        self.mark = mark
        self.key_marks: dict[str, Mark] = {}
        self.value_marks: dict[str, Mark] = {}
        # The source text of unquoted values YAML did not read as strings (`NO`, `On`, `0123`), so that
        # "expected a string" can suggest quoting exactly what was written.
        self.plain_text: dict[str, str] = {}

    @property
    def location(self) -> Location:
        return _location(self.file, self.mark)

    def key_location(self, key: str) -> Location:
        return _location(self.file, self.key_marks[key])

    def value_location(self, key: str) -> Location:
        return _location(self.file, self.value_marks[key])

    def location_of(self, key: str) -> Location:
        """Where an error about the value of `key` points: the value itself when it is a scalar, the key
        when it is a list or mapping (whose first item may be on the next line, one line too low)."""
        if isinstance(self.get(key), dict | list):
            return self.key_location(key)
        return self.value_location(key)

    @property
    def key_locations(self) -> dict[str, Location]:
        return {key: _location(self.file, mark) for key, mark in self.key_marks.items()}

    @property
    def value_locations(self) -> dict[str, Location]:
        return {key: _location(self.file, mark) for key, mark in self.value_marks.items()}

    def put(self, key: str, value: Any, key_mark: Mark, value_mark: Mark) -> None:
        self[key] = value
        self.key_marks[key] = key_mark
        self.value_marks[key] = value_mark

    def without(self, keys: set[Any]) -> MarkedMap:
        """A shallow copy without `keys`."""
        copy = MarkedMap(self.file, self.mark)
        for key, value in self.items():
            if key not in keys:
                copy.put(key, value, self.key_marks[key], self.value_marks[key])
        copy.plain_text = {key: text for key, text in self.plain_text.items() if key not in keys}
        return copy


class MarkedList(list[Any]):
    """A YAML sequence that also knows where it and each item were written."""

    __slots__ = ("file", "item_marks", "mark", "plain_text")

    def __init__(self, file: str, mark: Mark) -> None:
        super().__init__()
        self.file = file
        self.mark = mark
        self.item_marks: list[Mark] = []
        self.plain_text: dict[int, str] = {}

    @property
    def location(self) -> Location:
        return _location(self.file, self.mark)

    def item_location(self, index: int) -> Location:
        return _location(self.file, self.item_marks[index])

    @property
    def item_locations(self) -> list[Location]:
        return [_location(self.file, mark) for mark in self.item_marks]


class _Converter:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self._done: dict[int, Any] = {}  # aliases share the converted value
        self._active: set[int] = set()
        # Values a collection stands for once its aliases are expanded: the checks after this module
        # walk the expanded tree, so an alias bomb ("billion laughs") must be refused here.
        self._expanded: dict[int, int] = {}
        self.distinct = 0
        self._constructor = yaml.constructor.SafeConstructor()

    def problem(self, node: Node, message: str) -> None:
        self.problems.append(Problem(message, _location(self.file, node.start_mark)))

    def expanded(self, node: Node) -> int:
        return self._expanded.get(id(node), 1)

    def convert(self, node: Node) -> Any:
        if isinstance(node, ScalarNode):
            self.distinct += 1
            return self._scalar(node)
        key = id(node)
        if key in self._done:
            return self._done[key]
        self.distinct += 1
        if key in self._active:
            self.problem(node, "an alias refers to the collection that contains it; YAML here must be a tree")
            return None
        self._active.add(key)
        if isinstance(node, MappingNode):
            value: Any = self._mapping(node)
        else:
            assert isinstance(node, SequenceNode)  # nosec B101 # narrows the type: YAML has no 4th kind
            value = self._sequence(node)
        self._active.discard(key)
        self._done[key] = value
        children = node.value if isinstance(node, SequenceNode) else [v for _, v in node.value]
        self._expanded[key] = 1 + sum(self.expanded(child) for child in children)
        return value

    def _scalar(self, node: ScalarNode) -> Any:
        if node.tag == _STR:
            return node.value
        try:
            return self._constructor.construct_object(node, deep=True)
        except (yaml.constructor.ConstructorError, ValueError) as exc:
            self.problem(node, f"cannot read {node.value!r} ({getattr(exc, 'problem', exc)}); quote it")
            return node.value

    def _sequence(self, node: SequenceNode) -> MarkedList:
        result = MarkedList(self.file, node.start_mark)
        if node.tag != _SEQ:
            self.problem(node, f"YAML tag {node.tag} is not supported here; write a plain list")
        for item in node.value:
            if _is_plain_non_string(item):
                result.plain_text[len(result)] = item.value
            result.append(self.convert(item))
            result.item_marks.append(item.start_mark)
        return result

    def _mapping(self, node: MappingNode) -> MarkedMap:
        result = MarkedMap(self.file, node.start_mark)
        if node.tag != _MAP:
            self.problem(node, f"YAML tag {node.tag} is not supported here; write a plain mapping")
        merges: list[MarkedMap] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.extend(self._merge_sources(value_node))
                continue
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, "a key must be a plain name, not a list or mapping")
                continue
            key = key_node.value
            if key in result:
                first = result.key_location(key)
                self.problem(key_node, f"duplicate key {key!r} (first at line {first.line}); keep only one")
                continue
            if _is_plain_non_string(value_node):
                result.plain_text[key] = value_node.value
            result.put(key, self.convert(value_node), key_node.start_mark, value_node.start_mark)
        for source in merges:  # `<<: *defaults`: written keys win over merged ones, earlier merges win
            for key, value in source.items():
                if key not in result:
                    result.put(key, value, source.key_marks[key], source.value_marks[key])
                    if key in source.plain_text:
                        result.plain_text[key] = source.plain_text[key]
        return result

    def _merge_sources(self, node: Node) -> list[MarkedMap]:
        nodes = node.value if isinstance(node, SequenceNode) else [node]
        sources: list[MarkedMap] = []
        for item in nodes:
            value = self.convert(item)
            if isinstance(value, MarkedMap):
                sources.append(value)
            else:
                self.problem(item, "`<<` merges mappings only (e.g. `<<: *defaults`)")
        return sources


def _is_plain_non_string(node: Node) -> bool:
    return (
        isinstance(node, ScalarNode) and node.tag != _STR and not node.style
    )  # libyaml says "", PyYAML None


def parse_yaml(text: str, file: str) -> tuple[Any, list[Problem]]:
    """Parse one YAML document; return its value (None when empty) and every problem found."""
    try:
        return _EventReader(text, file).read()
    except (_Unusual, yaml.YAMLError):
        return compose_yaml(text, file)


# Takes a streamed item: the top-level key it is listed under, its index there, its value and place.
ItemTaker = Callable[[str, int, Any, Location], None]


def stream_yaml(
    text: str, file: str, sections: frozenset[str], take: ItemTaker
) -> tuple[Any, list[Problem]] | None:
    """`parse_yaml` for a document whose top-level lists named in `sections` may be long: each of their
    items goes to `take` as soon as it is read, and the lists are left empty in the value returned.

    None when the text is not a usual document (anchors, aliases, tags, merges, a duplicate key, a
    syntax error: see `_Unusual`), which may be found after some items went to `take`: then forget
    those and read the text whole with `compose_yaml`, which also says what is wrong."""
    try:
        return _EventReader(text, file, sections, take).read()
    except (_Unusual, yaml.YAMLError):
        return None


def compose_yaml(text: str, file: str) -> tuple[Any, list[Problem]]:
    """`parse_yaml` for any text, through PyYAML's composer: slower, and reads what the event reader
    does not (and reports what is wrong)."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_error(exc, text, file)]
    except yaml.reader.ReaderError as exc:
        return None, [_refused_character(exc, text, file)]
    except yaml.YAMLError as exc:
        return None, [Problem(f"invalid YAML: {exc}", Location(file, 1, 1))]
    if node is None:
        return None, []
    converter = _Converter(file)
    value = converter.convert(node)
    size = converter.expanded(node)
    if size > _MAX_EXPANSION * converter.distinct:
        message = f"the aliases in this file expand {converter.distinct} values to {size}; nest fewer aliases"
        return None, [Problem(message, Location(file, 1, 1))]
    return value, converter.problems


class _Unusual(Exception):
    """Anchors, aliases, tags, merges, duplicate or non-scalar keys, several documents or a syntax error:
    `compose_yaml` reads those (and reports what is wrong)."""


class _EventReader:
    """Builds the value of a usual document straight from the parser's events, without composing
    nodes first: a fifth less time, and no tree of nodes in memory besides the values of a large file.
    Gives the same values, marks and problems as `compose_yaml`, which reads everything else."""

    def __init__(
        self, text: str, file: str, sections: frozenset[str] = frozenset(), take: ItemTaker | None = None
    ) -> None:
        self.text = text
        self.file = file
        self.sections = sections  # top-level lists whose items go to `take` (`stream_yaml`)
        self.take = take
        self.converter = _Converter(file)
        # One string object per distinct key or value: keys, departments, cities and SKUs repeat on
        # every user, and a large file holds them all at once.
        self.strings: dict[str, str] = {}

    def read(self) -> tuple[Any, list[Problem]]:
        loader = _Loader(self.text)
        try:
            # Events are typed loosely (`Any`): the stubs give every event an optional mark and
            # a tag, the parser gives every event here a mark and collections and scalars a tag.
            self.next_event: Callable[[], Any] = loader.get_event
            self.resolve = loader.resolve
            self.next_event()  # StreamStartEvent
            if loader.check_event(StreamEndEvent):
                return None, []
            self.next_event()  # DocumentStartEvent
            event = self.next_event()
            if type(event) is MappingStartEvent and event.anchor is None and event.tag is None:
                value = self.mapping(event, streamed=self.sections)
            else:
                value = self.value(event, {}, 0)
            self.next_event()  # DocumentEndEvent
            if not loader.check_event(StreamEndEvent):
                raise _Unusual
        finally:
            loader.dispose()
        return value, self.converter.problems

    def value(self, event: Any, plain_text: dict[Any, str], slot: str | int) -> Any:
        """The value of `event`; the text of an unquoted non-string goes to `plain_text[slot]`."""
        kind = type(event)
        if kind is not AliasEvent and (event.anchor is not None or event.tag is not None):
            raise _Unusual
        if kind is ScalarEvent:
            tag = self.resolve(ScalarNode, event.value, event.implicit)
            if tag == _STR:
                return self.strings.setdefault(event.value, event.value)
            node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
            if _is_plain_non_string(node):
                plain_text[slot] = event.value
            return self.converter.convert(node)
        if kind is MappingStartEvent:
            return self.mapping(event)
        if kind is SequenceStartEvent:
            return self.sequence(event)
        raise _Unusual  # an alias

    def mapping(self, start: Any, streamed: frozenset[str] = frozenset()) -> MarkedMap:
        """A mapping; the items of its lists under the keys `streamed` go to `take` instead."""
        result = MarkedMap(self.file, start.start_mark)
        while True:
            event = self.next_event()
            key_mark = event.start_mark
            if type(event) is MappingEndEvent:
                return result
            if type(event) is not ScalarEvent or event.anchor is not None or event.tag is not None:
                raise _Unusual
            key = self.strings.setdefault(event.value, event.value)
            if key in result or key == "<<":
                raise _Unusual
            value_event = self.next_event()
            if key in streamed and type(value_event) is SequenceStartEvent:
                result[key] = self.streamed(key, value_event)
            else:
                result[key] = self.value(value_event, result.plain_text, key)
            result.key_marks[key] = key_mark
            result.value_marks[key] = value_event.start_mark

    def streamed(self, key: str, start: Any) -> MarkedList:
        """A list whose items go to `take` as each is read; it keeps none of them."""
        if start.anchor is not None or start.tag is not None:
            raise _Unusual
        assert self.take is not None  # nosec B101 # narrows the type: only `stream_yaml` names sections
        index = 0
        while True:
            event = self.next_event()
            if type(event) is SequenceEndEvent:
                return MarkedList(self.file, start.start_mark)
            # The plain text of an item that is no mapping goes nowhere: no message quotes it.
            self.take(key, index, self.value(event, {}, index), _location(self.file, event.start_mark))
            index += 1

    def sequence(self, start: Any) -> MarkedList:
        result = MarkedList(self.file, start.start_mark)
        while True:
            event = self.next_event()
            if type(event) is SequenceEndEvent:
                return result
            result.append(self.value(event, result.plain_text, len(result)))
            result.item_marks.append(event.start_mark)


def _refused_character(exc: yaml.reader.ReaderError, text: str, file: str) -> Problem:
    """A character YAML allows nowhere (a control character), at its line and column.

    The error's own message spans two lines and its position counts bytes with libyaml: the place is
    found again in the text, with the reader's own pattern.
    """
    found = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if found is None:
        return Problem(f"invalid YAML: {exc.reason}", Location(file, 1, 1))
    index = found.start()
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    message = f"invalid YAML: {exc.reason} (U+{ord(text[index]):04X}); remove it"
    return Problem(message, Location(file, line, col))


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line, mark.column) if mark else (0, 0)
    message = f"invalid YAML: {exc.problem or exc.context}"
    if exc.context and exc.problem:
        message += f" ({exc.context})"
    lines = text.splitlines()
    if line < len(lines) and lines[line][col : col + 1] == "\t":
        message += "; indent with spaces, YAML does not allow tabs"
    return Problem(message, Location(file, line + 1, col + 1))
