"""The YAML loads in a thread beside the tenant read: it gives the interpreter lock up often while it
runs (else each response waits up to 5 ms for it), and leaves the interpreter as it found it."""

from __future__ import annotations

import sys

import pytest

from reconciler import planning


def test_the_load_switches_often_and_restores_the_interval() -> None:
    before = sys.getswitchinterval()
    during = planning._in_thread(sys.getswitchinterval).result(timeout=10)
    assert during == pytest.approx(planning.SWITCH_INTERVAL_S) and during < before
    assert sys.getswitchinterval() == before


def test_a_failed_load_restores_the_interval_and_hands_over_its_error() -> None:
    before = sys.getswitchinterval()

    def fails() -> None:
        raise ValueError("bad YAML")

    with pytest.raises(ValueError, match="bad YAML"):
        planning._in_thread(fails).result(timeout=10)
    assert sys.getswitchinterval() == before
