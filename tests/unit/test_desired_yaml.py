"""The YAML reader behind the loader: marks for every key and value, duplicates, merges, aliases."""

from __future__ import annotations

from reconciler.errors import Location
from reconciler.yamlload import MarkedList, MarkedMap, parse_yaml


def messages(text: str) -> list[str]:
    return [f"{p.location}: {p.message}" for p in parse_yaml(text, "f.yaml")[1]]


def test_marks_of_keys_values_and_items() -> None:
    value, problems = parse_yaml("users:\n  - a: 1\n    b: [x, y]\n", "f.yaml")
    assert problems == []
    assert isinstance(value, MarkedMap)
    users = value["users"]
    assert isinstance(users, MarkedList)
    first = users[0]
    assert first == {"a": 1, "b": ["x", "y"]}
    assert (first.location, users.item_locations[0]) == (Location("f.yaml", 2, 5), Location("f.yaml", 2, 5))
    assert first.key_locations["b"] == Location("f.yaml", 3, 5)
    assert first.value_locations["b"] == Location("f.yaml", 3, 8)
    assert first["b"].item_locations == [Location("f.yaml", 3, 9), Location("f.yaml", 3, 12)]


def test_unquoted_non_strings_keep_their_text() -> None:
    value, _ = parse_yaml('a: NO\nb: "NO"\nc: 0123\nd: ~\n', "f.yaml")
    assert value == {"a": False, "b": "NO", "c": 83, "d": None}
    assert value.plain_text == {"a": "NO", "c": "0123", "d": "~"}


def test_duplicate_keys_keep_the_first() -> None:
    value, _ = parse_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert value == {"a": 1, "b": 2}
    assert messages("a: 1\nb: 2\na: 3\n") == [
        "f.yaml:3:1: duplicate key 'a' (first at line 1); keep only one"
    ]


def test_merge_keys_written_keys_win() -> None:
    value, problems = parse_yaml("d: &d {x: 1, y: 2}\ne:\n  y: 3\n  <<: *d\n", "f.yaml")
    assert problems == []
    assert value["e"] == {"y": 3, "x": 1}
    assert value["e"].value_locations["x"] == Location("f.yaml", 1, 11)


def test_merge_of_a_non_mapping() -> None:
    assert messages("d: &d [1]\ne:\n  <<: *d\n") == [
        "f.yaml:1:8: `<<` merges mappings only (e.g. `<<: *defaults`)"
    ]


def test_only_one_document_per_file() -> None:
    assert messages("a: 1\n---\nb: 2\n") == [
        "f.yaml:2:1: invalid YAML: but found another document (expected a single document in the stream)"
    ]


def test_a_control_character_is_one_line_at_its_place() -> None:
    # libyaml counts the position in bytes: the é before it must not shift the column.
    assert messages('a: é\nb: "x\x07"\n') == [
        "f.yaml:2:6: invalid YAML: control characters are not allowed (U+0007); remove it"
    ]


def test_a_value_yaml_cannot_read() -> None:
    assert messages("when: 2024-13-45\n") == [
        "f.yaml:1:7: cannot read '2024-13-45' (month must be in 1..12); quote it"
    ]


def test_a_non_scalar_key() -> None:
    assert messages("? [a, b]\n: 1\n") == ["f.yaml:1:3: a key must be a plain name, not a list or mapping"]


def test_empty_documents() -> None:
    assert parse_yaml("", "f.yaml") == (None, [])
    assert parse_yaml("# only a comment\n", "f.yaml") == (None, [])


def test_a_byte_order_mark_is_not_content() -> None:
    value, problems = parse_yaml("\ufeffusers: []\n", "f.yaml")
    assert (value, problems) == ({"users": []}, [])


def test_an_alias_bomb_is_refused() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    assert messages("\n".join(levels) + "\n") == [
        "f.yaml:1:1: the aliases in this file expand 20 values to 1234567900; nest fewer aliases"
    ]
