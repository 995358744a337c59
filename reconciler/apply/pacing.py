"""Pacing writes to the tenant's write quota instead of running into 429s (Graph docs:
throttling-limits, "Identity and access service limits").

Graph allows an app 3,000 writes per 150 s in a tenant, as a token bucket. The pacer keeps its own
bucket of the same shape, so a burst up to the quota goes out at once and then writes flow at the
refill rate. A 429 pauses all writes for its `Retry-After`; one that blames the write quota also
teaches the pacer the real quota (another app may share it, or the tenant's limit may be lower): the
writes Graph accepted in the last window.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

DEFAULT_WRITE_QUOTA = 3000
WRITE_WINDOW_S = 150.0
DEFAULT_PAUSE_S = 2.0  # a 429 without Retry-After


class WritePacer:
    def __init__(
        self,
        quota: int = DEFAULT_WRITE_QUOTA,
        window_s: float = WRITE_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quota = float(quota)
        self.window_s = window_s
        self._clock = clock
        self._tokens = float(quota)
        self._stamp = clock()
        self.paused_until = 0.0
        self._accepted: deque[float] = deque()  # when each accepted write came back

    @property
    def rate(self) -> float:
        """Writes per second at which the bucket refills."""
        return self.quota / self.window_s

    def delay(self, writes: int) -> float:
        """Seconds to wait before `writes` writes may be sent (0: now)."""
        now = self._refill()
        pause = max(0.0, self.paused_until - now)
        wanted = min(float(writes), self.quota)
        return max(pause, (wanted - self._tokens) / self.rate if self._tokens < wanted else 0.0)

    def take(self, writes: int) -> None:
        self._refill()
        self._tokens -= writes

    def accepted(self, writes: int) -> None:
        now = self._clock()
        self._accepted.extend([now] * writes)
        self._forget_before(now - self.window_s)

    def throttled(self, retry_after: float | None, write_limited: bool) -> None:
        """A 429: pause everything; if the write quota said no, believe what it let through."""
        now = self._refill()
        self.paused_until = max(
            self.paused_until, now + (DEFAULT_PAUSE_S if retry_after is None else retry_after)
        )
        self._tokens = min(self._tokens, 0.0)
        if write_limited:
            self._forget_before(now - self.window_s)
            self.quota = max(1.0, min(self.quota, float(len(self._accepted))))

    def _forget_before(self, cutoff: float) -> None:
        while self._accepted and self._accepted[0] < cutoff:
            self._accepted.popleft()

    def _refill(self) -> float:
        now = self._clock()
        # No credit builds up during a pause: Graph's own bucket is just as empty when it ends.
        start = max(self._stamp, self.paused_until)
        if now > start:
            self._tokens = min(self.quota, self._tokens + (now - start) * self.rate)
        self._stamp = max(self._stamp, now)
        return now
