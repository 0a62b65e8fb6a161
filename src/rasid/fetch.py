"""The fetcher: the only module that speaks HTTP.

It is polite per host (a cap on requests in flight, a minimum gap between request starts,
robots.txt and its Crawl-delay, Retry-After), defensive (the SSRF guard on every hop,
timeouts, a deadline per response, a size cap that holds after decompression) and honest
about failures: every URL ends as a Page or a FetchFailure with a short reason code.
Transient failures (timeouts, 5xx, 429) are worth another try on a later run; permanent ones
(404, robots, not HTML) are not.
"""

from __future__ import annotations

import codecs
import contextvars
import heapq
import itertools
import logging
import random
import re
import socket
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import charset_normalizer
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from rasid import USER_AGENT
from rasid.config import Settings, Source
from rasid.models import BOMS, Candidate, FetchFailure, Page, decode_body
from rasid.netguard import AddressGuard, BlockedAddress

log = logging.getLogger(__name__)

MAX_REDIRECTS = 10
CHUNK_BYTES = 64 * 1024
ROBOTS_MAX_BYTES = 512 * 1024  # Google reads the first 500 KiB of a robots.txt; so do we
BACKOFF_BASE = 0.5  # seconds before the first retry; doubles each time
BACKOFF_CAP = 30.0
POOL_SIZE = 16  # connections kept per host; Source.max_concurrency is at most 16
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
DOCUMENT_ACCEPT = (
    "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,"
    "text/html;q=0.8,*/*;q=0.5"
)
# Only what we can decompress with a bounded output; a server sending br or zstd anyway
# gets "bad_content_encoding".
ACCEPT_ENCODING = "gzip, deflate"


class FetchError(Exception):
    """A URL that could not be fetched; ``failure`` says why, as data."""

    def __init__(self, failure: FetchFailure) -> None:
        super().__init__(f"{failure.reason}: {failure.url}: {failure.detail}")
        self.failure = failure


class _Problem(Exception):
    """Internal failure before the URL and source are known; becomes a FetchFailure."""

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        transient: bool,
        retryable: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.transient = transient
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.attempts = 0

    def failure(self, url: str, source_id: str, attempts: int) -> FetchFailure:
        return FetchFailure(
            url=url,
            source_id=source_id,
            reason=self.reason,
            detail=self.detail,
            transient=self.transient,
            attempts=attempts,
            status=self.status,
        )


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


# ---------------------------------------------------------------------------------------------
# Decoding text


# UTF-32 LE before UTF-16 LE, whose BOM is its prefix (BOMS keeps that order).
_BOMS = tuple((bom, encoding) for encoding, bom in BOMS.items())
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^"';,\s]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)""", re.I)
META_SCAN_BYTES = 4096
# Browsers decode these labels as windows-1252 (WHATWG Encoding); so do we.
_WHATWG_ALIASES = {"iso8859-1": "cp1252", "ascii": "cp1252"}
# The charset a server falls back to when nobody configured one: weak evidence.
_DEFAULT_CHARSETS = frozenset({"cp1252"})
_ARABIC_LETTER = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_NON_ASCII_LETTER = re.compile(r"[^\W\d_\x00-\x7f]")


def _codec(label: str | bytes) -> str | None:
    """Python's canonical name for a charset label ("windows-1256" → "cp1256"), or None."""
    if isinstance(label, bytes):
        label = label.decode("ascii", "replace")
    try:
        name = codecs.lookup(label.strip()).name
    except (LookupError, ValueError):  # ValueError: a label with a NUL byte in it
        return None
    return _WHATWG_ALIASES.get(name, name)


def _decode_strict(content: bytes, encoding: str) -> str | None:
    try:
        return content.decode(encoding)
    except (UnicodeError, LookupError):  # UnicodeError: labels such as "undefined", "punycode"
        return None


def _non_ascii_utf8(content: bytes) -> bool:
    return not content.isascii() and _decode_strict(content, "utf-8") is not None


