"""One request and its answer: what the client sends, and how it reads what comes back.

Below the client (``rasid.fetch.http``), which decides where to go next (redirects), whether to
ask again (retries) and when (politeness): an exchange sends one GET through the guarded
session, with a deadline on the whole response and a size cap that holds after decompression,
and turns every way it can fail into a ``Problem`` with a reason code.
"""

from __future__ import annotations

import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import urljoin

import requests
import urllib3

from rasid.config import Settings
from rasid.fetch.body import BoundedBody
from rasid.fetch.connection import response_deadline
from rasid.fetch.errors import Problem
from rasid.models import Validator
from rasid.netguard import AddressGuard, BlockedAddress

MAX_REDIRECTS = 10
CHUNK_BYTES = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
NOT_MODIFIED = 304
# Only what we can decompress with a bounded output; a server sending br or zstd anyway
# gets "bad_content_encoding".
ACCEPT_ENCODING = "gzip, deflate"


class Ask(NamedTuple):
    """How to ask for one URL: what we accept, how much we read, how far we follow."""

    accept: str
    limit: int  # bytes of body, after decompression
    truncate: bool = False  # past the limit, keep what was read instead of failing
    max_redirects: int = MAX_REDIRECTS
    robots: bool = True  # consult robots.txt at every hop
    validator: Validator | None = None  # ask conditionally: a 304 is an answer, not a failure


@dataclass
class Reply:
    """What one request got: the status, lower-cased headers, and the body of a 2xx."""

    status: int
    headers: dict[str, str]
    content: bytes


class Exchange:
    """Sends one request at a time through a guarded session; safe to share between threads."""

    def __init__(self, session: requests.Session, guard: AddressGuard, settings: Settings,
                 user_agent: str) -> None:
        self._session = session
        self._guard = guard
        self._settings = settings
        self.user_agent = user_agent

    def send(self, url: str, ask: Ask) -> Reply:
        """GET ``url`` once (no redirect followed), the body read for a 2xx only, all of it
        within the response deadline. Raises Problem."""
        deadline = time.monotonic() + self._settings.response_deadline
        resp = self._open(url, ask, deadline)
        try:
            headers = {k.lower(): v for k, v in resp.headers.items()}
            content = b""
            if 200 <= resp.status_code < 300:
                content = self._read_body(resp, headers, ask, deadline)
        finally:
            resp.close()
        return Reply(resp.status_code, headers, content)

    def _open(self, url: str, ask: Ask, deadline: float) -> requests.Response:
        settings = self._settings
        headers = {"User-Agent": self.user_agent, "Accept": ask.accept,
                   "Accept-Encoding": ACCEPT_ENCODING, **conditional_headers(ask.validator)}
        token = response_deadline.set(deadline)
        try:
            self._guard.check_url(url)
            return self._session.get(
                url, headers=headers, stream=True, allow_redirects=False,
                timeout=(settings.connect_timeout, settings.read_timeout),
            )
        except BlockedAddress as exc:
            raise Problem("blocked_address", str(exc), transient=False) from None
        except (requests.RequestException, OSError, UnicodeError) as exc:
            if time.monotonic() >= deadline:
                raise Problem("deadline_exceeded", f"no complete headers after "
                              f"{settings.response_deadline} s", transient=True) from None
            reason = "timeout" if isinstance(exc, requests.Timeout) else "connection_error"
            raise Problem(reason, f"{url}: {exc}", transient=True, retryable=True) from None
        except ValueError as exc:
            # requests parses a redirect's Location even when not following it: "http://[::1"
            # is no address to go to, now or on a later run.
            raise Problem("bad_redirect", f"{url} redirects to an address that is not a URL"
                          f" ({exc})", transient=False) from None
        finally:
            response_deadline.reset(token)

    def _read_body(
        self, resp: requests.Response, headers: dict[str, str], ask: Ask, deadline: float
    ) -> bytes:
        limit = ask.limit
        body = BoundedBody(headers.get("content-encoding", ""), limit, truncate=ask.truncate)
        declared = headers.get("content-length", "")
        if body.identity and not ask.truncate and declared.isdigit() and int(declared) > limit:
            raise Problem("too_large", f"Content-Length {declared} exceeds {limit} bytes",
                          transient=False)
        try:
            # read1 returns whatever one socket read gives, so a server dripping bytes
            # cannot keep us past the deadline by never filling a buffer.
            while not body.full and (chunk := resp.raw.read1(CHUNK_BYTES, decode_content=False)):
                body.feed(chunk)
                if time.monotonic() > deadline:
                    raise Problem(
                        "deadline_exceeded",
                        f"body not complete after {self._settings.response_deadline} s",
                        transient=True,
                    )
        except (urllib3.exceptions.TimeoutError, TimeoutError) as exc:
            raise Problem("timeout", f"reading body: {exc}", transient=True,
                          retryable=True) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Problem("connection_error", f"reading body: {exc}", transient=True,
                          retryable=True) from None
        return body.finish()


def conditional_headers(validator: Validator | None) -> dict[str, str]:
    headers = {}
    if validator and validator.etag:
        headers["If-None-Match"] = validator.etag
    if validator and validator.last_modified:
        headers["If-Modified-Since"] = validator.last_modified
    return headers


def redirect_target(url: str, reply: Reply) -> str | None:
    """Where a redirect sends us (absolute), None if ``reply`` is not one."""
    location = reply.headers.get("location")
    if reply.status not in REDIRECT_STATUSES or not location:
        return None
    # http.client decodes headers as latin-1; servers send UTF-8 (as requests assumes)
    with suppress(UnicodeError):
        location = location.encode("latin-1").decode("utf-8")
    return urljoin(url, location.strip())


def retryable_status(url: str, reply: Reply) -> Problem | None:
    """A 429 or 5xx as a Problem worth another try (with its Retry-After), else None."""
    if reply.status != 429 and reply.status < 500:
        return None
    return Problem(
        f"http_{reply.status}", f"{url} answered HTTP {reply.status}", transient=True,
        retryable=True, status=reply.status,
        retry_after=retry_after(reply.headers.get("retry-after")),
    )


def retry_after(value: str | None) -> float | None:
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
