"""`read_each`: many collections as `$batch` steps, each page handed over as its envelope is answered,
nextLinks followed with later envelopes, a key's pages in order, and a refused step an error."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from graph_fakes import client_for, error, reply

from reconciler.errors import GraphError
from reconciler.graph.reads import read_each, read_many

PAGES = 3  # per collection


def pager(refuse: str | None = None) -> tuple[Any, list[int]]:
    """A `$batch` handler answering `/c/{key}?page=N` with one item per page, PAGES pages a key."""
    envelopes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        steps = json.loads(request.content)["requests"]
        envelopes.append(len(steps))
        answers = []
        for step in steps:
            path, _, query = step["url"].partition("?")
            key, page = path.rsplit("/", 1)[1], int(query.removeprefix("page=") or 0)
            if key == refuse:
                answers.append({"id": step["id"], "status": 403, "body": error(403, "Forbidden", "no")})
                continue
            body: dict[str, Any] = {"value": [f"{key}:{page}"]}
            if page + 1 < PAGES:
                body["@odata.nextLink"] = f"https://graph.microsoft.com/v1.0/c/{key}?page={page + 1}"
            answers.append({"id": step["id"], "status": 200, "body": body})
        return reply(200, {"responses": answers})

    return handler, envelopes


def test_every_page_of_every_key_is_handed_over_in_order() -> None:
    handler, envelopes = pager()
    paths = {f"k{n}": f"/c/k{n}" for n in range(45)}
    seen: list[tuple[str, list[Any]]] = []
    asyncio.run(
        read_each(client_for(handler), paths, lambda key, page: seen.append((key, page)), concurrency=2)
    )
    for key in paths:
        assert [page for k, page in seen if k == key] == [[f"{key}:{n}"] for n in range(PAGES)]
    assert len(seen) == 45 * PAGES and max(envelopes) == 20


def test_read_many_gathers_each_key_s_items() -> None:
    handler, _ = pager()
    items = asyncio.run(read_many(client_for(handler), {"a": "/c/a", "b": "/c/b"}))
    assert items == {"a": ["a:0", "a:1", "a:2"], "b": ["b:0", "b:1", "b:2"]}


def test_a_refused_step_is_an_error_naming_its_path() -> None:
    handler, _ = pager(refuse="k7")
    paths = {f"k{n}": f"/c/k{n}" for n in range(10)}
    with pytest.raises(GraphError, match="/c/k7"):
        asyncio.run(read_each(client_for(handler), paths, lambda key, page: None))
