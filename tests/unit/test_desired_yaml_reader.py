"""The YAML reader's fast path (straight from parser events) gives exactly what composing nodes gives:
the same values, marks and problems; anything it does not handle goes to the composer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.desired.fileread import FileRead, _Reader, read_file
from reconciler.yamlload import MarkedList, MarkedMap, _EventReader, _Unusual, compose_yaml, stream_yaml

STATE = Path(__file__).parents[2] / "state"


def shape(value: Any) -> Any:
    """Everything the loader can see of a read value: types, values, every location, plain texts."""
    if isinstance(value, MarkedMap):
        entries = [(k, value.key_location(k), value.value_location(k), shape(v)) for k, v in value.items()]
        return ("map", value.location, entries, value.plain_text)
    if isinstance(value, MarkedList):
        items = [(value.item_location(i), shape(v)) for i, v in enumerate(value)]
        return ("list", value.location, items, value.plain_text)
    return (type(value).__name__, value)


def both(text: str) -> tuple[Any, Any]:
    fast, fast_problems = _EventReader(text, "f.yaml").read()
    composed, composed_problems = compose_yaml(text, "f.yaml")
    return (
        (shape(fast), [f"{p.location}: {p}" for p in fast_problems]),
        (shape(composed), [f"{p.location}: {p}" for p in composed_problems]),
    )


@pytest.mark.parametrize("path", sorted(STATE.rglob("*.yaml")), ids=lambda p: p.name)
def test_the_shipped_state_reads_the_same(path: Path) -> None:
    fast, composed = both(path.read_text(encoding="utf-8"))
    assert fast == composed


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment\n",
        "---\n",
        "a: NO\nb: 'NO'\nc: 0123\nd: ~\ne:\nf: 1.5\ng: [On, x, 2024-01-02, '']\n",
        "when: 2024-13-45\n",
        "users:\n  - {a: 1, b: [x, {y: z}]}\n  - []\n  -\n  - plain\n",
        "key with spaces: value\n'quoted <<': 1\n",
    ],
)
def test_usual_documents_read_the_same(text: str) -> None:
    fast, composed = both(text)
    assert fast == composed


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: !custom x\n",
        "d: {x: 1}\ne:\n  <<: {y: 2}\n",
        "a: 1\na: 2\n",
        "? [a]\n: 1\n",
        "a: 1\n---\nb: 2\n",
        "a: [1\n",
    ],
)
def test_unusual_documents_go_to_the_composer(text: str) -> None:
    with pytest.raises((_Unusual, yaml.YAMLError)):
        _EventReader(text, "f.yaml").read()


def read_whole(name: str, text: str) -> FileRead:
    """What `read_file` gave before it streamed: the document composed whole, then read."""
    reader = _Reader(name)
    document, problems = compose_yaml(text, name)
    reader.problems[:0] = problems
    if document is not None:
        reader.read_document(document, streamed=False)
    return FileRead(
        name, tuple(reader.problems), tuple(reader.users), tuple(reader.groups), tuple(reader.roles)
    )


def same_read(streamed: FileRead, whole: FileRead) -> None:
    # Streaming reads the sections in the order written, so the problems may come in another order;
    # they are always shown sorted by place.
    assert sorted(map(str, streamed.problems)) == sorted(map(str, whole.problems))
    assert sorted(p.location for p in streamed.problems) == sorted(p.location for p in whole.problems)
    assert (streamed.users, streamed.groups, streamed.roles) == (whole.users, whole.groups, whole.roles)


@pytest.mark.parametrize("path", sorted(STATE.rglob("*.yaml")), ids=lambda p: p.name)
def test_a_streamed_read_of_the_shipped_state_is_the_whole_read(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    same_read(read_file(path.name, text), read_whole(path.name, text))


USER = "  - userPrincipalName: {0}@contoso.example\n    displayName: {0}\n    mailNickname: {0}\n"


@pytest.mark.parametrize(
    "text",
    [
        # groups before users, roles between, an unknown key and problems inside items
        "groups:\n  - mailNickname: g\n    displayName: G\n    members: [a@contoso.example]\n"
        + "roles: []\nnonsense: 1\nusers:\n"
        + USER.format("a")
        + "  - plain\n  - {displayName: 5}\n",
        # an anchor met after items were handed over: read whole instead, the items read once
        "users:\n" + USER.format("a") + USER.format("b") + "  - &c {userPrincipalName: c@contoso.example}\n",
        # a second `users:` (a duplicate key) after the first one's items
        "users:\n" + USER.format("a") + "users:\n" + USER.format("b"),
        # a syntax error after some items
        "users:\n" + USER.format("a") + "  - [unclosed\n",
        # sections that are no lists, and a document that is no mapping
        "users: {a: 1}\ngroups: 5\nroles:\n",
        "- a\n- b\n",
        "users:\n" + USER.format("a") + "---\nusers: []\n",
    ],
)
def test_a_streamed_read_is_the_whole_read(text: str) -> None:
    same_read(read_file("f.yaml", text), read_whole("f.yaml", text))


def test_a_long_list_is_handed_over_item_by_item() -> None:
    seen: list[tuple[str, int, Any]] = []
    text = "users:\n  - a: 1\n  - b\nother: [x]\n"
    value, problems = stream_yaml(text, "f.yaml", frozenset({"users"}), lambda *item: seen.append(item[:3]))
    assert problems == [] and value == {"users": [], "other": ["x"]}
    assert seen == [("users", 0, {"a": 1}), ("users", 1, "b")]
    assert stream_yaml("users:\n  - &a x\n", "f.yaml", frozenset({"users"}), lambda *item: None) is None
