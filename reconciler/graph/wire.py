"""What goes over the wire to Graph and back, as plain values: one answer, one `$batch` step.

A leaf module: the client, the error classification, the readers and the writers all speak it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_BATCH_STEPS = 20  # Graph docs: json-batching


@dataclass(frozen=True)
class RawResponse:
    """One Graph answer: status, headers (names lower-cased) and the parsed JSON body (None if empty)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def retry_after(self) -> float | None:
        """`Retry-After` in seconds when it is a number (Graph sends integers; tolerate decimals)."""
        value = self.headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            return None


@dataclass(frozen=True)
class BatchStep:
    """One step of a JSON `$batch`: `url` is relative to the Graph base URL ("/users/…") or absolute."""

    id: str
    method: str
    url: str
    body: Any = None
    headers: dict[str, str] | None = None
    depends_on: tuple[str, ...] = ()
