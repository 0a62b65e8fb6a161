"""The HTTP client: with fetch.exchange and fetch.connection below it, the only code that
speaks HTTP. This module decides where to go (redirects, each hop checked), whether to ask
again (retries) and when (politeness); an exchange sends each request.

It is polite per host (a cap on requests in flight, a minimum gap between request starts,
robots.txt and its Crawl-delay, Retry-After), defensive (the SSRF guard on every hop,
timeouts, a deadline per response, a size cap that holds after decompression) and honest
about failures: every URL ends as a Page or a FetchFailure with a short reason code.
Transient failures (timeouts, 5xx, 429) are worth another try on a later run; permanent ones
(404, robots, not HTML) are not.
"""

from __future__ import annotations

import contextvars
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import urldefrag

import requests

from rasid import USER_AGENT
from rasid.config import Settings, Source
from rasid.fetch import robots as robots_txt
from rasid.fetch.body import is_html
from rasid.fetch.connection import GuardedAdapter
from rasid.fetch.decoding import decode_html
from rasid.fetch.errors import FetchError, Problem
from rasid.fetch.exchange import (
    NOT_MODIFIED,
    Ask,
    Exchange,
    Reply,
    redirect_target,
    retryable_status,
)
from rasid.fetch.hosts import HostGate, Hosts
from rasid.models import RUN_OUT_OF_TIME, Candidate, FetchFailure, Page, Validator
from rasid.netguard import AddressGuard

log = logging.getLogger(__name__)

BACKOFF_BASE = 0.5  # seconds before the first retry; doubles each time
BACKOFF_CAP = 30.0
POOL_SIZE = 16  # connections kept per host; Source.max_concurrency is at most 16
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
DOCUMENT_ACCEPT = (
    "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,"
    "text/html;q=0.8,*/*;q=0.5"
)


@dataclass(frozen=True)
class Document:
    """A feed or sitemap as asked for conditionally: ``content`` is None when unchanged."""

    url: str
    content: bytes | None
    validator: Validator


# No request starts after this moment (seconds since the epoch, so it means the same in every
# process of a run): the run's time budget. Unset, requests start whenever asked.
_cutoff: contextvars.ContextVar[float | None] = contextvars.ContextVar("rasid_cutoff", default=None)


@contextmanager
def cutoff(moment: float | None) -> Iterator[None]:
    """Within this block, start no request (no retry, no redirect hop) after ``moment``."""
    token = _cutoff.set(moment)
    try:
        yield
    finally:
        _cutoff.reset(token)


def _time_left() -> float:
    moment = _cutoff.get()
    return float("inf") if moment is None else moment - time.time()