def _header_charset(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return _codec(match.group(1)) if match else None


def _meta_charset(content: bytes) -> str | None:
    match = _META_CHARSET.search(content[:META_SCAN_BYTES])
    if not match:
        return None
    name = _codec(match.group(1))
    # A meta tag we could read as ASCII cannot be UTF-16/32 text (WHATWG says: then UTF-8).
    if name and name.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return name


def _arabic_share(text: str) -> float:
    """Share of Arabic-script letters among non-ASCII letters (markup is ASCII)."""
    letters = len(_NON_ASCII_LETTER.findall(text))
    return len(_ARABIC_LETTER.findall(text)) / letters if letters else 0.0


def _detect(content: bytes) -> str | None:
    match = charset_normalizer.from_bytes(content).best()
    if match is None:
        return None
    guess = str(match)
    share = _arabic_share(guess)
    # Short Arabic texts in windows-1256 are often detected as Urdu cp1006 or iso-8859-6;
    # windows-1256 is by far the most common legacy Arabic charset on the web, so it wins
    # whenever it reads at least as Arabic as the detector's choice.
    if share >= 0.5 and _arabic_share(content.decode("cp1256")) >= share:
        return "cp1256"
    return _codec(match.encoding)


def _declared(content: bytes, encoding: str | None, source: str) -> tuple[str, str, str] | None:
    """Decode with a declared charset if it fits the bytes."""
    if encoding is None:
        return None
    # Non-ASCII bytes that validate as UTF-8 are UTF-8 whatever the label says: legacy text
    # practically never validates, while UTF-8 sites behind a stale or default label are
    # common (latin-1 by server default; "ط§ظ„…" is UTF-8 Arabic read as windows-1256).
    if encoding != "utf-8" and _non_ascii_utf8(content):
        return content.decode("utf-8"), "utf-8", "detected"
    text = _decode_strict(content, encoding)
    return (text, encoding, source) if text is not None else None


def _nearly_utf8(content: bytes) -> str | None:
    """UTF-8 text with a few broken sequences (an excerpt cut mid-character), else None.
    A single bad byte must not send a UTF-8 page to a legacy code page, which garbles all of
    it; bytes of a real legacy page fail UTF-8 nearly everywhere, so the ratio tells them apart."""
    text = content.decode("utf-8", "replace")
    broken = text.count("\ufffd")
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    return text if broken * 20 <= non_ascii - broken else None


def decode_html(content: bytes, content_type: str | None) -> tuple[str, str, str]:
    """Decode an HTML body: (text, encoding, encoding_source).

    Order: byte-order mark; the HTTP charset if the bytes decode with it; a <meta> charset
    in the first 4 KB; detection; UTF-8 with replacement characters ("fallback").
    """
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return decode_body(content, encoding, "bom"), encoding, "bom"
    http = _header_charset(content_type)
    meta = _meta_charset(content)
    if http in _DEFAULT_CHARSETS and meta not in (None, http):
        # A default-looking header against a specific meta tag: the page author knew better
        # (old Apache installs send ISO-8859-1 for windows-1256 pages).
        decoded = _declared(content, meta, "meta") or _declared(content, http, "http")
    else:
        decoded = _declared(content, http, "http") or _declared(content, meta, "meta")
    if decoded:
        return decoded
    if _decode_strict(content, "utf-8") is not None:
        return content.decode("utf-8"), "utf-8", "detected"
    if (nearly := _nearly_utf8(content)) is not None:
        return nearly, "utf-8", "detected"
    detected = _detect(content)
    if detected:
        return content.decode(detected, "replace"), detected, "detected"
    return content.decode("utf-8", "replace"), "utf-8", "fallback"


# ---------------------------------------------------------------------------------------------
# Bodies


class _BoundedBody:
    """Collects a body, undoing Content-Encoding, never holding more than ``limit`` bytes of
    output: a gzip bomb is stopped after at most limit + 1 decompressed bytes."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        self._limit = limit
        self._parts: list[bytes] = []
        self._size = 0
        self._inflater = _inflater(content_encoding)

    @property
    def identity(self) -> bool:
        return self._inflater is None

    def feed(self, data: bytes) -> None:
        if self._inflater is not None:
            inflater = self._inflater
            data = self._inflate(lambda room: inflater.decompress(data, room))
        self._add(data)

    def finish(self) -> bytes:
        if self._inflater is not None:
            self._add(self._inflate(self._inflater.flush))
            if not self._inflater.eof:
                # The stream stops before its end marker: the page was cut off on the way (a
                # connection closed early, without a length, looks like a complete response).
                raise _Problem("truncated_body", "compressed body ends before its end marker",
                               transient=True, retryable=True)
        return b"".join(self._parts)

    def _inflate(self, step: Callable[[int], bytes]) -> bytes:
        """Run one zlib step allowed one byte more than the room left, to notice overflow."""
        try:
            return step(self._limit - self._size + 1)
        except zlib.error as exc:
            raise _Problem(
                "bad_content_encoding", f"cannot decompress body: {exc}", transient=False
            ) from None

    def _add(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise _Problem(
                "too_large", f"body exceeds {self._limit} bytes (after decompression)",
                transient=False,
            )
        self._parts.append(data)


def _inflater(content_encoding: str) -> zlib._Decompress | None:
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    codings = [c for c in codings if c not in ("", "identity")]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(wbits=32 + zlib.MAX_WBITS)  # gzip or zlib header, detected
    raise _Problem(
        "bad_content_encoding", f"unsupported Content-Encoding {content_encoding!r}",
        transient=False,
    )


_BINARY_MAGIC = (
    b"\x89PNG", b"%PDF-", b"PK\x03\x04", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"RIFF",
    b"OggS", b"ID3", b"\x00\x00\x00\x18ftyp", b"\x00\x00\x00\x20ftyp", b"7z\xbc\xaf", b"Rar!",
)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_UNLABELLED_TYPES = frozenset({"", "unknown/unknown", "application/unknown", "*/*"})
_SNIFFABLE_TYPES = _HTML_TYPES | _UNLABELLED_TYPES
SNIFF_BYTES = 1024
# The control bytes no text encoding of a web page uses (WHATWG MIME Sniffing calls them
# "binary data bytes"). HTML has none; a few may be stray, more means a binary file, even one
# without a known magic number (random-looking bytes hold about ten in every hundred).
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
MAX_BINARY_BYTES_IN_SNIFF = 8


def _looks_binary(content: bytes) -> bool:
    head = content[:SNIFF_BYTES]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # UTF-16 text is NUL-rich
        return False
    return (head.startswith(_BINARY_MAGIC)
            or len(_BINARY_BYTES.findall(head)) > MAX_BINARY_BYTES_IN_SNIFF)


def _is_html(content_type: str | None, content: bytes) -> bool:
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime not in _SNIFFABLE_TYPES or _looks_binary(content):
        return False
    if mime in _HTML_TYPES:
        return True
    head = content[:SNIFF_BYTES].lstrip(codecs.BOM_UTF8 + b" \t\r\n").lower()
    return head.startswith(b"<!doctype html") or b"<html" in head


# ---------------------------------------------------------------------------------------------
# Politeness


class _HostGate:
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
                    raise _Problem(
                        "rate_limited", f"host asked to pause {wait:.0f} s, more than allowed",
                        transient=True,
                    )
                self._clock.wait(wait)
            self._next_start = time.monotonic() + max(min_delay, self.crawl_delay)

    def defer(self, seconds: float) -> None:
        """No new request to this host for ``seconds`` (a Retry-After)."""
        with self._clock:
            self._next_start = max(self._next_start, time.monotonic() + seconds)


_Lane = deque[tuple[int, Source, Candidate]]  # (input position, source, candidate)


@dataclass
class _RobotsEntry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    rules: RobotFileParser | None = None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _redirect_target(url: str, status: int, headers: dict[str, str]) -> str | None:
    location = headers.get("location")
    if status not in REDIRECT_STATUSES or not location:
        return None
    try:  # http.client decodes headers as latin-1; servers send UTF-8 (as requests assumes)
        location = location.encode("latin-1").decode("utf-8")
    except UnicodeError:
        pass
    return urljoin(url, location.strip())


def _politeness(source: Source) -> _Politeness:
    return _Politeness(source.min_delay_seconds, source.max_concurrency)


def _host_key(url: str) -> str:
    return urlsplit(url).netloc.lower()


@dataclass
class _Reply:
    status: int
    headers: dict[str, str]
    content: bytes


# ---------------------------------------------------------------------------------------------
# The connection-level guard and deadline

# When the response this thread waits for must be complete (time.monotonic()). A read timeout
# bounds each wait for a byte, not the whole answer: a server sending one header byte a second
# would hold a worker for hours. So while a connection waits for the status line and headers,
# a timer shuts its socket at this deadline; the body loop checks the deadline itself.
_response_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "rasid_response_deadline", default=None
)


class _Watchdog:
    """One thread that shuts sockets whose response deadline has passed.

    A timer thread per request would cost a thread start (and its scheduling) on every fetch;
    here arming is a heap push under a lock, and the thread wakes only at the earliest
    deadline. Disarmed entries are dropped when they reach the top of the heap.
    """

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._armed: dict[int, socket.socket] = {}
        self._keys = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, sock: socket.socket, deadline: float) -> int:
        with self._wake:
            key = next(self._keys)
            self._armed[key] = sock
            heapq.heappush(self._heap, (deadline, key))
            if self._thread is None or not self._thread.is_alive():  # first use, or after fork
                self._thread = threading.Thread(target=self._watch, name="rasid-deadlines",
                                                daemon=True)
                self._thread.start()
            elif self._heap[0][1] == key:  # earlier than what the thread sleeps towards
                self._wake.notify()
            return key

    def disarm(self, key: int) -> None:
        with self._wake:
            self._armed.pop(key, None)

    def _watch(self) -> None:
        with self._wake:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][1] not in self._armed or self._heap[0][0] <= now):
                    _, key = heapq.heappop(self._heap)
                    if (sock := self._armed.pop(key, None)) is not None:
                        _shutdown(sock)
                self._wake.wait(self._heap[0][0] - now if self._heap else None)


_WATCHDOG = _Watchdog()


@contextmanager
def _shutdown_at(sock: socket.socket, deadline: float) -> Iterator[None]:
    key = _WATCHDOG.arm(sock, deadline)
    try:
        yield
    finally:
        _WATCHDOG.disarm(key)


def _shutdown(sock: socket.socket) -> None:
    try:
        # The plain socket's shutdown, also for a TLS socket: it ends the blocked read without
        # touching the TLS state the reading thread is using.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def _guarded(connection_cls: type[HTTPConnection], guard: AddressGuard) -> type[HTTPConnection]:
    class GuardedConnection(connection_cls):  # type: ignore[valid-type,misc]
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            peer = sock.getpeername()[0]
            if not guard.allows(self.host, peer):
                sock.close()
                raise BlockedAddress(f"{self.host} connected to {peer}, which is not public")
            return sock

        def getresponse(self) -> Any:
            deadline = _response_deadline.get()
            if deadline is None or self.sock is None:
                return super().getresponse()
            with _shutdown_at(self.sock, deadline):
                response = super().getresponse()
            if time.monotonic() >= deadline:  # headers cut short by the shutdown look complete
                raise TimeoutError("no complete headers before the response deadline")
            return response

    return GuardedConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections refuse to stay connected to a blocked address.

    The check runs on the socket's peer before any byte of the request is sent, so a host
    name that passed ``check_url`` and then re-resolves to a private address gets nothing.
    """

    def __init__(self, guard: AddressGuard, **kwargs: Any) -> None:
        self._guard = guard  # set first: HTTPAdapter.__init__ builds the pool manager
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        http_conn = _guarded(HTTPConnection, self._guard)
        https_conn = _guarded(HTTPSConnection, self._guard)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("GuardedTLSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }


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
        self._guard = AddressGuard(settings.allow_private_hosts)
        self.user_agent = settings.user_agent or USER_AGENT
        if session is None:
            session = requests.Session()
            # No ~/.netrc credentials or proxy variables: a crawler sends nothing personal to
            # arbitrary sites, and the guard must see the real peer, not a proxy.
            session.trust_env = False
        for prefix in ("http://", "https://"):
            session.mount(prefix, GuardedAdapter(self._guard, pool_maxsize=POOL_SIZE))
        self._session = session
        self._lock = threading.Lock()
        self._gates: dict[str, _HostGate] = {}
        self._robots: dict[str, _RobotsEntry] = {}

    # -- public API ---------------------------------------------------------------------------

    def get(self, url: str, *, min_delay: float, max_concurrency: int, accept: str) -> Response:
        """GET with redirects, guard, retries and politeness; no robots.txt. Raises FetchError."""
        politeness = _Politeness(min_delay, max_concurrency)
        try:
            return self._fetch(url, politeness, accept, self._settings.max_response_bytes)
        except _Problem as problem:
            raise FetchError(problem.failure(url, "", problem.attempts)) from None

    def fetch_document(self, url: str, source: Source) -> bytes:
        """A feed, sitemap or section page as bytes, Content-Encoding undone (a .xml.gz file
        stays gzip: discovery inflates it). Raises FetchError."""
        limit = self._settings.max_response_bytes
        with self._reporting(url, source.id):
            response = self._fetch(url, _politeness(source), DOCUMENT_ACCEPT, limit, robots=True)
        return response.content

    def fetch_page(self, candidate: Candidate, source: Source) -> Page:
        """One article page, decoded to text. Raises FetchError (e.g. "not_html")."""
        limit = self._settings.max_response_bytes
        with self._reporting(candidate.url, source.id):
            response = self._fetch(
                candidate.url, _politeness(source), HTML_ACCEPT, limit, robots=True
            )
            content_type = response.headers.get("content-type")
            if not _is_html(content_type, response.content):
                raise _Problem("not_html", f"not an HTML page ({content_type})", transient=False)
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
        """Fetch every candidate: hosts in parallel, each host politely.

        Each host gets as many worker lanes as its source allows requests in flight, so a
        slow host never occupies the workers another host could use. Results keep input
        order; every candidate ends as exactly one Page or one FetchFailure.
        """
        lanes = _lanes(jobs)
        total = sum(len(candidates) for _, candidates in jobs)
        results: list[Page | FetchFailure | None] = [None] * total
        with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="rasid-fetch") as pool:
            # Each lane runs in a copy of the caller's context, so a shared gate that reads
            # context-local settings (an orchestrator's API address) sees the caller's.
            drains = [pool.submit(contextvars.copy_context().run, self._drain, lane, results)
                      for lane in lanes]
            for future in drains:
                future.result()
        pages = [r for r in results if isinstance(r, Page)]
        failures = [r for r in results if isinstance(r, FetchFailure)]
        return pages, failures

    # -- fetching -----------------------------------------------------------------------------

    @contextmanager
    def _reporting(self, url: str, source_id: str) -> Iterator[None]:
        try:
            yield
        except _Problem as problem:
            failure = problem.failure(url, source_id, problem.attempts)
            level = logging.WARNING if failure.transient else logging.INFO
            log.log(level, "fetch failed [%s] %s (%s): %s", failure.reason, url, source_id,
                    failure.detail)
            raise FetchError(failure) from None

    def _fetch(
        self, url: str, politeness: _Politeness, accept: str, limit: int, robots: bool = False
    ) -> Response:
        """Follow redirects by hand so that every hop passes the guard (and robots.txt)."""
        started = time.monotonic()
        seen = {urldefrag(url).url}
        current, attempts = url, 0
        try:
            for _ in range(MAX_REDIRECTS + 1):
                if robots:
                    self._check_robots(current, politeness)
                reply, used = self._with_retries(current, politeness, accept, limit)
                attempts += used
                target = _redirect_target(current, reply.status, reply.headers)
                if target is None:
                    return self._final(url, current, reply, time.monotonic() - started)
                if urldefrag(target).url in seen:
                    raise _Problem("redirect_loop", f"{current} redirects back to {target}",
                                   transient=False, status=reply.status)
                seen.add(urldefrag(target).url)
                current = target
            raise _Problem("too_many_redirects", f"more than {MAX_REDIRECTS} redirects",
                           transient=False)
        except _Problem as problem:
            problem.attempts += attempts
            raise

    @staticmethod
    def _final(url: str, final_url: str, reply: _Reply, elapsed: float) -> Response:
        if not 200 <= reply.status < 300:
            raise _Problem(f"http_{reply.status}", f"{final_url} answered HTTP {reply.status}",
                           transient=False, status=reply.status)
        return Response(url, final_url, reply.status, reply.headers, reply.content, elapsed)

    def _with_retries(
        self, url: str, politeness: _Politeness, accept: str, limit: int
    ) -> tuple[_Reply, int]:
        attempt = 0
        while True:
            attempt += 1
            try:
                reply = self._attempt(url, politeness, accept, limit)
                problem = _retryable_status(url, reply)
            except _Problem as exc:
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

    def _retry_wait(self, url: str, problem: _Problem, attempt: int) -> float:
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
        backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
        # Jitter only ever adds: a Retry-After is a minimum, not a suggestion.
        return max(backoff, problem.retry_after or 0.0) + random.uniform(0, backoff / 10)

    def _attempt(self, url: str, politeness: _Politeness, accept: str, limit: int) -> _Reply:
        """One request inside the host's politeness slot, body read for 2xx only."""
        gate = self._gate(url, politeness.max_concurrency)
        with gate.turn(politeness.min_delay, self._settings.max_retry_after), \
                self._shared_gate(url):
            deadline = time.monotonic() + self._settings.response_deadline
            resp = self._send(url, accept, deadline)
            try:
                headers = {k.lower(): v for k, v in resp.headers.items()}
                content = b""
                if 200 <= resp.status_code < 300:
                    content = self._read_body(resp, headers, limit, deadline)
            finally:
                resp.close()
        return _Reply(resp.status_code, headers, content)

    def _send(self, url: str, accept: str, deadline: float) -> requests.Response:
        settings = self._settings
        headers = {"User-Agent": self.user_agent, "Accept": accept,
                   "Accept-Encoding": ACCEPT_ENCODING}
        token = _response_deadline.set(deadline)
        try:
            self._guard.check_url(url)
            return self._session.get(
                url, headers=headers, stream=True, allow_redirects=False,
                timeout=(settings.connect_timeout, settings.read_timeout),
            )
        except BlockedAddress as exc:
            raise _Problem("blocked_address", str(exc), transient=False) from None
        except (requests.RequestException, OSError, UnicodeError) as exc:
            if time.monotonic() >= deadline:
                raise _Problem("deadline_exceeded", f"no complete headers after "
                               f"{settings.response_deadline} s", transient=True) from None
            reason = "timeout" if isinstance(exc, requests.Timeout) else "connection_error"
            raise _Problem(reason, f"{url}: {exc}", transient=True, retryable=True) from None
        except ValueError as exc:
            # requests parses a redirect's Location even when not following it: "http://[::1"
            # is no address to go to, now or on a later run.
            raise _Problem("bad_redirect", f"{url} redirects to an address that is not a URL"
                           f" ({exc})", transient=False) from None
        finally:
            _response_deadline.reset(token)

    def _read_body(
        self, resp: requests.Response, headers: dict[str, str], limit: int, deadline: float
    ) -> bytes:
        body = _BoundedBody(headers.get("content-encoding", ""), limit)
        declared = headers.get("content-length", "")
        if body.identity and declared.isdigit() and int(declared) > limit:
            raise _Problem("too_large", f"Content-Length {declared} exceeds {limit} bytes",
                           transient=False)
        try:
            # read1 returns whatever one socket read gives, so a server dripping bytes
            # cannot keep us past the deadline by never filling a buffer.
            while chunk := resp.raw.read1(CHUNK_BYTES, decode_content=False):
                body.feed(chunk)
                if time.monotonic() > deadline:
                    raise _Problem(
                        "deadline_exceeded",
                        f"body not complete after {self._settings.response_deadline} s",
                        transient=True,
                    )
        except (urllib3.exceptions.TimeoutError, TimeoutError) as exc:
            raise _Problem("timeout", f"reading body: {exc}", transient=True,
                           retryable=True) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _Problem("connection_error", f"reading body: {exc}", transient=True,
                           retryable=True) from None
        return body.finish()

    # -- politeness and robots.txt ------------------------------------------------------------

    def _gate(self, url: str, max_concurrency: int | None) -> _HostGate:
        """The host's gate; the first request to a host fixes its concurrency."""
        with self._lock:
            key = _host_key(url)
            if key not in self._gates:
                self._gates[key] = _HostGate(max_concurrency or 1)
            return self._gates[key]

    def _check_robots(self, url: str, politeness: _Politeness) -> None:
        if not self._robots_rules(url, politeness).can_fetch(self.user_agent, url):
            raise _Problem("robots_disallowed", f"robots.txt disallows {url}", transient=False)

    def _robots_rules(self, url: str, politeness: _Politeness) -> RobotFileParser:
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        with self._lock:
            entry = self._robots.setdefault(origin, _RobotsEntry())
        with entry.lock:  # one fetch per host; other threads wait for its result
            if entry.rules is None:
                entry.rules = self._load_robots(origin, politeness)
            return entry.rules

    def _load_robots(self, origin: str, politeness: _Politeness) -> RobotFileParser:
        robots_url = f"{origin}/robots.txt"
        rules = RobotFileParser(robots_url)
        limit = min(ROBOTS_MAX_BYTES, self._settings.max_response_bytes)
        try:
            response = self._fetch(robots_url, politeness, "text/plain", limit)
        except _Problem as problem:
            # As urllib.robotparser does: a 401/403 robots.txt means "keep out"; anything else
            # missing or broken (404, 5xx, network) means no rules were published.
            rules.disallow_all = problem.status in (401, 403)
            rules.allow_all = not rules.disallow_all
            log.debug("robots.txt for %s unavailable (%s)", origin, problem.reason)
            return rules
        rules.parse(response.content.decode("utf-8", "replace").splitlines())
        delay = rules.crawl_delay(self.user_agent)
        if delay:
            # A delay longer than we would wait for a Retry-After is clamped, not obeyed forever.
            gate = self._gate(origin, politeness.max_concurrency)
            gate.crawl_delay = min(float(delay), self._settings.max_retry_after)
        return rules

    # -- fetch_all helpers --------------------------------------------------------------------

    def _drain(self, lane: _Lane, results: list[Page | FetchFailure | None]) -> None:
        while True:
            try:
                index, source, candidate = lane.popleft()  # deque pops are atomic: lanes share
            except IndexError:
                return
            results[index] = self._page_or_failure(candidate, source)

    def _page_or_failure(self, candidate: Candidate, source: Source) -> Page | FetchFailure:
        try:
            return self.fetch_page(candidate, source)
        except FetchError as exc:
            return exc.failure
        except Exception as exc:  # a bug must cost one URL, not the batch: record it
            log.exception("unexpected error fetching %s", candidate.url)
            return FetchFailure(candidate.url, source.id, "internal_error",
                                f"{type(exc).__name__}: {exc}", transient=True)


def _retryable_status(url: str, reply: _Reply) -> _Problem | None:
    if reply.status != 429 and reply.status < 500:
        return None
    retry_after = _retry_after(reply.headers.get("retry-after"))
    return _Problem(
        f"http_{reply.status}", f"{url} answered HTTP {reply.status}", transient=True,
        retryable=True, status=reply.status, retry_after=retry_after,
    )


def _lanes(jobs: list[tuple[Source, list[Candidate]]]) -> list[_Lane]:
    """One queue per host, listed once per allowed concurrent request, hosts interleaved."""
    queues: dict[str, _Lane] = {}
    widths: dict[str, int] = {}
    index = 0
    for source, candidates in jobs:
        for candidate in candidates:
            key = _host_key(candidate.url)
            queues.setdefault(key, deque()).append((index, source, candidate))
            widths.setdefault(key, source.max_concurrency)
            index += 1
    rounds = max(widths.values(), default=0)
    return [queues[key] for r in range(rounds) for key in queues if r < widths[key]]
