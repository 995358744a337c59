"""The small hierarchy of errors a user can act on; `cli.py` turns each into `error: …` lines."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    """Where in a YAML file something was written (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class EntraformError(Exception):
    """An error with a message a user can act on, optionally tied to a place in a file."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def lines(self) -> list[str]:
        """The `error: …` lines to print, one per problem."""
        prefix = f"{self.location}: " if self.location else ""
        return [f"{prefix}{self.message}"]


class ConfigError(EntraformError):
    """`entraform.yaml` is missing something, malformed, or holds a literal secret."""


class ValidationFailed(EntraformError):
    """The desired state has one or more problems; every one of them is carried."""

    def __init__(self, problems: list[EntraformError]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the desired state")
        self.problems = sorted(problems, key=lambda p: (p.location or Location("", 0, 0), p.message))

    def lines(self) -> list[str]:
        return [line for problem in self.problems for line in problem.lines()]


class GraphError(EntraformError):
    """Microsoft Graph answered with an error that entraform cannot recover from."""

    def __init__(self, message: str, status: int = 0, code: str = "", request_id: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id


class PlanError(EntraformError):
    """A plan cannot be made or applied: pre-flight problems, a stale or foreign plan file."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []

    def lines(self) -> list[str]:
        return [*self.problems, self.message] if self.problems else [self.message]
