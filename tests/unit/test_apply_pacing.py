"""The write pacer: a token bucket shaped like Graph's write quota, taught by 429s (fake clock)."""

from __future__ import annotations

from reconciler.apply.pacing import WritePacer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_up_to_the_quota_then_the_refill_rate() -> None:
    clock = Clock()
    pacer = WritePacer(quota=300, window_s=150, clock=clock)
    for _ in range(15):
        assert pacer.delay(20) == 0
        pacer.take(20)
    assert pacer.delay(20) == 10.0  # 2 writes/s refill
    clock.now += 10
    assert pacer.delay(20) == 0


def test_a_429_pauses_for_retry_after_and_builds_no_credit_meanwhile() -> None:
    clock = Clock()
    pacer = WritePacer(quota=300, window_s=150, clock=clock)
    pacer.throttled(retry_after=5, write_limited=False)
    assert pacer.delay(1) == 5
    clock.now += 5
    assert pacer.delay(2) == 1.0  # the bucket starts empty after the pause
    assert pacer.quota == 300  # an RU 429 says nothing about the write quota


def test_a_write_limit_429_teaches_the_quota_from_what_was_accepted() -> None:
    clock = Clock()
    pacer = WritePacer(clock=clock)  # believes 3,000 / 150 s
    for _ in range(6):
        pacer.take(20)
        pacer.accepted(20)
        clock.now += 1
    pacer.throttled(retry_after=1, write_limited=True)
    assert pacer.quota == 120
    assert pacer.rate == 0.8
    clock.now += 200  # old acceptances leave the window; the learnt quota stays
    pacer.accepted(1)
    assert pacer.quota == 120


def test_a_default_pause_without_retry_after() -> None:
    clock = Clock()
    pacer = WritePacer(clock=clock)
    pacer.throttled(retry_after=None, write_limited=False)
    assert pacer.delay(0) == 2.0
