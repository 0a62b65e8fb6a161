"""A run's article fetching as one stream of per-host lanes, so one bad host never holds up
the run.

Every host gets its own lane (as many workers as its source allows requests in flight) for
the whole run; results flow into one queue that the run takes batches from, a batch closing
when it is full or when it has waited long enough (``take``). A slow host therefore holds
back only its own pages, never another host's extraction and storage.

Each lane keeps three rules, checked before every request it starts:

- **set aside**: after ``Source.host_failure_limit`` consecutive URLs ended in a timeout, a
  missed deadline, a broken connection or a 5xx answer (after the usual retries), the host
  is left alone for the rest of the run. Any answer resets the count — a page, a 404 — so
  a host that answers slowly, within the deadline, keeps going.
- **host budget**: a host may keep requests in flight for ``Source.host_time_share`` of the
  run's time budget (wall-clock time with at least one request in flight).
- **run budget**: no request starts after the run's cutoff.

A URL a rule stops is recorded as a transient failure (``host_unresponsive``,
``host_out_of_time``, ``run_out_of_time``) carrying its candidate, and the next run asks for
it first. Requests already in flight finish (within the response deadline), so nothing
fetched is lost.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from rasid.config import Source
from rasid.fetch.hosts import host_key
from rasid.fetch.http import Fetcher, cutoff
from rasid.models import (
    HOST_OUT_OF_TIME,
    HOST_UNRESPONSIVE,
    LEFT_FOR_NEXT_RUN,
    RUN_OUT_OF_TIME,
    Candidate,
    FetchFailure,
    Page,
)

# Failures that say the host itself is in trouble, not the page.
HOST_TROUBLE = frozenset({"timeout", "deadline_exceeded", "connection_error"})

Result = Page | FetchFailure


def host_in_trouble(result: Result) -> bool:
    if isinstance(result, Page):
        return False
    return result.reason in HOST_TROUBLE or (result.status or 0) >= 500


@dataclass(frozen=True)
class Budget:
    """The run's time rules: its cutoff (seconds since the epoch) and its length, of which
    each host may use its source's ``host_time_share``."""

    ends_at: float
    seconds: float

    @classmethod
    def starting_now(cls, seconds: float) -> Budget:
        return cls(time.time() + seconds, seconds)

    @classmethod
    def unlimited(cls) -> Budget:
        return cls(float("inf"), float("inf"))


class _Lane:
    """One host's queue and its health in this run; its workers share it."""

    def __init__(self, source: Source, budget: Budget) -> None:
        self.items: deque[Candidate] = deque()
        self.width = source.max_concurrency
        self._limit = source.host_failure_limit
        self._share = source.host_time_share * budget.seconds
        self._ends_at = budget.ends_at
        self._lock = threading.Lock()
        self._failures = 0  # consecutive URLs that ended in host trouble
        self._set_aside = False
        self._busy = 0.0  # seconds with a request in flight, finished stretches
        self._in_flight = 0
        self._since = 0.0  # time.monotonic() when the current busy stretch began

    def next(self) -> tuple[Candidate, str | None] | None:
        """The next URL and, if a rule says not to request it, the reason; None when empty.
        A URL allowed is counted as in flight until ``done``."""
        with self._lock:
            if not self.items:
                return None
            candidate = self.items.popleft()
            refusal = self._refusal()
            if refusal is None:
                if self._in_flight == 0:
                    self._since = time.monotonic()
                self._in_flight += 1
            return candidate, refusal

    def done(self, result: Result) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._busy += time.monotonic() - self._since
            if host_in_trouble(result):
                self._failures += 1
                self._set_aside = self._set_aside or self._failures >= self._limit
            elif not (isinstance(result, FetchFailure) and result.reason in LEFT_FOR_NEXT_RUN):
                self._failures = 0

    def _refusal(self) -> str | None:
        if self._set_aside:
            return HOST_UNRESPONSIVE
        if time.time() >= self._ends_at:
            return RUN_OUT_OF_TIME
        busy = self._busy + (time.monotonic() - self._since if self._in_flight else 0.0)
        if busy >= self._share:
            return HOST_OUT_OF_TIME
        return None


REFUSALS = {
    HOST_UNRESPONSIVE: "its host kept failing (timeouts, dropped connections or server "
                       "errors), so this run set it aside",
    HOST_OUT_OF_TIME: "its host used up its share of this run's time",
    RUN_OUT_OF_TIME: "the run's time was up before this request could start",
}


class FetchStream:
    """Fetch every candidate of a run, host by host in parallel, into batches on demand.

    Every candidate ends as exactly one Page or one FetchFailure, delivered once by ``take``.
    """

    def __init__(self, fetcher: Fetcher, jobs: list[tuple[Source, list[Candidate]]],
                 budget: Budget, max_workers: int = 16) -> None:
        self._fetcher = fetcher
        self._budget = budget
        self._results: queue.SimpleQueue[Result] = queue.SimpleQueue()
        lanes: dict[str, _Lane] = {}
        self._sources: dict[str, Source] = {}
        for source, candidates in jobs:
            self._sources[source.id] = source
            for candidate in candidates:
                key = host_key(candidate.url)
                lanes.setdefault(key, _Lane(source, budget)).items.append(candidate)
        self.pending = sum(len(lane.items) for lane in lanes.values())
        workers = [lane for r in range(16) for lane in lanes.values() if r < lane.width]
        self._pool = ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(workers))),
                                        thread_name_prefix="rasid-lane")
        # Each worker runs in a copy of the caller's context, so a shared gate that reads
        # context-local settings (an orchestrator's API address) sees the caller's.
        for lane in workers:
            self._pool.submit(contextvars.copy_context().run, self._work, lane)
        self._pool.shutdown(wait=False)

    def take(self, count: int, wait: float | None) -> tuple[list[Page], list[FetchFailure]]:
        """Up to ``count`` results: as soon as that many are in, or ``wait`` seconds after the
        first one arrived (None: no time limit), or when none is left to come."""
        results: list[Result] = []
        closes_at: float | None = None
        while self.pending and len(results) < count:
            timeout = None if closes_at is None else closes_at - time.monotonic()
            if timeout is not None and timeout <= 0:
                break
            try:
                results.append(self._results.get(timeout=timeout))
            except queue.Empty:
                break
            self.pending -= 1
            if closes_at is None and wait is not None:
                closes_at = time.monotonic() + wait
        pages = [r for r in results if isinstance(r, Page)]
        return pages, [r for r in results if isinstance(r, FetchFailure)]

    def _work(self, lane: _Lane) -> None:
        with cutoff(self._budget.ends_at):
            while (item := lane.next()) is not None:
                candidate, refusal = item
                source = self._sources[candidate.source_id]
                if refusal is not None:
                    self._results.put(FetchFailure(
                        candidate.url, source.id, refusal, REFUSALS[refusal], transient=True,
                        attempts=0, candidate=candidate))
                    continue
                result = self._fetcher.page_or_failure(candidate, source)
                lane.done(result)
                if isinstance(result, FetchFailure) and result.transient:
                    # Asked for again by the next run, even if no feed lists it then (an
                    # unchanged feed answers 304 and lists nothing).
                    result = replace(result, candidate=candidate)
                self._results.put(result)
