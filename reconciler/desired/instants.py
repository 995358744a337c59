"""Graph's DateTimeOffset attributes of a user (employeeHireDate, employeeLeaveDateTime): which text is one,
and the one form Graph returns it in, so that `2026-01-05T01:00:00+01:00` and `2026-01-05T00:00:00Z`
compare as the same instant (Graph docs: resources/user, "The Timestamp type ... is always in UTC time").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

INSTANT_ATTRIBUTES = frozenset({"employeeHireDate", "employeeLeaveDateTime"})
EXAMPLE = "2026-01-05T00:00:00Z"
# A date, a time and an offset: OData's DateTimeOffset needs all three (a bare date is an Edm.Date).
_INSTANT = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def graph_instant(text: str) -> str | None:
    """`text` in UTC as Graph writes it (`2026-01-05T00:00:00Z`), or None when it is not a date and time
    with an offset, or names no real moment (`2026-02-30T…`)."""
    match = _INSTANT.fullmatch(text)
    if match is None:
        return None
    moment_text, fraction, offset = match.groups()
    # Python reads at most 6 fractional digits; Graph keeps up to 7 (ticks of 100 ns).
    micro = f".{fraction[:6]}" if fraction else ""
    try:
        moment = datetime.fromisoformat(moment_text + micro + ("+00:00" if offset == "Z" else offset))
    except ValueError:
        return None
    utc = moment.astimezone(UTC)
    shown = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        shown += f".{utc.microsecond:06d}".rstrip("0")
    return shown + "Z"


def date_instant(text: str) -> str | None:
    """An HR export's date (`2026-01-05`) as the instant Graph keeps for it, midnight UTC; a date and time
    as `graph_instant` reads it; None when it is neither."""
    if _DATE.fullmatch(text):
        return graph_instant(f"{text}T00:00:00Z")
    return graph_instant(text)
