"""What a route handler can reach: the store, the emulator's runtime config, its clock and RNG."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.emulator.types import GraphRequest, GraphResponse

if TYPE_CHECKING:
    from reconciler.emulator.store import Store


@dataclass
class FaultRule:
    route: str  # regex matched against "METHOD /path" (path without /v1.0)
    status: int = 503
    rate: float = 1.0
    retry_after: int | None = None


@dataclass
class ThrottleConfig:
    enabled: bool = False
    ru_per_10s: int | None = None  # None: the tenant tier's quota (Graph docs: concepts/throttling-limits)
    writes_per_150s: int | None = None  # None: 3,000


@dataclass
class RuntimeConfig:
    """`GET/PUT /_emulator/config` (documented in the README); persisted with the tenant."""

    throttle: ThrottleConfig = field(default_factory=ThrottleConfig)
    lag_ms: int = 0  # replication lag: a written object is invisible for this long
    latency_ms: int = 0
    faults: list[FaultRule] = field(default_factory=list)
    clock_offset_s: float = 0.0
    rng_seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "throttle": {
                "enabled": self.throttle.enabled,
                "ru_per_10s": self.throttle.ru_per_10s,
                "writes_per_150s": self.throttle.writes_per_150s,
            },
            "lag_ms": self.lag_ms,
            "latency_ms": self.latency_ms,
            "faults": [
                {"route": f.route, "status": f.status, "rate": f.rate, "retry_after": f.retry_after}
                for f in self.faults
            ],
            "clock_offset_s": self.clock_offset_s,
            "rng_seed": self.rng_seed,
        }


@dataclass
class EmulatorContext:
    store: Store
    config: RuntimeConfig
    rng: random.Random
    # Runs a request through the whole pipeline (auth, throttling, faults, route): `$batch` uses it.
    dispatch: Callable[[GraphRequest], Awaitable[GraphResponse]]

    def now(self) -> float:
        """Emulated wall-clock time in seconds (real time plus the configured offset)."""
        return time.time() + self.config.clock_offset_s
