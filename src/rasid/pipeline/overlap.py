"""The three-stage overlap of a run: while one batch is being fetched (or read), the batch
before it extracts and the one before that is checked and written.

Plain functions over plain callables, so the overlap is the same whether the stages run as
Prefect tasks, in a process pool or inline, and a test can drive it with lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

B = TypeVar("B")  # a batch, as the first stage (fetching, reading) yields it
S = TypeVar("S")  # a batch's second stage once started (extraction in flight)


def overlap(batches: Iterable[B], start: Callable[[B], S], finish: Callable[[B, S], None]) -> None:
    """For each batch in order: ``start`` it, then ``finish`` the one before.

    Advancing ``batches`` is the first stage: a generator that fetches does so while the
    batch started last is still extracting, so fetching and writing never idle the workers.
    Every batch is finished, in order, exactly once.
    """
    previous: tuple[B, S] | None = None
    for batch in batches:
        started = start(batch)
        if previous is not None:
            finish(*previous)
        previous = (batch, started)
    if previous is not None:
        finish(*previous)
