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

from reconciler.emulator.context import ConfigInvalid, merge_config

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from reconciler.emulator.pipeline import Emulator

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def is_loopback(host: str | None) -> bool:
    return host is not None and (host in LOOPBACK_HOSTS or host.startswith("127."))


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
