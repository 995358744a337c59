"""The emulator's HTTP edge: the Starlette app that serves the admin API, the identity endpoints, ARM's two
answers for azure-cli, and every other path as Graph v1.0 through `Emulator.handle` (pipeline.py).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qsl

import msgspec
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler.emulator import admin, arm
from reconciler.emulator.auth import openid_configuration
from reconciler.emulator.pipeline import Emulator, error_body
from reconciler.emulator.types import GraphApiError, GraphRequest, GraphResponse


class DroppedConnection(Response):
    """Starts a response and ends without its body: uvicorn then closes the connection, and the client
    sees it reset mid-response (the "reset" fault of faults.py)."""

    def __init__(self) -> None:
        super().__init__(status_code=200, headers={"content-length": "1024"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})


def to_http(response: GraphResponse) -> Response:
    if response.dropped:
        return DroppedConnection()
    if response.body is None:
        return Response(status_code=response.status, headers=response.headers)
    if isinstance(response.body, str):
        return Response(response.body, response.status, response.headers, media_type="text/plain")
    content = msgspec.json.encode(response.body)  # compact JSON as json.dumps gives it, several times faster
    return Response(content, response.status, response.headers, media_type="application/json")


class CollapseSlashes:
    """`//metadata/endpoints` → `/metadata/endpoints` before routing: clients join a base URL ending in `/`
    with a path starting with one (azure-cli does, the SDK sometimes), and Graph collapses them too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "//" in scope["path"]:
            scope = {**scope, "path": re.sub(r"/{2,}", "/", scope["path"])}
        await self.app(scope, receive, send)


# Graph refuses request bodies over 4 MB with 413 (Graph docs: errors, "413 Request Entity Too Large";
# the message as observed, O365/python-o365#472). Every route of the emulator is bounded so, the token
# endpoint and the admin API too, so that no client can make it hold an unbounded body in memory.
MAX_BODY_BYTES = 4 * 1024 * 1024


class _TooLarge(Exception):
    pass


class BoundedBodies:
    """413 for a body over MAX_BODY_BYTES: at once when Content-Length says so, else as soon as the
    bytes received pass it (a chunked body)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            await _too_large()(scope, receive, send)
            return
        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    raise _TooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, watched_send)
        except _TooLarge:
            if not started:
                await _too_large()(scope, receive, send)


def _too_large() -> Response:
    rid = str(uuid.uuid4())
    error = {"code": "RequestEntityTooLarge", "message": "The maximum request length supported is 4MB."}
    return JSONResponse({"error": error}, 413, {"request-id": rid, "client-request-id": rid})


def create_app(emulator: Emulator) -> Starlette:
    """The ASGI app: admin API, identity endpoints, ARM's two answers for azure-cli, then every other path as
    Graph v1.0."""

    async def graph_endpoint(request: Request) -> Response:
        raw = await request.body()
        req = GraphRequest(
            method=request.method,
            path=request.url.path,
            query=dict(parse_qsl(request.url.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=None,
            base_url=f"{request.url.scheme}://{request.url.netloc}/v1.0",
        )
        if raw.strip():
            try:
                req.body = json.loads(raw)
            except ValueError:
                error = GraphApiError(400, "BadRequest", "Unable to read JSON request payload.")
                rid = str(uuid.uuid4())
                cid = req.headers.get("client-request-id", rid)
                body = error_body(error, rid, cid, emulator.now())
                return JSONResponse(body, 400, {"request-id": rid, "client-request-id": cid})
        return to_http(await emulator.handle(req))

    async def token_endpoint(request: Request) -> Response:
        emulator.stats.token_requests += 1
        reply = emulator.auth.token_endpoint(
            request.path_params["tenant"],
            await request.body(),
            request.headers.get("authorization"),
            emulator.now(),
        )
        return JSONResponse(reply.body, reply.status, {"Cache-Control": "no-store, no-cache"})

    async def openid_endpoint(request: Request) -> Response:
        authority = f"{request.url.scheme}://{request.url.netloc}"
        return JSONResponse(openid_configuration(authority, request.path_params["tenant"]))

    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    routes: list[BaseRoute] = [
        *admin.admin_routes(emulator),
        Route("/{tenant}/v2.0/.well-known/openid-configuration", openid_endpoint, methods=["GET"]),
        Route("/{tenant}/oauth2/v2.0/token", token_endpoint, methods=["POST"]),
        *arm.arm_routes(emulator),
        Route("/{path:path}", graph_endpoint, methods=methods),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        emulator.save_stats()

    middleware = [Middleware(BoundedBodies), Middleware(CollapseSlashes)]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.emulator = emulator
    return app
