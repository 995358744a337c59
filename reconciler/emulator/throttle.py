"""Graph's identity-and-access throttling (NOTES §1): token buckets of resource units and writes.

Each app+tenant pair has an RU bucket (3,500 / 5,000 / 8,000 RU per 10 s by tenant size) and a write
bucket (3,000 writes per 150 s). A request is charged only when every bucket can pay; otherwise it gets
429 with an integer `Retry-After`: the whole seconds until enough budget has flowed back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

RU_WINDOW_S = 10.0
WRITE_WINDOW_S = 150.0
DEFAULT_WRITES_PER_WINDOW = 3000
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

    def seconds_until(self, amount: float) -> float:
        return max(0.0, (amount - self.level) / self.rate)

    def used_fraction(self, extra: float = 0.0) -> float:
        return (self.capacity - self.level + extra) / self.capacity


@dataclass(frozen=True)
class Charge:
    """What the throttle decided for one request, and the headers that say so."""

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: int = 0


class Throttle:
    def __init__(self) -> None:
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
    ) -> Charge:
        ru_bucket = self._bucket("ru", app_id, tenant_id, ru_quota, RU_WINDOW_S, now)
        write_bucket = self._bucket("write", app_id, tenant_id, write_quota, WRITE_WINDOW_S, now)
        ru_wait = ru_bucket.seconds_until(ru)
        write_wait = write_bucket.seconds_until(writes) if writes else 0.0
        if ru_wait > 0 or write_wait > 0:
            write_limited = write_wait >= ru_wait
            fraction = max(ru_bucket.used_fraction(ru), write_bucket.used_fraction(writes))
            retry_after = max(1, math.ceil(max(ru_wait, write_wait)))
            headers = {
                "Retry-After": str(retry_after),
                "x-ms-throttle-limit-percentage": _percentage(fraction),
                "x-ms-throttle-scope": (
                    f"Tenant_Application/{'Write' if write_limited else 'ReadWrite'}/{app_id}/{tenant_id}"
                ),
                "x-ms-throttle-information": (
                    "WriteLimitExceeded" if write_limited else "ResourceUnitLimitExceeded"
                ),
            }
            return Charge(False, headers, retry_after)
        ru_bucket.level -= ru
        write_bucket.level -= writes
        fraction = max(ru_bucket.used_fraction(), write_bucket.used_fraction())
        headers = {}
        if fraction > WARN_FRACTION:
            headers["x-ms-throttle-limit-percentage"] = _percentage(fraction)
        return Charge(True, headers)


def _percentage(fraction: float) -> str:
    # Graph reports 0.8–1.8: 1.0 is where throttling starts.
    return f"{min(1.8, max(WARN_FRACTION, fraction)):.1f}"
