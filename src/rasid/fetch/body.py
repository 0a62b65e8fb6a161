"""Response bodies: Content-Encoding undone within a size cap, and what a body is (HTML or
binary). Pure; no network."""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Callable

from rasid.fetch.errors import Problem


class BoundedBody:
    """Collects a body, undoing Content-Encoding, never holding more than ``limit`` bytes of
    output: a gzip bomb is stopped after at most limit + 1 decompressed bytes.

    Past the limit the body is "too_large", or, with ``truncate`` (robots.txt, of which only
    the first part counts), cut at the limit and ``full``: the reader stops there.
    """

    def __init__(self, content_encoding: str, limit: int, *, truncate: bool = False) -> None:
        self._limit = limit
        self._truncate = truncate
        self._parts: list[bytes] = []
        self._size = 0
        self._inflater = _inflater(content_encoding)
        self.full = False

    @property
    def identity(self) -> bool:
        return self._inflater is None

    def feed(self, data: bytes) -> None:
        if self._inflater is not None:
            inflater = self._inflater
            data = self._inflate(lambda room: inflater.decompress(data, room))
        self._add(data)

    def finish(self) -> bytes:
        if self._inflater is not None and not self.full:
            self._add(self._inflate(self._inflater.flush))
            if not self._inflater.eof:
                # The stream stops before its end marker: the page was cut off on the way (a
                # connection closed early, without a length, looks like a complete response).
                raise Problem("truncated_body", "compressed body ends before its end marker",
                              transient=True, retryable=True)
        return b"".join(self._parts)

    def _inflate(self, step: Callable[[int], bytes]) -> bytes:
        """Run one zlib step allowed one byte more than the room left, to notice overflow."""
        try:
            return step(self._limit - self._size + 1)
        except zlib.error as exc:
            raise Problem(
                "bad_content_encoding", f"cannot decompress body: {exc}", transient=False
            ) from None

    def _add(self, data: bytes) -> None:
        if self.full:
            return
        if self._truncate and self._size + len(data) >= self._limit:
            data = data[: self._limit - self._size]
            self.full = True
        self._size += len(data)
        if self._size > self._limit:
            raise Problem(
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
    raise Problem(
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


def is_html(content_type: str | None, content: bytes) -> bool:
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime not in _SNIFFABLE_TYPES or _looks_binary(content):
        return False
    if mime in _HTML_TYPES:
        return True
    head = content[:SNIFF_BYTES].lstrip(codecs.BOM_UTF8 + b" \t\r\n").lower()
    return head.startswith(b"<!doctype html") or b"<html" in head
