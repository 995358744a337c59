"""`Emulator.handle`: path normalisation, route matching, errors and the headers every answer carries."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.emulator.context import EmulatorContext
from reconciler.emulator.pipeline import Emulator
from reconciler.emulator.router import Route, normalise_path
from reconciler.emulator.seeds import build_seed
from reconciler.emulator.store import Store
from reconciler.emulator.types import GraphApiError, GraphRequest, GraphResponse


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ("/v1.0/users", "/users"),
        ("/v1.0//users/", "/users"),
        ("//v1.0///groups//abc/members/$ref", "/groups/abc/members/$ref"),
        ("https://graph.microsoft.com/v1.0/users/x", "/users/x"),
        ("users/delta()", "/users/delta()"),
        ("/v1.0", "/"),
    ],
)
def test_normalise_path(raw: str, path: str) -> None:
    assert normalise_path(raw) == path


def named(name: str) -> Route:
    def handler(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
        return GraphResponse(200, {"route": name, "params": params})

    return Route("GET", name, handler, ())


def failing(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    raise KeyError("a bug")


def not_found(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    raise GraphApiError(404, "Request_ResourceNotFound", "Resource 'x' does not exist.")


@pytest.fixture
def emulator() -> Emulator:
    templates = [
        "/users/{id}",
        "/users/delta",
        "/users/delta()",
        "/users/$count",
        "/groups/{id}/members/{member_id}",
        "/groups/{id}/members/microsoft.graph.user",
    ]
    routes = [named(t) for t in templates]
    routes += [Route("GET", "/boom", failing, ()), Route("DELETE", "/missing", not_found, ())]
    store = Store.open(":memory:")
    store.load_seed(build_seed("empty"))
    return Emulator(store, routes=routes)


def run(emulator: Emulator, method: str, path: str, **headers: str) -> GraphResponse:
    token = emulator.auth.mint(emulator.auth.apps["reader"], emulator.now())
    request = GraphRequest(
        method=method,
        path=path,
        query={},
        headers={"authorization": f"Bearer {token}", **headers},
        body=None,
        base_url="https://graph.microsoft.com/v1.0",
    )
    return asyncio.run(emulator.handle(request))


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/users/delta", "/users/delta"),
        ("/users/DELTA()", "/users/delta()"),
        ("/users/$count", "/users/$count"),
        ("/users/ada@contoso.example", "/users/{id}"),
        ("/groups/g1/members/microsoft.graph.user", "/groups/{id}/members/microsoft.graph.user"),
        ("/groups/g1/members/m1", "/groups/{id}/members/{member_id}"),
    ],
)
def test_literal_segments_win_over_parameters(emulator: Emulator, path: str, route: str) -> None:
    assert run(emulator, "GET", f"/v1.0/{path}").body["route"] == route


def test_parameters_are_passed_by_name(emulator: Emulator) -> None:
    assert run(emulator, "GET", "/groups/g1/members/m1").body["params"] == {"id": "g1", "member_id": "m1"}


def test_unknown_segment_and_wrong_method(emulator: Emulator) -> None:
    unknown = run(emulator, "GET", "/users/u1/nothing")
    assert unknown.status == 400
    assert unknown.body["error"]["message"] == "Resource not found for the segment 'nothing'."
    wrong = run(emulator, "POST", "/users/delta")
    assert (wrong.status, wrong.body["error"]["code"]) == (405, "Request_BadRequest")


def test_errors_carry_request_ids_and_every_answer_the_resource_units(emulator: Emulator) -> None:
    reply = run(emulator, "DELETE", "/missing", **{"client-request-id": "abc"})
    inner = reply.body["error"]["innerError"]
    assert reply.status == 404
    assert inner["request-id"] == reply.headers["request-id"] and inner["client-request-id"] == "abc"
    assert reply.headers["client-request-id"] == "abc"
    assert reply.headers["x-ms-resource-unit"] == "1"


def test_a_handler_bug_is_a_graph_shaped_500(emulator: Emulator) -> None:
    reply = run(emulator, "GET", "/boom")
    assert (reply.status, reply.body["error"]["code"]) == (500, "InternalServerError")
