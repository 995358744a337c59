"""The YAML reader's fast path (straight from parser events) gives exactly what composing nodes gives:
the same values, marks and problems; anything it does not handle goes to the composer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.yamlload import MarkedList, MarkedMap, _compose, _EventReader, _Unusual

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
    composed, composed_problems = _compose(text, "f.yaml")
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
