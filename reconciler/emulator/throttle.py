"""Graph's identity-and-access throttling (Graph docs: concepts/throttling, concepts/throttling-limits):
token buckets of resource units and writes.

Each app+tenant pair has an RU bucket (3,500 / 5,000 / 8,000 RU per 10 s by tenant size) and a write
bucket (3,000 writes per 150 s); writes also draw on the tenant's bucket shared by all apps (18,000 per
5 min) and the app's bucket shared by all tenants (35,000 per 5 min). A request is charged only when
every bucket can pay; otherwise it gets 429 with an integer `Retry-After` (the whole seconds until enough
budget has flowed back) and the scope that refused it. `x-ms-throttle-priority: Low` requests are refused
once a bucket would be more than 80 % used, so they make way for the others; the limits stay the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

RU_WINDOW_S = 10.0
WRITE_WINDOW_S = 150.0
DEFAULT_WRITES_PER_WINDOW = 3000
SCOPE_WRITE_WINDOW_S = 300.0
TENANT_WRITES_PER_WINDOW = 18000  # all apps in one tenant
APP_WRITES_PER_WINDOW = 35000  # one app across all tenants (the current docs; older ones say 70,000)
# Above this share of a limit, responses carry `x-ms-throttle-limit-percentage`.
WARN_FRACTION = 0.8


def tier_ru_quota(user_count: int) -> int:
    """RU per 10 s for an app+tenant: S (<50 users), M (50–500), L (>500)."""
    if user_count < 50:
        return 3500
    if user_count <= 500:
        return 5000
    return 8000


@dataclass
class Bucket:
    capacity: float
    window_s: float
    level: float
    stamp: float

    @property
    def rate(self) -> float:
        return self.capacity / self.window_s

    def refill(self, now: float, capacity: float) -> None:
        # A changed quota (config, tenant growth) takes effect at once; the used share is kept as is.
        used = self.capacity - self.level
        self.capacity = capacity
        self.level = max(0.0, capacity - used)
        self.level = min(self.capacity, self.level + max(0.0, now - self.stamp) * self.rate)
        self.stamp = now

    def seconds_until(self, amount: float, ceiling: float = 1.0) -> float:
        """Seconds until paying `amount` leaves the bucket at most `ceiling` (a share of it) used."""
        reserve = self.capacity * (1.0 - ceiling)
        return max(0.0, (amount + reserve - self.level) / self.rate)

    def used_fraction(self, extra: float = 0.0) -> float:
        return (self.capacity - self.level + extra) / self.capacity


@dataclass(frozen=True)
class Charge:
    """What the throttle decided for one request, and the headers that say so."""

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: int = 0


@dataclass(frozen=True)
class _Draw:
    """One bucket a request draws on, and how a refusal by it is reported."""

    bucket: Bucket
    amount: int
    scope: str  # x-ms-throttle-scope: "<Tenant_Application|Tenant|Application>/<Write|ReadWrite>"
    information: str  # x-ms-throttle-information


class Throttle:
    def __init__(
        self,
        tenant_write_quota: int = TENANT_WRITES_PER_WINDOW,
        app_write_quota: int = APP_WRITES_PER_WINDOW,
    ) -> None:
        self.tenant_write_quota = tenant_write_quota
        self.app_write_quota = app_write_quota
        self._buckets: dict[tuple[str, str, str], Bucket] = {}

    def reset(self) -> None:
        self._buckets.clear()

    def _bucket(
        self, kind: str, app_id: str, tenant_id: str, capacity: float, window: float, now: float
    ) -> Bucket:
        key = (kind, app_id, tenant_id)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(capacity, window, capacity, now)
        bucket.refill(now, capacity)
        return bucket

    def charge(
        self,
        *,
        app_id: str,
        tenant_id: str,
        ru: int,
        writes: int,
        ru_quota: int,
        write_quota: int,
        now: float,
        priority: str = "Normal",
    ) -> Charge:
        # Write buckets first: when a write and the RU budget wait equally long, the write is blamed.
        draws = [
            _Draw(
                self._bucket("write", app_id, tenant_id, write_quota, WRITE_WINDOW_S, now),
                writes,
                "Tenant_Application/Write",
                "WriteLimitExceeded",
            ),
            _Draw(
                self._bucket("write", "", tenant_id, self.tenant_write_quota, SCOPE_WRITE_WINDOW_S, now),
                writes,
                "Tenant/Write",
                "WriteLimitExceeded",
            ),
            _Draw(
                self._bucket("write", app_id, "", self.app_write_quota, SCOPE_WRITE_WINDOW_S, now),
                writes,
                "Application/Write",
                "WriteLimitExceeded",
            ),
            _Draw(
                self._bucket("ru", app_id, tenant_id, ru_quota, RU_WINDOW_S, now),
                ru,
                "Tenant_Application/ReadWrite",
                "ResourceUnitLimitExceeded",
            ),
        ]
        ceiling = WARN_FRACTION if priority.lower() == "low" else 1.0
        waits = [d.bucket.seconds_until(d.amount, ceiling) if d.amount else 0.0 for d in draws]
        longest = max(waits)
        if longest > 0:
            refused_by = draws[waits.index(longest)]
            fraction = max(d.bucket.used_fraction(d.amount) for d in draws)
            retry_after = max(1, math.ceil(longest))
            headers = {
                "Retry-After": str(retry_after),
                "x-ms-throttle-limit-percentage": _percentage(fraction),
                "x-ms-throttle-scope": f"{refused_by.scope}/{app_id}/{tenant_id}",
                "x-ms-throttle-information": refused_by.information,
            }
            return Charge(False, headers, retry_after)
        for draw in draws:
            draw.bucket.level -= draw.amount
        fraction = max(d.bucket.used_fraction() for d in draws)
        headers = {}
        if fraction > WARN_FRACTION:
            headers["x-ms-throttle-limit-percentage"] = _percentage(fraction)
        return Charge(True, headers)


def _percentage(fraction: float) -> str:
    # Graph reports 0.8–1.8: 1.0 is where throttling starts.
    return f"{min(1.8, max(WARN_FRACTION, fraction)):.1f}"
