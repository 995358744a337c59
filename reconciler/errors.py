"""The small hierarchy of errors a user can act on; `cli.py` turns each into `error: …` lines.

EntraformError            one problem: a message, and where it was written when that is known
├── ConfigError           entraform.yaml is missing something, malformed, or holds a literal secret
├── GraphError            Graph answered with an error entraform cannot recover from
└── Problems              several problems at once, one line each (a `Problem`: message + place)
    ├── ValidationFailed  the desired state or the config: every problem of every file
    ├── PlanError         pre-flight problems, a stale, foreign or corrupt plan file; then a summary
    └── ApplyFailed       changes that failed or were skipped; then a summary
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple


class Location(NamedTuple):
    """Where in a YAML file something was written (1-based line and column). A tuple, ordered by file,
    line and column: a large desired state holds millions of them, and a tuple is made in a third of
    the time of a frozen dataclass."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong, with `FILE:LINE:COL` in front when the YAML says where."""

    message: str
    location: Location | None = None

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message

    def sort_key(self) -> tuple[str, int, int, str]:
        """File, then line and column as numbers (line 10 after line 9); problems without a place first."""
        where = self.location or Location("", 0, 0)
        return (where.file, where.line, where.col, self.message)


class EntraformError(Exception):
    """An error with a message a user can act on, optionally tied to a place in a file."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    @property
    def problem(self) -> Problem:
        return Problem(self.message, self.location)

    def lines(self) -> list[str]:
        """The `error: …` lines to print, one per problem."""
        return [str(self.problem)]


class ConfigError(EntraformError):
    """`entraform.yaml` is missing something, malformed, or holds a literal secret."""


class GraphError(EntraformError):
    """Microsoft Graph answered with an error that entraform cannot recover from."""

    def __init__(self, message: str, status: int = 0, code: str = "", request_id: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id


class GraphNoAnswer(GraphError):
    """A request sent that got no answer (a reset connection, a timeout): it may have been carried out."""


class Problems(EntraformError):
    """Several problems, each its own line, in the order given; `summary` (if any) is the last line."""

    def __init__(self, problems: Iterable[Problem], summary: str = "") -> None:
        self.problems = list(problems)
        super().__init__(summary or f"{len(self.problems)} problem(s)")
        self.summary = summary

    def lines(self) -> list[str]:
        return [str(problem) for problem in self.problems] + ([self.summary] if self.summary else [])


class ValidationFailed(Problems):
    """The desired state (or the config) has problems; every one of them, sorted by place."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        super().__init__(sorted(problems, key=Problem.sort_key))


class PlanError(Problems):
    """A plan cannot be made or applied: pre-flight problems, a stale, foreign or corrupt plan file."""

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        super().__init__(problems, message)


class ApplyFailed(Problems):
    """Some changes failed or were skipped: one line each, then the count."""

    def __init__(self, failed: list[Problem], skipped: list[Problem]) -> None:
        summary = f"{len(failed)} change(s) failed and {len(skipped)} were skipped"
        summary += "; fix the cause and run apply again"
        super().__init__([*failed, *(Problem(f"skipped {p.message}", p.location) for p in skipped)], summary)
