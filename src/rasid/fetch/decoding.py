"""Bytes to text: which charset an HTML body is in, and the text. Pure; no network."""

from __future__ import annotations

import codecs
import re

import charset_normalizer

from rasid.models import BOMS, decode_body

# UTF-32 LE before UTF-16 LE, whose BOM is its prefix (BOMS keeps that order).
_BOMS = tuple((bom, encoding) for encoding, bom in BOMS.items())
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^"';,\s]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(
    rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)""", re.IGNORECASE
)
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
