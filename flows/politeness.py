"""Per-host politeness shared by every flow run and every worker, through Prefect.

The fetcher keeps each host polite inside one process. Two flow runs, or one run spread over a
Dask cluster, are several processes: each would allow the host its full concurrency. Here each
host gets Prefect global concurrency limits that every process holds around each request:

- ``rasid-host:<host>`` — at most ``max_concurrency`` requests in flight, across all processes;
- ``rasid-rate:<host>`` — for sources with ``min_delay_seconds`` > 0, one request start per
  that many seconds (a rate limit: one slot that decays).

Both are used with ``strict=True``: a missing limit stops the run instead of silently fetching
unlimited. ``rasid setup-prefect`` creates them from the sources file (``provision``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
)
from prefect.concurrency.sync import concurrency, rate_limit
from prefect.exceptions import ObjectNotFound

from rasid.config import Source
from rasid.fetch.hosts import host_key

CONCURRENCY_PREFIX = "rasid-host:"
RATE_PREFIX = "rasid-rate:"


@dataclass(frozen=True)
class HostLimit:
    host: str
    max_concurrency: int
    min_delay_seconds: float

    @property
    def concurrency_name(self) -> str:
        return CONCURRENCY_PREFIX + self.host

    @property
    def rate_name(self) -> str | None:
        return RATE_PREFIX + self.host if self.min_delay_seconds > 0 else None

    def wanted(self) -> list[GlobalConcurrencyLimitCreate]:
        """The Prefect limits this host needs."""
        limits = [GlobalConcurrencyLimitCreate(name=self.concurrency_name, limit=self.max_concurrency)]
        if self.rate_name:
            limits.append(GlobalConcurrencyLimitCreate(
                name=self.rate_name, limit=1, slot_decay_per_second=1 / self.min_delay_seconds))
        return limits


@dataclass(frozen=True)
class HostLimits:
    """The shared limits of every host the sources name; hashable and picklable, so tasks on
    any worker can rebuild the same gate."""

    hosts: tuple[HostLimit, ...]

    @classmethod
    def of(cls, sources: Iterable[Source]) -> HostLimits:
        """One entry per host; a host that several sources share gets the strictest terms."""
        found: dict[str, HostLimit] = {}
        for source in sources:
            for url in (source.homepage, *source.feeds, *source.sitemaps, *source.sections):
                host = host_key(url)
                old = found.get(host)
                found[host] = HostLimit(
                    host,
                    min(source.max_concurrency, old.max_concurrency if old else 16),
                    max(source.min_delay_seconds, old.min_delay_seconds if old else 0.0),
                )
        return cls(tuple(sorted(found.values(), key=lambda h: h.host)))

    def names(self) -> list[str]:
        return [limit.name for host in self.hosts for limit in host.wanted()]

    def gate(self, url: str) -> AbstractContextManager[object]:
        """The fetcher's shared gate. A host no source names (an off-site redirect) keeps only
        the fetcher's own politeness: there is no configured limit to hold."""
        by_host = {h.host: h for h in self.hosts}
        host = by_host.get(host_key(url))
        return _hold(host) if host else nullcontext()


@contextmanager
def _hold(host: HostLimit) -> Iterator[None]:
    with concurrency(host.concurrency_name, strict=True):
        if host.rate_name:
            rate_limit(host.rate_name, strict=True)
        yield


def missing(limits: HostLimits) -> list[str]:
    """Names of the limits that do not exist on the Prefect server yet."""
    with get_client(sync_client=True) as client:
        absent = []
        for name in limits.names():
            try:
                client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                absent.append(name)
        return absent


def provision(limits: HostLimits) -> list[str]:
    """Create or update every host's limits; one line per change, for the operator."""
    done = []
    with get_client(sync_client=True) as client:
        for host in limits.hosts:
            for want in host.wanted():
                try:
                    have = client.read_global_concurrency_limit_by_name(want.name)
                except ObjectNotFound:
                    client.create_global_concurrency_limit(want)
                    done.append(f"created limit {want.name}: {_terms(want)}")
                    continue
                if (have.limit, have.slot_decay_per_second, have.active) != (
                    want.limit, want.slot_decay_per_second, True
                ):
                    client.update_global_concurrency_limit(want.name, GlobalConcurrencyLimitUpdate(
                        limit=want.limit, slot_decay_per_second=want.slot_decay_per_second,
                        active=True))
                    done.append(f"updated limit {want.name}: {_terms(want)}")
    return done


def _terms(limit: GlobalConcurrencyLimitCreate) -> str:
    if limit.slot_decay_per_second:
        return f"one request per {1 / limit.slot_decay_per_second:g} s"
    return f"{limit.limit} request(s) in flight"
