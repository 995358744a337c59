"""Bulk reads as raw JSON: paged collections, delta rounds, and many small collections over `$batch`."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from reconciler.errors import GraphError
from reconciler.graph.batching import run_batches
from reconciler.graph.client import GraphClient
from reconciler.graph.errors import error_from_response
from reconciler.graph.wire import MAX_BATCH_STEPS, BatchStep, RawResponse

PAGE_SIZE = 999  # Graph's largest page for directory objects (Graph docs: paging)
Json = dict[str, Any]


async def pages(
    client: GraphClient, path: str, *, headers: dict[str, str] | None = None
) -> AsyncIterator[list[Json]]:
    """The pages of a collection, following `@odata.nextLink` verbatim (headers are resent each page)."""
    url: str | None = path
    while url:
        page = await client.get(url, headers=headers)
        yield page.get("value", [])
        url = page.get("@odata.nextLink")


class DeltaRound:
    """One delta round (Graph docs: delta-query-overview): its pages, then the `@odata.deltaLink` the last
    one carries, for the next round to start from. The same object can come on several pages (a large
    group's `members@delta` in slices): the caller merges by id."""

    def __init__(self, client: GraphClient, path_or_link: str) -> None:
        self.client = client
        self.start = path_or_link
        self.delta_link: str | None = None

    async def pages(self) -> AsyncIterator[list[Json]]:
        url: str | None = self.start
        while url:
            page = await self.client.get(url)
            yield page.get("value", [])
            url = page.get("@odata.nextLink")
            if url is None:
                link = page.get("@odata.deltaLink")
                if not isinstance(link, str):
                    where = self.start.split("?", 1)[0]
                    raise GraphError(f"Graph ended the delta round of {where} without a deltaLink")
                self.delta_link = link


async def read_all(client: GraphClient, path: str, *, headers: dict[str, str] | None = None) -> list[Json]:
    """Every item of a collection."""
    return [item async for page in pages(client, path, headers=headers) for item in page]


async def read_many(
    client: GraphClient,
    paths: dict[str, str],
    *,
    concurrency: int = 4,
) -> dict[str, list[Json]]:
    """Many small collections (e.g. one per group) read as `$batch` steps, nextLinks included.

    `paths` maps a caller's key to a collection path; the answer maps the same keys to all items.
    """
    items: dict[str, list[Json]] = {key: [] for key in paths}
    await read_each(client, paths, lambda key, page: items[key].extend(page), concurrency=concurrency)
    return items


async def read_each(
    client: GraphClient,
    paths: dict[str, str],
    take: Callable[[str, list[Json]], None],
    *,
    concurrency: int = 4,
) -> None:
    """`read_many`, each page's items handed to `take(key, items)` as its envelope is answered.

    Nothing is kept here, so a read of a million members holds a few envelopes of them at once rather
    than all; and an envelope goes as soon as one is answered, its steps' nextLinks with the next ones,
    instead of in rounds that wait for the slowest. The pages of one key come in order.
    """
    todo = deque(paths.items())
    running: set[asyncio.Task[list[tuple[str, str, RawResponse]]]] = set()

    async def send(envelope: list[tuple[str, str]]) -> list[tuple[str, str, RawResponse]]:
        steps = [BatchStep(str(n), "GET", path) for n, (_, path) in enumerate(envelope)]
        answers = await run_batches(client, steps, concurrency=1)
        return [(key, path, answers[str(n)]) for n, (key, path) in enumerate(envelope)]

    try:
        while todo or running:
            while todo and len(running) < concurrency:
                envelope = [todo.popleft() for _ in range(min(MAX_BATCH_STEPS, len(todo)))]
                running.add(asyncio.ensure_future(send(envelope)))
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                for key, path, answer in task.result():
                    if not answer.ok or not isinstance(answer.body, dict):
                        raise error_from_response("GET", client.relative(path), answer)
                    take(key, answer.body.get("value", []))
                    link = answer.body.get("@odata.nextLink")
                    if link:
                        todo.append((key, link))
    finally:
        for task in running:
            task.cancel()
