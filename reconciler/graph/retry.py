"""The one retry policy: which answers are transient, how many times to try, how long to wait.

Which layer retries what — each request is retried by exactly one of them:
- the SDK's own `RetryHandler` retries nothing: `GraphClient` switches it off on every request, since
  it would also resend `$batch` envelopes that the layers below retry step by step (a failing envelope
  was once tried ~30 times);
- `GraphClient.send` sends a request again once, with a new token, when Graph refused the token (401
  InvalidAuthenticationToken: expired by Graph's clock, revoked); Graph ran nothing, and no other layer
  retries a 401;
- `GraphClient.get` (a page, one object) retries a transient answer itself;
- `graph.batching.run_batches` (many reads as `$batch` steps) retries an envelope that got no usable
  answer and every step answered transiently, in new envelopes;
- `apply.scheduler` (writes as `$batch` steps) does the same for writes, plus what only writes need:
  a create whose answer was lost is looked up before it is sent again, replication lag after a create
  has a time budget of its own, and writes are paced to the tenant's write quota.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

NO_ANSWER = 0  # the status of a request that got no answer at all (a reset connection, a timeout)


@dataclass(frozen=True)
class RetryPolicy:
    """Graph's guidance: wait `Retry-After` when given, else back off exponentially (Graph docs:
    throttling). 429 is throttling; 502/503/504 and no answer at all are a service that may answer
    next time. 500 is not retried: Graph's SDKs do not, and a write may have happened."""

    throttled: frozenset[int] = frozenset({429})
    unavailable: frozenset[int] = frozenset({NO_ANSWER, 502, 503, 504})
    attempts: int = 8  # sends of a request that keeps failing transiently, the first included
    throttled_attempts: int = 12  # sends of a request that keeps being throttled
    unanswered_attempts: int = 4  # sends of a request that keeps getting no answer (e.g. a wrong host)
    base_s: float = 0.5
    max_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def is_transient(self, status: int) -> bool:
        return status in self.throttled or status in self.unavailable

    def gives_up(self, status: int, attempt: int) -> bool:
        """Whether `attempt` sends that ended in `status` are enough."""
        if status in self.throttled:
            return attempt >= self.throttled_attempts
        return attempt >= (self.unanswered_attempts if status == NO_ANSWER else self.attempts)

    def backoff(self, attempt: int) -> float:
        """Exponential with jitter: base·2^(n-1), capped, ×[0.5, 1)."""
        return min(self.max_s, self.base_s * 2.0 ** max(0, attempt - 1)) * (0.5 + self.rng.random() / 2)

    def wait(self, attempt: int, retry_after: float | None) -> float:
        """Graph's `Retry-After` when it gives one (0 too: retry at once), else the backoff."""
        return self.backoff(attempt) if retry_after is None else retry_after


DEFAULT_POLICY = RetryPolicy()
