"""`$filter` normalisations (`not(`, function-name case, one-item `in`, `…/$count eq 0`) rewrite the query
text outside string literals only: a literal (with `''` for a quote) reaches the comparison unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.emulator import odata, skus

GUID = skus.ENTERPRISEPACK


def get(obj: dict[str, Any], name: str) -> Any:
    return obj.get(name)


def matches(text: str, obj: dict[str, Any], advanced: bool = False) -> bool:
    return odata.compile_filter(text, "user", advanced, get)(obj)


@pytest.mark.parametrize(
    "literal",
    [
        "Do not(touch)",  # not(  ->  not (
        "StartsWith(x) and EndsWith(y)",  # function names are lower-cased
        f"in ({GUID})",  # a one-item in list is doubled
        "in ('x')",  # … with a quoted item (written ''x'' inside the literal)
        "assignedLicenses/$count eq 0",  # the /$count segment becomes countof_
        "O'Brien not(",  # an escaped quote does not end the literal
    ],
)
def test_a_literal_is_compared_as_written(literal: str) -> None:
    quoted = "'" + literal.replace("'", "''") + "'"
    assert matches(f"displayName eq {quoted}", {"displayName": literal})
    assert not matches(f"displayName eq {quoted}", {"displayName": literal + "!"})


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("not(accountEnabled eq true)", "not (accountEnabled eq true)"),
        ("displayName eq 'a not(b)'", "displayName eq 'a not(b)'"),
        ("StartsWith(displayName,'StartsWith(')", "startswith(displayName,'StartsWith(')"),
        ("EndsWith(mail,'EndsWith(')", "endswith(mail,'EndsWith(')"),
        ("id in ('a')", "id in ('a', 'a')"),
        (f"id in ({GUID})", f"id in ({GUID}, {GUID})"),
        ("displayName eq 'id in (''a'')'", "displayName eq 'id in (''a'')'"),
        ("assignedLicenses/$count eq 0", "countof_assignedLicenses eq 0"),
        ("displayName eq 'assignedLicenses/$count ne 0'", "displayName eq 'assignedLicenses/$count ne 0'"),
        (
            "displayName eq 'it''s not(' and not(x eq 'not(')",
            "displayName eq 'it''s not(' and not (x eq 'not(')",
        ),
    ],
)
def test_normalisations_skip_string_literals(text: str, normalised: str) -> None:
    assert odata.normalise_filter(text) == normalised


def test_the_normalised_forms_still_work() -> None:
    user = {"displayName": "Ada", "accountEnabled": True, "id": "a", "assignedLicenses": []}
    assert matches("not(accountEnabled eq false)", user, advanced=True)
    assert matches("StartsWith(displayName,'ad')", user)
    assert matches("id in ('a')", user)
    assert matches("assignedLicenses/$count eq 0", user, advanced=True)
