"""The one retry policy (graph.retry): what is transient, how often, how long to wait."""

from __future__ import annotations

import random

from reconciler.graph.retry import NO_ANSWER, RetryPolicy


def test_transient_answers_are_throttling_unavailability_and_no_answer() -> None:
    policy = RetryPolicy()
    assert all(policy.is_transient(s) for s in (429, 502, 503, 504, NO_ANSWER))
    # 500 is not retried: Graph's SDKs do not, and a write may have happened behind it.
    assert not any(policy.is_transient(s) for s in (400, 401, 403, 404, 409, 500))


def test_throttling_may_be_waited_out_longer_than_failures() -> None:
    policy = RetryPolicy(attempts=3, throttled_attempts=5)
    assert [policy.gives_up(503, n) for n in (1, 2, 3)] == [False, False, True]
    assert [policy.gives_up(429, n) for n in (3, 4, 5)] == [False, False, True]


def test_retry_after_wins_over_the_backoff_and_the_backoff_is_capped_with_jitter() -> None:
    policy = RetryPolicy(base_s=1.0, max_s=8.0, rng=random.Random(3))
    assert policy.wait(5, 2.0) == 2.0 and policy.wait(5, 0.0) == 0.0
    waits = [policy.backoff(n) for n in range(1, 8)]
    assert all(0.5 * min(8.0, 2.0 ** (n - 1)) <= w < min(8.0, 2.0 ** (n - 1)) for n, w in enumerate(waits, 1))
    assert max(waits) < 8.0
