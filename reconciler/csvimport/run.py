"""`entraform import --from-csv FILE --map MAPPING.yaml`: an HR export → desired-state YAML, so a new hire in
the HR system becomes a reviewed pull request.

Each row is matched to a declared user by the mapping's key (userPrincipalName or employeeId). A declared
user gets the mapped attributes set where they differ, in the file that declares it (`edit.py`: only
those lines change); a row matching nobody becomes a new user in the mapping's `newUsers` file. Nothing
is written when any row, column or file has a problem: every problem is reported, one line each. No Graph
call is made: the review and `plan` that follow read the tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.csvimport.edit import KEY_ORDER, TextFile, UserEditor, new_user_lines
from reconciler.csvimport.mapping import NESTED, Mapping, read_mapping
from reconciler.csvimport.rows import Row, read_rows
from reconciler.errors import EntraformError, Location, Problem, ValidationFailed
from reconciler.files import make_directory, read_text, write_text
from reconciler.importer import find_schema, modeline
from reconciler.yamlload import MarkedList, MarkedMap, parse_yaml


@dataclass(frozen=True)
class CsvImport:
    rows: int
    created: int  # new users written to the newUsers file
    updated: int  # declared users with at least one attribute changed
    files: tuple[str, ...]  # the files written, relative to state_dir
    notes: tuple[str, ...]


@dataclass
class _Declared:
    file: TextFile
    item: MarkedMap


class _State:
    """The desired-state files under `root`, as text and marks, with their users by key."""

    def __init__(self, root: Path, key: str) -> None:
        self.root = root
        self.files: dict[str, TextFile] = {}
        self.documents: dict[str, Any] = {}
        self.users: dict[str, _Declared] = {}
        self.upns: set[str] = set()  # every declared UPN, lower-cased, whatever the key
        self.problems: list[Problem] = []
        paths = sorted(
            p for p in root.rglob("*.yaml") if not any(s.startswith(".") for s in p.relative_to(root).parts)
        )
        for path in paths:
            name = path.relative_to(root).as_posix()
            text = read_text(path, "file")
            document, problems = parse_yaml(text, path.as_posix())
            self.problems.extend(problems)
            self.files[name] = TextFile(path.as_posix(), text.split("\n"))
            self.documents[name] = document
            users = document.get("users") if isinstance(document, MarkedMap) else None
            for item in users if isinstance(users, MarkedList) else ():
                self._index(name, item, key)

    def _index(self, name: str, item: Any, key: str) -> None:
        if not isinstance(item, MarkedMap):
            return
        upn = item.get("userPrincipalName")
        if isinstance(upn, str):
            self.upns.add(upn.lower())
        value = item.get(key)
        if not isinstance(value, str):
            return
        folded = value.lower() if key == "userPrincipalName" else value
        first = self.users.get(folded)
        if first is not None:
            message = (
                f"{key} {value} is declared twice (also at {first.item.location}); the rows cannot tell which"
            )
            self.problems.append(Problem(message, item.value_location(key)))
            return
        self.users[folded] = _Declared(self.files[name], item)


def import_csv(state_dir: Path, csv_file: str, mapping_file: str) -> CsvImport:
    """Merge the rows of `csv_file` into the YAML under `state_dir`, as `mapping_file` says."""
    mapping = read_mapping(mapping_file)
    rows, problems = read_rows(read_text(Path(csv_file), "CSV file"), csv_file, mapping)
    if problems:
        raise ValidationFailed(problems)
    if not state_dir.is_dir():
        raise EntraformError(
            f"{state_dir.as_posix()}: the state directory does not exist (state_dir in the config)"
        )
    state = _State(state_dir, mapping.key)
    if state.problems:
        raise ValidationFailed(state.problems)
    notes: list[str] = []
    edit_problems: list[Problem] = []
    new: list[Row] = []
    updated = 0
    for row in rows:
        declared = state.users.get(row.key.lower() if mapping.key == "userPrincipalName" else row.key)
        if declared is None:
            new.append(row)
            continue
        editor = UserEditor(declared.file, declared.item, edit_problems)
        for attribute, value in sorted(row.values.items(), key=lambda kv: KEY_ORDER[kv[0]]):
            if attribute == "userPrincipalName":
                written = declared.item.get("userPrincipalName")
                if isinstance(written, str) and written.lower() != str(value).lower():
                    notes.append(
                        f"{row.location}: {written} is {value} in the CSV; a rename is a reviewed edit "
                        "(`renamedFrom:`), left as it is"
                    )
                continue
            if attribute in NESTED:
                editor.set_nested(attribute, value)
            else:
                editor.set(attribute, value)
        updated += bool(editor.changed)
    created = _add_new_users(state, mapping, new, edit_problems)
    if edit_problems:
        raise ValidationFailed(edit_problems)
    changed = [name for name, file in state.files.items() if file.changed]
    for name in changed:
        path = Path(state.files[name].name)
        make_directory(path.parent)
        write_text(path, state.files[name].text(), "YAML file")
    return CsvImport(len(rows), created, updated, tuple(changed), tuple(notes))


def _entry(row: Row) -> dict[str, Any]:
    """A new user's YAML entry: its UPN first, then the attributes in the order `import` writes them."""
    values = dict(sorted(row.values.items(), key=lambda kv: KEY_ORDER[kv[0]]))
    return {"userPrincipalName": values.pop("userPrincipalName"), **values}


