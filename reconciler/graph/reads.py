"""Bulk reads as raw JSON: paged collections, delta rounds, and many small collections over `$batch`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from reconciler.errors import GraphError
from reconciler.graph.batching import run_batches
from reconciler.graph.client import GraphClient
from reconciler.graph.errors import error_from_response
from reconciler.graph.wire import BatchStep

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
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, list[Json]]:
    """Many small collections (e.g. one per group) read as `$batch` steps, nextLinks included.

    `paths` maps a caller's key to a collection path; the answer maps the same keys to all items.
    """
    items: dict[str, list[Json]] = {key: [] for key in paths}
    keys = list(paths)
    todo = {str(n): (key, path) for n, (key, path) in enumerate(paths.items())}
    next_id = len(todo)
    first_round = True
    while todo:
        steps = [BatchStep(step_id, "GET", path) for step_id, (_, path) in todo.items()]
        progress = on_progress if first_round else None
        answers = await run_batches(client, steps, concurrency=concurrency, on_progress=progress)
        following: dict[str, tuple[str, str]] = {}
        for step_id, (key, path) in todo.items():
            answer = answers[step_id]
            if not answer.ok or not isinstance(answer.body, dict):
                raise error_from_response("GET", client.relative(path), answer)
            items[key].extend(answer.body.get("value", []))
            link = answer.body.get("@odata.nextLink")
            if link:
                following[str(next_id)] = (key, link)
                next_id += 1
        todo = following
        first_round = False
    return {key: items[key] for key in keys}
