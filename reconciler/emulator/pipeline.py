"""`Emulator`: one emulated tenant and `Emulator.handle`, the pipeline every Graph call takes.

`handle` normalises the path, matches a route template, checks the bearer token and its roles, charges
resource units, injects configured faults and latency, then runs the route's handler. `$batch` steps
come back through `handle` (via `EmulatorContext.dispatch`), so each step is checked and throttled on
its own, as Graph does. The HTTP edge (app.py) turns requests into `GraphRequest`s and back.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from reconciler.emulator import audit, faults
from reconciler.emulator.auth import Auth, service_principal_id
from reconciler.emulator.context import EmulatorContext, RuntimeConfig, config_from_json
from reconciler.emulator.router import Route, Router, normalise_path
from reconciler.emulator.routes import ROUTES
from reconciler.emulator.seeds import SEED_META, apply_seed
from reconciler.emulator.store import Store
from reconciler.emulator.throttle import DEFAULT_WRITES_PER_WINDOW, Throttle, tier_ru_quota
from reconciler.emulator.types import GraphApiError, GraphRequest, GraphResponse

log = logging.getLogger(__name__)

_CONFIG_META = "emulator.config"
_STATS_META = "emulator.stats"
# Roles that cover every read, or everything (Graph docs: permissions-reference).
_READ_ALL = "Directory.Read.All"
_READ_WRITE_ALL = "Directory.ReadWrite.All"


@dataclass
class Stats:
    """The admin API's counters (documented in the README); kept in the store's meta across restarts.

    `$batch` steps count as requests of their own, besides their `POST /$batch`; `http_requests` counts
    only what came over the wire (a `$batch` once); `throttled` counts every 429 (throttling or an
    injected fault); `faults` counts the injected faults that fired (errors and resets);
    token-endpoint calls count only in `token_requests`.
    """

    requests: int = 0
    http_requests: int = 0
    resource_units: int = 0
    throttled: int = 0
    faults: int = 0
    writes: int = 0
    by_route: dict[str, int] = field(default_factory=dict)
    token_requests: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "http_requests": self.http_requests,
            "resource_units": self.resource_units,
            "throttled": self.throttled,
            "faults": self.faults,
            "writes": self.writes,
            "by_route": dict(sorted(self.by_route.items())),
            "token_requests": self.token_requests,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stats:
        return cls(
            requests=int(data.get("requests", 0)),
            http_requests=int(data.get("http_requests", 0)),
            resource_units=int(data.get("resource_units", 0)),
            throttled=int(data.get("throttled", 0)),
            faults=int(data.get("faults", 0)),
            writes=int(data.get("writes", 0)),
            by_route={str(k): int(v) for k, v in data.get("by_route", {}).items()},
            token_requests=int(data.get("token_requests", 0)),
        )


def request_cost(route: Route, query: dict[str, str]) -> int:
    """Resource units for one request (Graph docs: concepts/throttling-limits): the route's base cost with
    the query modifiers."""
    if route.cost == 0:
        return 0
    if route.write:
        return max(1, route.cost)
    cost = route.cost
    if "$select" in query:
        cost -= 1
    if "$expand" in query:
        cost += 1
    top = query.get("$top", "")
    if top.isdigit() and int(top) < 20:
        cost -= 1
    return max(1, cost)


def error_body(
    error: GraphApiError, request_id: str, client_request_id: str, now: float
) -> dict[str, dict[str, Any]]:
    inner: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)),
        "request-id": request_id,
        "client-request-id": client_request_id,
    }
    if error.status == 429:
        # Graph's throttling sample (Graph docs: concepts/throttling, "Sample response") carries these
        # three besides the usual ones.
        inner.update({"code": "429", "message": "Please retry after", "status": "429"})
    body: dict[str, Any] = {"code": error.code, "message": error.message, "innerError": inner}
    if error.details:
        body["details"] = error.details
    return {"error": body}


class Emulator:
    """One emulated tenant: its store, runtime config, RNG, counters, token issuer and throttle."""

    def __init__(self, store: Store, *, routes: list[Route] | None = None) -> None:
        self.store = store
        saved_config = store.get_meta(_CONFIG_META)
        self.config = config_from_json(json.loads(saved_config)) if saved_config else RuntimeConfig()
        saved_stats = store.get_meta(_STATS_META)
        self.stats = Stats.from_json(json.loads(saved_stats)) if saved_stats else Stats()
        self.rng = random.Random(self.config.rng_seed)
        self.auth = Auth(store)
        self.throttle = Throttle()
        self.ctx = EmulatorContext(store=store, config=self.config, rng=self.rng, dispatch=self.handle)
        self.router = Router(ROUTES if routes is None else routes)

    @classmethod
    def open(cls, db_path: str, seed: str = "demo") -> Emulator:
        """Open (or create) the tenant in `db_path`; a new database is seeded with `seed` first."""
        store = Store.open(db_path)
        if not store.seeded:
            apply_seed(store, seed)
        return cls(store)

    # ---- state -----------------------------------------------------------------------------------

    def now(self) -> float:
        return self.ctx.now()

    @property
    def seed(self) -> str:
        return self.store.get_meta(SEED_META) or "demo"

    def set_config(self, config: RuntimeConfig) -> None:
        """Apply a new runtime config. The RNG restarts from `rng_seed` every time, so a test that sets
        its faults gets the same draws whatever ran before it."""
        throttle_changed = config.throttle != self.config.throttle
        self.config = config
        self.ctx.config = config
        self.rng.seed(config.rng_seed)
        if throttle_changed:
            self.throttle.reset()
        self.store.set_meta(_CONFIG_META, json.dumps(config.to_json()))

    def reseed(self, seed: str | None = None) -> None:
        """Put the tenant back to `seed` (default: the one it was created with); counters are kept."""
        apply_seed(self.store, seed or self.seed, self.now())
        self.rng.seed(self.config.rng_seed)
        self.throttle.reset()

    def save_stats(self) -> None:
        self.store.set_meta(_STATS_META, json.dumps(self.stats.to_json()))

    def reset_stats(self) -> None:
        self.stats = Stats()
        self.save_stats()

    def close(self) -> None:
        self.save_stats()
        self.store.close()

    # ---- the pipeline ----------------------------------------------------------------------------

    async def handle(self, req: GraphRequest) -> GraphResponse:
        """Run one Graph request (or `$batch` step) through the whole pipeline; never raises."""
        req.method = req.method.upper()
        req.path = normalise_path(req.path)
        # A client's own `client-request-id` is answered as the request id too, so that whatever id the
        # client keeps is the audit records' correlationId (audit.correlation_id).
        req.request_id = req.request_id or req.headers.get("client-request-id") or str(uuid.uuid4())
        client_request_id = req.headers.get("client-request-id") or req.request_id
        headers = {"request-id": req.request_id, "client-request-id": client_request_id}
        compiled, params, path_known = self.router.find(req.method, req.path)
        self.stats.requests += 1
        self.stats.http_requests += 0 if req.in_batch else 1
        if compiled is not None:
            self.stats.by_route[compiled.key] = self.stats.by_route.get(compiled.key, 0) + 1
        ru = 0
        try:
            if req.app is None or not req.in_batch:
                req.app = self.auth.verify(req.headers.get("authorization"), self.now())
            if compiled is None:
                if path_known:
                    raise GraphApiError(
                        405,
                        "Request_BadRequest",
                        "Specified HTTP method is not allowed for the request target.",
                    )
                segment = self.router.unknown_segment(req.path)
                raise GraphApiError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")
            route = compiled.route
            self._check_roles(route, req.app.roles)
            ru = request_cost(route, req.query)
            headers.update(self._charge(route, req, ru))
            fault = faults.firing_rule(
                self.config.faults, self.rng, req.method, req.path, on_wire=not req.in_batch
            )
            # The round trip is the HTTP response's: a `$batch` pays it once, not once per step.
            if self.config.latency_ms > 0 and not req.in_batch:
                await asyncio.sleep(self.config.latency_ms / 1000)
            self.stats.faults += 0 if fault is None else 1
            if fault is not None and fault.kind == "error":
                raise faults.fault_error(fault)
            result: Any = route.handler(self.ctx, req, params)
            if inspect.isawaitable(result):
                result = await result
            response: GraphResponse = result
            if response.status < 400 and req.audit:
                self._log(req)
            response.dropped = fault is not None
        except GraphApiError as error:
            response = GraphResponse(
                error.status,
                error_body(error, req.request_id, client_request_id, self.now()),
                dict(error.headers),
            )
        except Exception:  # a handler bug must still give the client a Graph-shaped answer
            log.exception("emulator: %s %s failed", req.method, req.path)
            failure = GraphApiError(500, "InternalServerError", "The emulator failed on this request.")
            response = GraphResponse(500, error_body(failure, req.request_id, client_request_id, self.now()))
        if response.status == 429:
            self.stats.throttled += 1
        response.headers = {**headers, **response.headers, "x-ms-resource-unit": str(ru)}
        return response

    def _log(self, req: GraphRequest) -> None:
        """The audit records of a successful write, at the emulator's time (clock_offset_s included)."""
        now = self.now()
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        principal = service_principal_id(req.app.client_id) if req.app else None
        log = self.store.audit
        for noted in req.audit:
            log.append(now, audit.complete(req, noted, log.next_sequence, at, principal or ""))

    def _check_roles(self, route: Route, roles: frozenset[str]) -> None:
        if not route.permissions:
            return
        if not route.strict and (_READ_WRITE_ALL in roles or (not route.write and _READ_ALL in roles)):
            return
        if roles.isdisjoint(route.permissions):
            raise GraphApiError(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )

    def _charge(self, route: Route, req: GraphRequest, ru: int) -> dict[str, str]:
        """Charge the request to its buckets (app+tenant, tenant, app); 429 when one cannot pay. Returns
        headers to add."""
        writes = 1 if route.write else 0
        limits = self.config.throttle
        if limits.enabled and req.app is not None and (ru or writes):
            charge = self.throttle.charge(
                app_id=req.app.client_id,
                tenant_id=req.app.tenant_id,
                ru=ru,
                writes=writes,
                ru_quota=limits.ru_per_10s or tier_ru_quota(len(self.store.users)),
                write_quota=limits.writes_per_150s or DEFAULT_WRITES_PER_WINDOW,
                now=self.now(),
                priority=req.headers.get("x-ms-throttle-priority", "Normal"),
            )
            if not charge.allowed:
                message = "Please retry again later."
                raise GraphApiError(429, "TooManyRequests", message, headers=charge.headers)
            extra = charge.headers
        else:
            extra = {}
        self.stats.resource_units += ru
        self.stats.writes += writes
        return extra