def _add_new_users(state: _State, mapping: Mapping, rows: list[Row], problems: list[Problem]) -> int:
    for row in rows:
        upn = row.values.get("userPrincipalName")
        if upn is None:
            message = (
                f"{mapping.key} {row.key} matches no declared user, and a new user needs a userPrincipalName"
            )
            problems.append(
                Problem(message + ": map a column to it, or fill it in on this row", row.location)
            )
        elif str(upn).lower() in state.upns:
            message = (
                f"{mapping.key} {row.key} matches no declared user, but {upn} is declared with another one"
            )
            problems.append(Problem(message + "; correct the row or the YAML", row.location))
    rows = [
        row for row in rows if str(row.values.get("userPrincipalName", "")).lower() not in state.upns | {""}
    ]
    if not rows:
        return 0
    name = mapping.new_users
    file = state.files.get(name)
    if file is None:
        path = state.root / name
        header = modeline(find_schema(path.parent), path.parent)
        file = TextFile(path.as_posix(), [*header.splitlines(), "users:", ""])
        state.files[name] = file
        after, prefix = len(file.lines) - 2, "- "
    else:
        found = _append_point(file, state.documents[name], mapping.new_users)
        if isinstance(found, Problem):
            problems.append(found)
            return 0
        after, prefix = found
    lines = [line for row in rows for line in new_user_lines(_entry(row), prefix)]
    file.added.setdefault(after, []).extend(lines)
    return len(rows)


def _append_point(file: TextFile, document: Any, name: str) -> tuple[int, str] | Problem:
    """After which line of the newUsers file new users go, and the prefix of their dash."""
    where = Location(file.name, 1, 1)
    if document is None and not "".join(file.lines).strip():
        file.lines[:] = ["users:", ""]  # an empty file
        return 0, "- "
    if not isinstance(document, MarkedMap) or "users" not in document:
        return Problem(f"newUsers: {name} has no `users:` list to add new users to", where)
    if max(document.key_marks.values(), key=lambda m: m.line) != document.key_marks["users"]:
        return Problem(f"newUsers: {name} must end with its `users:` list, where new users are added", where)
    users = document["users"]
    key_line = document.key_marks["users"].line
    if isinstance(users, MarkedList) and users:
        first = users.item_marks[0]
        dash = file.lines[first.line][: first.column]
        return _last_content_line(file), dash if dash.strip() == "-" else "- "
    # `users:` with nothing, or `users: []`: the key's line says `users:` and the list follows it.
    file.replaced[key_line] = "users:"
    return key_line, "- "


def _last_content_line(file: TextFile) -> int:
    last = len(file.lines) - 1
    while last > 0 and not file.lines[last].strip():
        last -= 1
    return last
