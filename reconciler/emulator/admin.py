"""The admin API under `/_emulator/` (documented in the README): counters, runtime config, reset and
seeding.

No token is needed, so it answers loopback clients only (403 for anyone else, even with
`--allow-remote`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from reconciler.emulator.context import FaultRule, RuntimeConfig, ThrottleConfig
from reconciler.emulator.faults import validate_rule

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from reconciler.emulator.app import Emulator

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_CONFIG_KEYS = ("throttle", "lag_ms", "latency_ms", "faults", "clock_offset_s", "rng_seed")
_THROTTLE_KEYS = ("enabled", "ru_per_10s", "writes_per_150s")
_FAULT_KEYS = ("route", "status", "rate", "retry_after")


class ConfigInvalid(ValueError):
    """A `PUT /_emulator/config` body the emulator cannot use; the message says what and why."""


def is_loopback(host: str | None) -> bool:
    return host is not None and (host in LOOPBACK_HOSTS or host.startswith("127."))


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
            raise ConfigInvalid("faults must be a list of {route, status, rate, retry_after} objects")
        faults = [_fault(rule) for rule in patch["faults"]]
    return RuntimeConfig(
        throttle=throttle,
        lag_ms=_integer(patch, "lag_ms", current.lag_ms, minimum=0),
        latency_ms=_integer(patch, "latency_ms", current.latency_ms, minimum=0),
        faults=faults,
        clock_offset_s=_float(patch, "clock_offset_s", current.clock_offset_s),
        rng_seed=_integer(patch, "rng_seed", current.rng_seed),
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


def _float(patch: dict[str, Any], key: str, default: float) -> float:
    value = patch.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigInvalid(f"{key} must be a number, not {value!r}")
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
    rule = FaultRule(route=data["route"], status=status, rate=float(rate), retry_after=retry_after)
    try:
        validate_rule(rule)
    except ValueError as exc:
        raise ConfigInvalid(str(exc)) from exc
    return rule


def admin_routes(emulator: Emulator) -> list[BaseRoute]:
    """The `/_emulator/` routes bound to one emulator."""

    def loopback_only(
        endpoint: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            if not is_loopback(request.client.host if request.client else None):
                return _error(403, "Forbidden", "The emulator's admin API answers loopback clients only.")
            return await endpoint(request)

        return guarded

    async def get_stats(request: Request) -> Response:
        return JSONResponse(emulator.stats.to_json())

    async def reset_stats(request: Request) -> Response:
        emulator.reset_stats()
        return JSONResponse(emulator.stats.to_json())

    async def get_config(request: Request) -> Response:
        return JSONResponse(emulator.config.to_json())

    async def put_config(request: Request) -> Response:
        try:
            config = merge_config(emulator.config, await _json(request))
        except ConfigInvalid as exc:
            return _error(400, "BadRequest", str(exc))
        emulator.set_config(config)
        return JSONResponse(config.to_json())

    async def reset(request: Request) -> Response:
        emulator.reseed()
        return JSONResponse({"seed": emulator.seed})

    async def seed(request: Request) -> Response:
        try:
            body = await _json(request)
        except ConfigInvalid as exc:
            return _error(400, "BadRequest", str(exc))
        spec = body.get("seed") if isinstance(body, dict) else None
        if not isinstance(spec, str):
            return _error(
                400, "BadRequest", 'expected {"seed": "demo|empty|synthetic:USERS:GROUPS:MEMBERSHIPS"}'
            )
        try:
            emulator.reseed(spec)
        except ValueError as exc:
            return _error(400, "BadRequest", str(exc))
        return JSONResponse({"seed": emulator.seed})

    async def patch_user(request: Request) -> Response:
        try:
            body = await _json(request)
        except ConfigInvalid as exc:
            return _error(400, "BadRequest", str(exc))
        enabled = body.get("onPremisesSyncEnabled") if isinstance(body, dict) else None
        if (
            not isinstance(body, dict)
            or set(body) != {"onPremisesSyncEnabled"}
            or not isinstance(enabled, bool)
        ):
            return _error(400, "BadRequest", 'expected {"onPremisesSyncEnabled": true|false}')
        user_id = emulator.store.user_id_for(request.path_params["id"])
        if user_id is None:
            return _error(404, "Request_ResourceNotFound", f"No user '{request.path_params['id']}'.")
        emulator.store.set_on_premises_sync(user_id, enabled)
        return Response(status_code=204)

    endpoints: list[tuple[str, str, Callable[[Request], Awaitable[Response]]]] = [
        ("/_emulator/stats", "GET", get_stats),
        ("/_emulator/stats/reset", "POST", reset_stats),
        ("/_emulator/config", "GET", get_config),
        ("/_emulator/config", "PUT", put_config),
        ("/_emulator/reset", "POST", reset),
        ("/_emulator/seed", "POST", seed),
        ("/_emulator/users/{id}", "PATCH", patch_user),
    ]
    return [Route(path, loopback_only(endpoint), methods=[method]) for path, method, endpoint in endpoints]


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ConfigInvalid(f"the body is not valid JSON: {exc}") from exc


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status)
