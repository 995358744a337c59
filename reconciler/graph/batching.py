"""Many Graph requests as JSON `$batch` envelopes of 20, a few at a time, re-queuing transient steps.

Graph throttles each step of a `$batch` on its own (Graph docs: throttling, "Throttling and batching"),
and no SDK retries those: a step answered transiently (`graph.retry`) is sent again in a new envelope
after the longest `Retry-After`, and so is every step of an envelope that got no usable answer. This
module owns those retries for reads; the writes' scheduler owns its own.
"""

from __future__ import annotations

import asyncio

from reconciler.errors import GraphError, GraphNoAnswer
from reconciler.graph.client import GraphClient
from reconciler.graph.retry import NO_ANSWER
from reconciler.graph.wire import MAX_BATCH_STEPS, BatchStep, RawResponse


async def run_batches(
    client: GraphClient,
    steps: list[BatchStep],
    *,
    concurrency: int = 4,
) -> dict[str, RawResponse]:
    """Run `steps` (ids unique) and return every step's final answer by id.

    Steps linked by `depends_on` travel in the same envelope, in the order given.
    """
    results: dict[str, RawResponse] = {}
    pending = steps
    limit = asyncio.Semaphore(concurrency)

    policy = client.retry

    async def run(envelope: list[BatchStep]) -> dict[str, RawResponse]:
        async with limit:
            try:
                return await client.batch(envelope)
            except GraphError as exc:
                if not isinstance(exc, GraphNoAnswer) and not policy.is_transient(exc.status):
                    raise
                # The whole envelope failed transiently: each of its steps is answered that way.
                status = NO_ANSWER if isinstance(exc, GraphNoAnswer) else exc.status
                return {step.id: RawResponse(status) for step in envelope}

    attempt = 0
    while True:
        attempt += 1
        answers: dict[str, RawResponse] = {}
        for part in await asyncio.gather(*(run(envelope) for envelope in pack(pending))):
            answers.update(part)
        retry = [
            s
            for s in _to_retry(pending, answers, client)
            if not policy.gives_up(answers[s.id].status, attempt)
        ]
        retry_ids = {step.id for step in retry}
        done = [step for step in pending if step.id not in retry_ids]
        results.update({step.id: answers[step.id] for step in done})
        if not retry:
            break
        await asyncio.sleep(_wait(retry, answers, attempt, client))
        pending = [_without_done_dependencies(step, retry_ids) for step in retry]
    return results


def pack(steps: list[BatchStep]) -> list[list[BatchStep]]:
    """Envelopes of at most 20 steps that keep every dependency chain whole and in order."""
    chains: list[list[BatchStep]] = []
    chain_of: dict[str, int] = {}
    for step in steps:
        linked = sorted({chain_of[d] for d in step.depends_on if d in chain_of})
        if not linked:
            chains.append([step])
            chain_of[step.id] = len(chains) - 1
            continue
        # A step that joins several chains merges them into the first one.
        first = linked[0]
        for other in linked[1:]:
            chains[first].extend(chains[other])
            for moved in chains[other]:
                chain_of[moved.id] = first
            chains[other] = []
        chains[first].append(step)
        chain_of[step.id] = first
    envelopes: list[list[BatchStep]] = []
    for chain in (c for c in chains if c):
        if len(chain) > MAX_BATCH_STEPS:
            raise ValueError(f"a dependency chain of {len(chain)} steps does not fit one $batch of 20")
        if not envelopes or len(envelopes[-1]) + len(chain) > MAX_BATCH_STEPS:
            envelopes.append([])
        envelopes[-1].extend(chain)
    return envelopes


def _to_retry(
    pending: list[BatchStep], answers: dict[str, RawResponse], client: GraphClient
) -> list[BatchStep]:
    """Transiently failed steps, and the steps that failed (424) only because one of those did."""
    retry: list[BatchStep] = []
    retry_ids: set[str] = set()
    for step in pending:
        answer = answers[step.id]
        transient = client.retry.is_transient(answer.status)
        if transient or (answer.status == 424 and retry_ids.intersection(step.depends_on)):
            retry.append(step)
            retry_ids.add(step.id)
    return retry


def _wait(
    retry: list[BatchStep], answers: dict[str, RawResponse], attempt: int, client: GraphClient
) -> float:
    """The longest `Retry-After` of the steps sent again; without one, the policy's backoff."""
    given = [wait for step in retry if (wait := answers[step.id].retry_after) is not None]
    return max(given) if given else client.retry.wait(attempt, None)


def _without_done_dependencies(step: BatchStep, retry_ids: set[str]) -> BatchStep:
    """A dependency that already succeeded is not resent, so the retried step must not name it."""
    kept = tuple(d for d in step.depends_on if d in retry_ids)
    if kept == step.depends_on:
        return step
    return BatchStep(step.id, step.method, step.url, step.body, step.headers, kept)
