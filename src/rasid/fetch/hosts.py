"""Hosts: the one key that names a host for politeness, and the state the fetcher keeps per
host (its gate: requests in flight, the gap between starts, Crawl-delay, Retry-After).

The same key names a host here, in the fetcher's lanes and in the flows' shared limits, so a
host is never counted as two (``www.example.com`` and ``example.com`` are one host).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from rasid.fetch.errors import Problem
from rasid.urls import ascii_host, raw_hostname


def host_key(url: str) -> str:
    """The host a URL is counted against: as sent on the wire (lower-case, IDNA), a leading
    ``www.`` aside (sites serve both, and feeds lag behind), with an explicit port kept."""
    parts = urlsplit(url)
    try:
        host = ascii_host(raw_hostname(parts.netloc) or "")
    except ValueError:  # no request can go there; it still needs a name
        host = parts.hostname or ""
    host = host.removeprefix("www.")
    return f"{host}:{parts.port}" if parts.port else host


class HostGate:
    """Politeness for one host: a cap on requests in flight and a minimum gap between starts."""

    def __init__(self, max_concurrency: int) -> None:
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._clock = threading.Condition()
        self._next_start = 0.0  # time.monotonic()
        self.crawl_delay = 0.0

    @contextmanager
    def turn(self, min_delay: float, max_wait: float) -> Iterator[None]:
        """Hold one of the host's slots for one request, started no earlier than allowed."""
        with self._slots:
            self._wait_for_start(min_delay, max_wait)
            yield

    def _wait_for_start(self, min_delay: float, max_wait: float) -> None:
        with self._clock:
            while (wait := self._next_start - time.monotonic()) > 0:
                if wait > max(max_wait, min_delay, self.crawl_delay):
                    # The host asked for a longer pause than a run can afford: give up on it
                    # for this run instead of hammering it or stalling every worker.
                    raise Problem(
                        "rate_limited", f"host asked to pause {wait:.0f} s, more than allowed",
                        transient=True,
                    )
                self._clock.wait(wait)
            self._next_start = time.monotonic() + max(min_delay, self.crawl_delay)

    def defer(self, seconds: float) -> None:
        """No new request to this host for ``seconds`` (a Retry-After)."""
        with self._clock:
            self._next_start = max(self._next_start, time.monotonic() + seconds)




class Hosts:
    """Every host's gate, made on first use; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gates: dict[str, HostGate] = {}

    def gate(self, url: str, max_concurrency: int | None) -> HostGate:
        """The host's gate; the first request to a host fixes its concurrency."""
        key = host_key(url)
        with self._lock:
            if key not in self._gates:
                self._gates[key] = HostGate(max_concurrency or 1)
            return self._gates[key]
