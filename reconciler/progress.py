"""Progress bars on stderr for long reads and applies, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class Task:
    """One line of the display; a no-op when progress is not shown."""

    def __init__(self, progress: Progress | None, task_id: TaskID | None) -> None:
        self._progress = progress
        self._id = task_id

    def advance(self, amount: int = 1) -> None:
        if self._progress is not None and self._id is not None:
            self._progress.advance(self._id, amount)

    def finish(self) -> None:
        """Mark the line complete (a read whose size was unknown until its last page)."""
        if self._progress is not None and self._id is not None:
            done = next(t.completed for t in self._progress.tasks if t.id == self._id)
            self._progress.update(self._id, total=done, completed=done)


class ProgressDisplay:
    """A context manager around rich's `Progress` that draws nothing when disabled."""

    def __init__(self, enabled: bool, color: bool = True) -> None:
        self._progress: Progress | None = None
        if enabled:
            console = Console(stderr=True, no_color=not color)
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )

    def task(self, description: str, total: int | None = None) -> Task:
        if self._progress is None:
            return Task(None, None)
        return Task(self._progress, self._progress.add_task(description, total=total))

    def __enter__(self) -> ProgressDisplay:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()


def for_stderr(quiet: bool, color: bool) -> ProgressDisplay:
    """Progress on stderr when it is a terminal and the user did not ask for quiet."""
    return ProgressDisplay(enabled=sys.stderr.isatty() and not quiet, color=color)
