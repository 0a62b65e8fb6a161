"""Records passed between the pipeline's steps.

Each step takes and returns these plain records, so a step can be tested on its own with
bytes in and records out. Datetimes are always timezone-aware and in UTC.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

# A run's funnel, per source and in total, in the order the stages meet a URL: found, not yet
# stored, fetched from the site (or read from the raw archive, when reprocessing), extracted,
# and how it ended. The manifest, the report, the health flags and the progress use these.
FUNNEL = ("discovered", "new", "fetched", "archived", "extracted", "stored", "quarantined", "failed")

# The byte-order mark each Unicode encoding starts with, when a page declares itself by one.
BOMS = {
    "utf-32-le": codecs.BOM_UTF32_LE,
    "utf-32-be": codecs.BOM_UTF32_BE,
    "utf-8": codecs.BOM_UTF8,
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
}


def decode_body(content: bytes, encoding: str, encoding_source: str) -> str:
    """The text of a body whose charset is known (see rasid.fetch.decoding.decode_html, which finds it)."""
    bom = BOMS.get(encoding) if encoding_source == "bom" else None
    if bom and content.startswith(bom):
        content = content[len(bom):]
    return content.decode(encoding, "replace")


class Encoded(NamedTuple):
    """A body with its known charset: text to be, decoded where the text is needed (in an
    extraction worker, not in the process that holds a batch of pages)."""

    content: bytes
    encoding: str
    encoding_source: str

    def text(self) -> str:
        return decode_body(self.content, self.encoding, self.encoding_source)


@dataclass(frozen=True)
class Validator:
    """What a server said identifies a version of a document (its ETag and Last-Modified),
    sent back on the next request so an unchanged document costs a 304 and nothing else."""

    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)

    def as_dict(self) -> dict[str, str | None]:
        return {"etag": self.etag, "last_modified": self.last_modified}

    @classmethod
    def of(cls, record: dict[str, str | None]) -> Validator:
        return cls(record.get("etag"), record.get("last_modified"))


@dataclass(frozen=True)
class Candidate:
    """A URL that discovery found and that may be an article."""

    url: str  # normalised (see rasid.urls.normalize_url)
    source_id: str
    via: str  # "feed" | "sitemap" | "links"
    published_hint: datetime | None = None  # the feed's/sitemap's date for this entry, UTC
    title_hint: str | None = None


@dataclass
class Page:
    """A fetched response whose body is HTML.

    It keeps the bytes only; ``html`` decodes them when asked. A batch in flight would
    otherwise hold every page twice, and the text (two or four bytes a character for Arabic)
    is the larger copy. Extraction decodes in the worker that needs the text.
    """

    url: str  # the candidate URL that was asked for
    final_url: str  # after redirects
    source_id: str
    status: int
    headers: dict[str, str]
    content: bytes  # the body after Content-Encoding was undone (what the server meant)
    encoding: str  # the charset the text is decoded with
    encoding_source: str  # "http" | "meta" | "bom" | "detected" | "fallback"
    fetched_at: datetime
    candidate: Candidate | None = None

    @property
    def encoded(self) -> Encoded:
        return Encoded(self.content, self.encoding, self.encoding_source)

    @property
    def html(self) -> str:
        """The body decoded to text."""
        return self.encoded.text()


@dataclass(frozen=True)
class FetchFailure:
    """A URL that could not be fetched, and why. Recorded, counted and reported; never dropped."""

    url: str
    source_id: str
    reason: str  # short code, e.g. "timeout", "http_404", "blocked_address", "too_large"
    detail: str  # one human sentence
    transient: bool  # True: worth retrying on the next run
    attempts: int = 1
    status: int | None = None
    # The candidate as discovered, for a page left for the next run or failed transiently: it
    # is asked for again even when no feed or sitemap lists it then (an unchanged one, 304).
    candidate: Candidate | None = None


# Failures that mean "not tried in this run, waiting for the next": the run set the host aside
# (it kept failing), the host used up its share of the run's time, or the run's time was up.
# Each is transient, and the next run asks for these URLs first (see rasid.pipeline.state).
HOST_UNRESPONSIVE = "host_unresponsive"
HOST_OUT_OF_TIME = "host_out_of_time"
RUN_OUT_OF_TIME = "run_out_of_time"
LEFT_FOR_NEXT_RUN = frozenset({HOST_UNRESPONSIVE, HOST_OUT_OF_TIME, RUN_OUT_OF_TIME})


@dataclass
class Extracted:
    """What extraction learnt from one page, before the pipeline gives it an identity."""

    title: str | None
    author: str | None
    canonical_url: str | None
    published_at: datetime | None  # UTC
    published_date: date | None  # the publisher's day: as printed, else the source's zone
    date_source: str | None  # meta, jsonld, dateline, feed, htmldate, sitemap, url, updated
    body: str  # stored once: repetition inside the page already removed
    language: str | None  # ISO 639-1, e.g. "ar", "fa", "en"
    arabic_ratio: float  # Arabic-script letters / all letters in the body (0.0 when no letters)
    word_count: int
    body_hash: str  # sha256 hex of the normalised body
    repeated_share: float = 0.0  # share of the raw extracted text that was repetition
    flags: list[str] = field(default_factory=list)  # warnings, e.g. "body_repeated", "date_future"
    # The body's MinHash (rasid.neardup.to_bytes; b"" for a body too short to compare),
    # computed where the body is, in the extraction worker; None when not computed.
    minhash: bytes | None = None

