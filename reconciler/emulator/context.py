"""What a route handler can reach: the store, the runtime config (with its JSON form, as
`PUT /_emulator/config` takes it and the tenant persists it), the clock and the RNG."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.emulator.faults import FAULT_KINDS, FaultRule, validate_rule
from reconciler.emulator.types import GraphRequest, GraphResponse

if TYPE_CHECKING:
    from reconciler.emulator.store import Store


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
    audit_delay_s: float = 0.0  # an audit record is listed this long after its activityDateTime

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
                {
                    "route": f.route,
                    "status": f.status,
                    "rate": f.rate,
                    "retry_after": f.retry_after,
                    "kind": f.kind,
                }
                for f in self.faults
            ],
            "clock_offset_s": self.clock_offset_s,
            "rng_seed": self.rng_seed,
            "audit_delay_s": self.audit_delay_s,
        }


_CONFIG_KEYS = (
    "throttle",
    "lag_ms",
    "latency_ms",
    "faults",
    "clock_offset_s",
    "rng_seed",
    "audit_delay_s",
)
_THROTTLE_KEYS = ("enabled", "ru_per_10s", "writes_per_150s")
_FAULT_KEYS = ("route", "status", "rate", "retry_after", "kind")


class ConfigInvalid(ValueError):
    """A `PUT /_emulator/config` body the emulator cannot use; the message says what and why."""


def config_from_json(data: dict[str, Any]) -> RuntimeConfig:
    """A full config from its JSON form (as persisted)."""
    return merge_config(RuntimeConfig(), data)


def merge_config(current: RuntimeConfig, patch: Any) -> RuntimeConfig:
    """`current` with the keys of `patch` replaced (`throttle` merges key by key; `faults` is replaced)."""
    if not isinstance(patch, dict):
        raise ConfigInvalid("the config must be a JSON object")
    unknown = sorted(set(patch) - set(_CONFIG_KEYS))
    if unknown:
        raise ConfigInvalid(f"unknown config key(s) {unknown}; known: {list(_CONFIG_KEYS)}")
    throttle = current.throttle
    if "throttle" in patch:
        throttle = _merge_throttle(throttle, patch["throttle"])
    faults = current.faults
    if "faults" in patch:
        if patch["faults"] is None:
            patch = {**patch, "faults": []}
        if not isinstance(patch["faults"], list):
            raise ConfigInvalid("faults must be a list of {route, status, rate, retry_after, kind} objects")
        faults = [_fault(rule) for rule in patch["faults"]]
    return RuntimeConfig(
        throttle=throttle,
        lag_ms=_integer(patch, "lag_ms", current.lag_ms, minimum=0),
        latency_ms=_integer(patch, "latency_ms", current.latency_ms, minimum=0),
        faults=faults,
        clock_offset_s=_float(patch, "clock_offset_s", current.clock_offset_s),
        rng_seed=_integer(patch, "rng_seed", current.rng_seed),
        audit_delay_s=_float(patch, "audit_delay_s", current.audit_delay_s, minimum=0.0),
    )


def _merge_throttle(current: ThrottleConfig, patch: Any) -> ThrottleConfig:
    if not isinstance(patch, dict):
        raise ConfigInvalid("throttle must be an object with enabled, ru_per_10s, writes_per_150s")
    unknown = sorted(set(patch) - set(_THROTTLE_KEYS))
    if unknown:
        raise ConfigInvalid(f"unknown throttle key(s) {unknown}; known: {list(_THROTTLE_KEYS)}")
    enabled = patch.get("enabled", current.enabled)
    if not isinstance(enabled, bool):
        raise ConfigInvalid("throttle.enabled must be true or false")
    return ThrottleConfig(
        enabled=enabled,
        ru_per_10s=_limit(patch, "ru_per_10s", current.ru_per_10s),
        writes_per_150s=_limit(patch, "writes_per_150s", current.writes_per_150s),
    )


def _limit(patch: dict[str, Any], key: str, default: int | None) -> int | None:
    value = patch.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigInvalid(f"throttle.{key} must be a positive integer, or null for the tenant tier's limit")
    return value


def _integer(patch: dict[str, Any], key: str, default: int, minimum: int | None = None) -> int:
    value = patch.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigInvalid(f"{key} must be an integer, not {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigInvalid(f"{key} must be {minimum} or more")
    return value


def _float(patch: dict[str, Any], key: str, default: float, minimum: float | None = None) -> float:
    value = patch.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigInvalid(f"{key} must be a number, not {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigInvalid(f"{key} must be {minimum:g} or more")
    return float(value)


def _fault(data: Any) -> FaultRule:
    if not isinstance(data, dict) or not isinstance(data.get("route"), str):
        raise ConfigInvalid('each fault needs at least {"route": "REGEX on \'METHOD /path\'"}')
    unknown = sorted(set(data) - set(_FAULT_KEYS))
    if unknown:
        raise ConfigInvalid(f"unknown fault key(s) {unknown}; known: {list(_FAULT_KEYS)}")
    status, rate, retry_after = data.get("status", 503), data.get("rate", 1.0), data.get("retry_after")
    if not isinstance(status, int) or isinstance(status, bool):
        raise ConfigInvalid(f"faults: status must be an integer, not {status!r}")
    if not isinstance(rate, int | float) or isinstance(rate, bool):
        raise ConfigInvalid(f"faults: rate must be a number between 0 and 1, not {rate!r}")
    if retry_after is not None and (not isinstance(retry_after, int) or isinstance(retry_after, bool)):
        raise ConfigInvalid(f"faults: retry_after must be whole seconds (Retry-After), not {retry_after!r}")
    kind = data.get("kind", "error")
    if kind not in FAULT_KINDS:
        raise ConfigInvalid(f"faults: kind must be one of {list(FAULT_KINDS)}, not {kind!r}")
    rule = FaultRule(route=data["route"], status=status, rate=float(rate), retry_after=retry_after, kind=kind)
    try:
        validate_rule(rule)
    except ValueError as exc:
        raise ConfigInvalid(str(exc)) from exc
    return rule


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
