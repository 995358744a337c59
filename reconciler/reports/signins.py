"""Last sign-ins, where the app may read them (`signInActivity` needs AuditLog.Read.All).

Reading them is never required: without the permission a report says once that they are unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reconciler.errors import GraphError
from reconciler.graph.client import GraphClient
from reconciler.graph.reads import PAGE_SIZE, Json, pages

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
            when = datetime.fromisoformat(last.replace("Z", "+00:00"))
        except ValueError:
            return False
        return (now - when).days >= days


def last_sign_in(item: Json) -> str | None:
    """The newest of the interactive and non-interactive sign-ins Graph records (resources/signinactivity)."""
    activity = item.get("signInActivity") or {}
    times = [activity.get("lastSignInDateTime"), activity.get("lastNonInteractiveSignInDateTime")]
    known = [str(t) for t in times if t]
    return max(known) if known else None


async def read_sign_ins(client: GraphClient) -> SignIns:
    try:
        last: dict[str, str | None] = {}
        async for page in pages(client, SIGN_INS_PATH):
            last.update((str(item["id"]), last_sign_in(item)) for item in page)
        return SignIns(last)
    except GraphError as exc:
        if exc.status == 403:
            return SignIns({}, available=False)
        raise
