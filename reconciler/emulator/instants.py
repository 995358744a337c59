"""Graph's DateTimeOffset values as the directory keeps and returns them: in UTC, written with `Z`, whole
seconds unless a fraction was given (Graph docs: resources/user, employeeHireDate).

The client reads instants the same way in `desired/instants.py`; the emulator keeps its own copy on
purpose, since it imports nothing from the client it stands in for (a client bug must not be Graph's)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_INSTANT = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})")


def graph_instant(text: str) -> str | None:
    """`text` as Graph returns it, or None when it is no date and time with an offset."""
    match = _INSTANT.fullmatch(text)
    if match is None:
        return None
    moment_text, fraction, offset = match.groups()
    micro = f".{fraction[:6]}" if fraction else ""  # Python reads 6 digits, Graph keeps 7
    try:
        moment = datetime.fromisoformat(moment_text + micro + ("+00:00" if offset == "Z" else offset))
    except ValueError:
        return None
    utc = moment.astimezone(UTC)
    shown = utc.strftime("%Y-%m-%dT%H:%M:%S")
    return shown + (f".{utc.microsecond:06d}".rstrip("0") if utc.microsecond else "") + "Z"
