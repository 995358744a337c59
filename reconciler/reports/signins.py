"""Last sign-ins, where the app may read them (`signInActivity` needs AuditLog.Read.All).

Reading them is never required: without the permission a report says once that they are unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reconciler.errors import GraphError
from reconciler.graph.client import GraphClient
from reconciler.graph.reads import PAGE_SIZE, Json
from reconciler.live_read import read_users_in_ranges

SIGN_INS_PATH = f"/users?$select=id,signInActivity&$top={PAGE_SIZE}"
UNAVAILABLE = (
    "last sign-ins are unavailable: the app may not read signInActivity (grant it AuditLog.Read.All)"
)


@dataclass(frozen=True)
class SignIns:
    """Each user's last sign-in (ISO-8601, None when never), or `available` False with none at all."""

    last: dict[str, str | None]
    available: bool = True

    def of(self, user_id: str) -> str | None:
        return self.last.get(user_id)

    def inactive(self, user_id: str, now: datetime, days: int) -> bool:
        """No sign-in within `days` (never signed in counts): only when sign-ins could be read."""
        if not self.available:
            return False
        last = self.last.get(user_id)
        if last is None:
            return True
        try:
            when = _instant(last)
        except ValueError:
            return False
        return (now - when).days >= days


# What Graph writes for "no sign-in of this kind" inside a signInActivity (user-list's example).
_NEVER = "0001-01-01T00:00:00Z"


def last_sign_in(item: Json) -> str | None:
    """When the user last signed in (resources/signinactivity): the last successful sign-in, interactive or
    not; where Graph has not recorded that (it is not backfilled before December 2023), the newest of the
    interactive and non-interactive attempts. None: never, or a null signInActivity."""
    activity = item.get("signInActivity") or {}
    successful = activity.get("lastSuccessfulSignInDateTime")
    if successful and successful != _NEVER:
        return str(successful)
    times = [activity.get("lastSignInDateTime"), activity.get("lastNonInteractiveSignInDateTime")]
    known = [str(t) for t in times if t and t != _NEVER]
    return max(known, key=_instant) if known else None


def _instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


async def read_sign_ins(client: GraphClient) -> SignIns:
    last: dict[str, str | None] = {}

    def take(page: list[Json]) -> None:
        last.update((str(item["id"]), last_sign_in(item)) for item in page)

    try:
        await read_users_in_ranges(client, SIGN_INS_PATH, take)
        return SignIns(last)
    except GraphError as exc:
        if exc.status == 403:
            return SignIns({}, available=False)
        raise
