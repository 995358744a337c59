"""An HR system's CSV export → one `Row` of user attributes per line, each value checked as Graph checks it.

A cell left empty says nothing: the attribute is not written (a new user) or left as it is (a declared
one); clearing an attribute stays a reviewed YAML edit. Dates (`2026-01-05`) become the instant Graph keeps
for them, midnight UTC; lists (otherMails, businessPhones) are split on `;`; accountEnabled is true/false.
Every problem names the CSV's FILE:LINE:COL (the column where the cell starts) and the column's name.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from reconciler.csvimport.mapping import Column, Mapping
from reconciler.desired.instants import EXAMPLE, INSTANT_ATTRIBUTES, date_instant
from reconciler.desired.rules import country_problem, mail_problem, password_policies_problem, upn_problem
from reconciler.desired.schema import EXTENSION_ATTRIBUTE_MAX, USER_MAX_LENGTHS
from reconciler.errors import Location, Problem

_LISTS = frozenset({"businessPhones", "otherMails"})


@dataclass(frozen=True)
class Row:
    line: int
    key: str  # the key attribute's value as written (UPNs compare lower-cased)
    values: dict[str, Any]  # attribute → value; a nested attribute → {sub: value}
    location: Location  # the row's first cell


def read_rows(text: str, file: str, mapping: Mapping) -> tuple[list[Row], list[Problem]]:
    """Every row of `text` with a key; all problems of the file (header, cells, repeated keys)."""
    lines = text.splitlines()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter, strict=True)
    problems: list[Problem] = []
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return [], [Problem(f"not a CSV file: {exc}", Location(file, 1, 1))]
    if header is None:
        return [], [Problem("the CSV file is empty; its first line names the columns", Location(file, 1, 1))]
    index = _header_index(header, file, mapping, lines, problems)
    if problems:
        return [], problems
    rows: list[Row] = []
    seen: dict[str, int] = {}
    end = 1
    while True:
        start = end + 1
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            problems.append(Problem(f"not a CSV row: {exc}", Location(file, reader.line_num, 1)))
            break
        end = reader.line_num
        if cells is None:
            break
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        raw = lines[start - 1] if start == end and start <= len(lines) else ""
        row = _row(cells, start, raw, file, mapping, index, len(header), problems)
        if row is None:
            continue
        folded = row.key.lower() if mapping.key == "userPrincipalName" else row.key
        first = seen.setdefault(folded, start)
        if first != start:
            where = _cell_location(file, start, raw, mapping.delimiter, index[mapping.key_column.name])
            problems.append(
                Problem(f"{mapping.key} {row.key} is already on line {first}; keep one row", where)
            )
            continue
        rows.append(row)
    return rows, problems


def _header_index(
    header: list[str], file: str, mapping: Mapping, lines: list[str], problems: list[Problem]
) -> dict[str, int]:
    names = [name.strip() for name in header]
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        if name in index:
            where = _cell_location(file, 1, lines[0] if lines else "", mapping.delimiter, position)
            problems.append(
                Problem(f"column {name!r} appears twice in the header; name each column once", where)
            )
        index.setdefault(name, position)
    for column in mapping.columns:
        if column.name not in index:
            shown = ", ".join(repr(n) for n in names[:8])
            message = f"column {column.name!r} is not in the header of {file} ({shown})"
            problems.append(Problem(message, column.location))
    return index


def _row(
    cells: list[str],
    line: int,
    raw: str,
    file: str,
    mapping: Mapping,
    index: dict[str, int],
    width: int,
    problems: list[Problem],
) -> Row | None:
    if len(cells) != width:
        message = f"this row has {len(cells)} cells, the header names {width} columns"
        problems.append(Problem(message, Location(file, line, 1)))
        return None
    values: dict[str, Any] = {}
    key: str | None = None
    failed = False
    for column in mapping.columns:
        position = index[column.name]
        cell = cells[position].strip()
        if not cell:
            continue
        value, reason = _value(column, cell)
        if reason is not None:
            where = _cell_location(file, line, raw, mapping.delimiter, position)
            problems.append(Problem(f"column {column.name!r}: {reason}", where))
            failed = True
            continue
        if column.sub is not None:
            values.setdefault(column.attribute, {})[column.sub] = value
        else:
            values[column.attribute] = value
        if column.attribute == mapping.key and column.sub is None:
            key = value
    if key is None and not failed:
        where = _cell_location(file, line, raw, mapping.delimiter, index[mapping.key_column.name])
        problems.append(
            Problem(f"column {mapping.key_column.name!r}: the key, {mapping.key}, is empty", where)
        )
    if key is None or failed:
        return None
    return Row(line, key, values, Location(file, line, 1))


def _value(column: Column, cell: str) -> tuple[Any, str | None]:
    """The attribute value of one cell, or why Graph would refuse it."""
    name = column.attribute
    if column.sub is not None:
        limit = EXTENSION_ATTRIBUTE_MAX if name == "onPremisesExtensionAttributes" else None
        if limit is not None and len(cell) > limit:
            return None, f"{len(cell)} characters long; Graph allows at most {limit}"
        return cell, None
    if name in INSTANT_ATTRIBUTES:
        instant = date_instant(cell)
        reason = f"expected a date (2026-01-05) or a date and time with an offset ({EXAMPLE}), got {cell!r}"
        return instant, None if instant else reason
    if name == "accountEnabled":
        folded = cell.lower()
        if folded not in ("true", "false"):
            return None, f"expected true or false, got {cell!r}"
        return folded == "true", None
    if name in _LISTS:
        items = [item.strip() for item in cell.split(";") if item.strip()]
        reasons = [mail_problem(item) for item in items] if name == "otherMails" else []
        return items, next((r for r in reasons if r), None)
    return cell, _text_problem(name, cell)


def _text_problem(name: str, cell: str) -> str | None:
    if name in ("userPrincipalName", "manager"):
        return upn_problem(cell)
    if name == "mail":
        return mail_problem(cell)
    if name == "usageLocation":
        return country_problem(cell)
    if name == "passwordPolicies":
        return password_policies_problem(cell)
    limit = USER_MAX_LENGTHS.get(name)
    if limit is not None and len(cell) > limit:
        return f"{name} is {len(cell)} characters long; Graph allows at most {limit}"
    return None


def _cell_location(file: str, line: int, raw: str, delimiter: str, position: int) -> Location:
    """Where cell `position` starts on `line` (column 1 when the row spans lines or is not at hand)."""
    column, cell, quoted = 0, 0, False
    for offset, char in enumerate(raw):
        if cell == position:
            column = offset
            break
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            cell += 1
    else:
        column = len(raw) if cell == position else 0
    return Location(file, line, column + 1)