@dataclass
class Response:
    """A successful (2xx) response. ``content`` is the body with Content-Encoding undone;
    header names are lower-cased (they still describe the body as sent)."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    content: bytes
    elapsed: float  # seconds, from the first request to the last byte of the final one


# Held around every request to a URL, on top of the fetcher's own per-host politeness: the
# seam through which an orchestrator shares a host's limits between processes and machines.
SharedGate = Callable[[str], AbstractContextManager[object]]


def _no_shared_gate(url: str) -> AbstractContextManager[object]:
    return nullcontext()


class _Politeness(NamedTuple):
    min_delay: float
    max_concurrency: int


def _politeness(source: Source) -> _Politeness:
    return _Politeness(source.min_delay_seconds, source.max_concurrency)


# ---------------------------------------------------------------------------------------------
# The fetcher


class Fetcher:
    """Fetches pages and documents politely; safe to share between threads.

    The session (a new one unless given) gets guarded adapters mounted for http and https.
    ``shared_gate(url)`` is entered around each request, inside this fetcher's own host slot.
    """

    def __init__(
        self, settings: Settings, session: requests.Session | None = None,
        shared_gate: SharedGate = _no_shared_gate,
    ) -> None:
        self._settings = settings
        self._shared_gate = shared_gate
        guard = AddressGuard(settings.allow_private_hosts)
        self.user_agent = settings.user_agent or USER_AGENT
        if session is None:
            session = requests.Session()
            # No ~/.netrc credentials or proxy variables: a crawler sends nothing personal to
            # arbitrary sites, and the guard must see the real peer, not a proxy.
            session.trust_env = False
        for prefix in ("http://", "https://"):
            session.mount(prefix, GuardedAdapter(guard, pool_maxsize=POOL_SIZE))
        self._exchange = Exchange(session, guard, settings, self.user_agent)
        self._hosts = Hosts()
        self._robots = robots_txt.RobotsCache()

    # -- public API ---------------------------------------------------------------------------

    def get(self, url: str, *, min_delay: float, max_concurrency: int, accept: str) -> Response:
        """GET with redirects, guard, retries and politeness; no robots.txt. Raises FetchError."""
        politeness = _Politeness(min_delay, max_concurrency)
        ask = Ask(accept, self._settings.max_response_bytes, robots=False)
        try:
            return self._fetch(url, politeness, ask)
        except Problem as problem:
            raise FetchError(problem.failure(url, "", problem.attempts)) from None

    def fetch_document(self, url: str, source: Source) -> bytes:
        """A feed, sitemap or section page as bytes, Content-Encoding undone (a .xml.gz file
        stays gzip: discovery inflates it). Raises FetchError."""
        content = self.fetch_conditional(url, source, None).content
        assert content is not None  # only a conditional request is answered without a body
        return content

    def fetch_conditional(self, url: str, source: Source, validator: Validator | None) -> Document:
        """A document asked for with If-None-Match / If-Modified-Since from ``validator``
        (unconditionally without one): its body, or None when the server answered 304 Not
        Modified; and the validator to send next time. Raises FetchError."""
        ask = Ask(DOCUMENT_ACCEPT, self._settings.max_response_bytes, validator=validator)
        with self._reporting(url, source.id):
            response = self._fetch(url, _politeness(source), ask)
        answered = Validator(response.headers.get("etag"), response.headers.get("last-modified"))
        if response.status == NOT_MODIFIED:
            # A 304 may repeat the validators or leave them out; what we sent still holds.
            return Document(url, None, answered or validator or Validator())
        return Document(url, response.content, answered)

    def robots(self, url: str, source: Source) -> robots_txt.Rules:
        """The robots.txt rules of ``url``'s origin (its ``Sitemap:`` lines among them), read
        once per fetcher and shared with every fetch."""
        return self._rules(url, _politeness(source))

    def fetch_page(self, candidate: Candidate, source: Source) -> Page:
        """One article page, decoded to text. Raises FetchError (e.g. "not_html")."""
        limit = self._settings.max_response_bytes
        with self._reporting(candidate.url, source.id):
            response = self._fetch(candidate.url, _politeness(source), Ask(HTML_ACCEPT, limit))
            content_type = response.headers.get("content-type")
            if not is_html(content_type, response.content):
                raise Problem("not_html", f"not an HTML page ({content_type})", transient=False)
        _, encoding, encoding_source = decode_html(response.content, content_type)
        log.debug("fetched %s (%d bytes, %s)", candidate.url, len(response.content), encoding)
        return Page(
            url=candidate.url,
            final_url=response.final_url,
            source_id=source.id,
            status=response.status,
            headers=response.headers,
            content=response.content,
            encoding=encoding,
            encoding_source=encoding_source,
            fetched_at=datetime.now(UTC),
            candidate=candidate,
        )

    def fetch_all(
        self, jobs: list[tuple[Source, list[Candidate]]], max_workers: int = 16
    ) -> tuple[list[Page], list[FetchFailure]]:
        """Fetch every candidate, hosts in parallel, each host politely in its own lanes (see
        rasid.fetch.lanes), with no time budget. Results keep input order; every candidate
        ends as exactly one Page or one FetchFailure."""
        from rasid.fetch.lanes import Budget, FetchStream  # the lanes are built on this client

        order = {(c.source_id, c.url): n for n, c in enumerate(c for _, cs in jobs for c in cs)}
        stream = FetchStream(self, jobs, Budget.unlimited(), max_workers)
        pages, failures = stream.take(stream.pending, None)
        pages.sort(key=lambda p: order[(p.source_id, p.url)])
        failures.sort(key=lambda f: order[(f.source_id, f.url)])
        return pages, failures

    # -- fetching -----------------------------------------------------------------------------

    @contextmanager
    def _reporting(self, url: str, source_id: str) -> Iterator[None]:
        try:
            yield
        except Problem as problem:
            failure = problem.failure(url, source_id, problem.attempts)
            level = logging.WARNING if failure.transient else logging.INFO
            log.log(level, "fetch failed [%s] %s (%s): %s", failure.reason, url, source_id,
                    failure.detail)
            raise FetchError(failure) from None

    def _fetch(self, url: str, politeness: _Politeness, ask: Ask) -> Response:
        """Follow redirects by hand so that every hop passes the guard (and robots.txt)."""
        started = time.monotonic()
        seen = {urldefrag(url).url}
        current, attempts = url, 0
        try:
            for _ in range(ask.max_redirects + 1):
                if ask.robots:
                    self._check_robots(current, politeness)
                reply, used = self._with_retries(current, politeness, ask)
                attempts += used
                target = redirect_target(current, reply)
                if target is None:
                    return self._final(url, current, reply, time.monotonic() - started, ask)
                if urldefrag(target).url in seen:
                    raise Problem("redirect_loop", f"{current} redirects back to {target}",
                                  transient=False, status=reply.status)
                seen.add(urldefrag(target).url)
                current = target
            raise Problem("too_many_redirects", f"more than {ask.max_redirects} redirects",
                          transient=False)
        except Problem as problem:
            problem.attempts += attempts
            raise

    @staticmethod
    def _final(url: str, final_url: str, reply: Reply, elapsed: float, ask: Ask) -> Response:
        unchanged = reply.status == NOT_MODIFIED and ask.validator
        if not (200 <= reply.status < 300 or unchanged):
            raise Problem(f"http_{reply.status}", f"{final_url} answered HTTP {reply.status}",
                          transient=False, status=reply.status)
        return Response(url, final_url, reply.status, reply.headers, reply.content, elapsed)

    def _with_retries(self, url: str, politeness: _Politeness, ask: Ask) -> tuple[Reply, int]:
        attempt = 0
        while True:
            attempt += 1
            try:
                reply = self._attempt(url, politeness, ask)
                problem = retryable_status(url, reply)
            except Problem as exc:
                if not exc.retryable:
                    exc.attempts = attempt
                    raise
                problem = exc
            if problem is None:
                return reply, attempt
            problem.attempts = attempt
            wait = self._retry_wait(url, problem, attempt)
            log.debug("retrying %s in %.1f s after %s", url, wait, problem.reason)
            time.sleep(wait)

    def _retry_wait(self, url: str, problem: Problem, attempt: int) -> float:
        """Seconds to wait before the next attempt; raises ``problem`` when it is time to stop."""
        settings = self._settings
        if problem.retry_after is not None:
            self._gate(url, None).defer(problem.retry_after)
            if problem.retry_after > settings.max_retry_after:
                problem.detail += (f"; asked to retry after {problem.retry_after:.0f} s, more"
                                   f" than the {settings.max_retry_after:.0f} s we wait")
                raise problem
        if attempt > settings.max_retries:
            problem.detail += f"; gave up after {attempt} attempts"
            raise problem
        backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (attempt - 1))
        # Jitter only ever adds: a Retry-After is a minimum, not a suggestion.
        wait = max(backoff, problem.retry_after or 0.0) + random.uniform(0, backoff / 10)
        if wait >= _time_left():
            problem.detail += f"; the run's time was up before attempt {attempt + 1}"
            raise problem
        return wait

    def _attempt(self, url: str, politeness: _Politeness, ask: Ask) -> Reply:
        """One request inside the host's politeness slot, body read for 2xx only."""
        gate = self._gate(url, politeness.max_concurrency)
        with gate.turn(politeness.min_delay, self._settings.max_retry_after), \
                self._shared_gate(url):
            if _time_left() <= 0:
                raise Problem(RUN_OUT_OF_TIME, "the run's time was up before this request"
                              " could start", transient=True)
            return self._exchange.send(url, ask)

    # -- politeness and robots.txt ------------------------------------------------------------

    def _gate(self, url: str, max_concurrency: int | None) -> HostGate:
        return self._hosts.gate(url, max_concurrency)

    def _check_robots(self, url: str, politeness: _Politeness) -> None:
        rules = self._rules(url, politeness)
        if rules.unreachable is not None:
            # Not this URL's fault and not for ever: a later run asks again.
            raise Problem("robots_unavailable", f"nothing fetched from this host while its "
                          f"robots.txt cannot be read ({rules.unreachable})", transient=True)
        if not rules.allows(url, self.user_agent):
            raise Problem("robots_disallowed", f"robots.txt disallows {url}", transient=False)

    def _rules(self, url: str, politeness: _Politeness) -> robots_txt.Rules:
        return self._robots.rules(url, lambda origin: self._load_robots(origin, politeness))

    def _load_robots(self, origin: str, politeness: _Politeness) -> robots_txt.Rules:
        robots_url = f"{origin}/robots.txt"
        limit = min(robots_txt.ROBOTS_MAX_BYTES, self._settings.max_response_bytes)
        ask = Ask("text/plain", limit, truncate=True,
                   max_redirects=robots_txt.ROBOTS_MAX_REDIRECTS, robots=False)
        try:
            response = self._fetch(robots_url, politeness, ask)
        except Problem as problem:
            log.info("robots.txt for %s unavailable (%s: %s)", origin, problem.reason,
                     problem.detail)
            # A transient failure (5xx, 429, timeout, no connection) may mean the server is in
            # trouble: keep out this run. A permanent one (4xx, redirect loop) means "none".
            if problem.transient:
                return robots_txt.unreachable(robots_url, problem.reason)
            return robots_txt.unrestricted(robots_url)
        rules = robots_txt.parsed(robots_url, response.content)
        delay = rules.crawl_delay(self.user_agent)
        if delay:
            # A floor under the source's min_delay_seconds; a delay longer than we would wait
            # for a Retry-After is clamped, not obeyed forever.
            gate = self._gate(origin, politeness.max_concurrency)
            gate.crawl_delay = min(float(delay), self._settings.max_retry_after)
        return rules

    def page_or_failure(self, candidate: Candidate, source: Source) -> Page | FetchFailure:
        """``fetch_page`` with its failure as data."""
        try:
            return self.fetch_page(candidate, source)
        except FetchError as exc:
            return exc.failure
        except Exception as exc:  # a bug must cost one URL, not the batch: record it
            log.exception("unexpected error fetching %s", candidate.url)
            return FetchFailure(candidate.url, source.id, "internal_error",
                                f"{type(exc).__name__}: {exc}", transient=True)
