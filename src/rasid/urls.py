"""URL normalisation, article identity and article-URL heuristics.

The normalised URL is an article's identity (``url_id``). Two spellings of one address —
percent-encoding in lower or upper case, a raw Arabic slug or its encoded form, tracking
parameters, a default port — must give the same string, and normalising a normalised URL
must change nothing. Host names are IDNA-encoded by UTS 46 (the ``idna`` package, as requests
encodes them on the wire), so a name written in Arabic or Persian is one host however it is
spelled, and the same host the request goes to.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from urllib.parse import unquote, urljoin, urlsplit

import idna

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# A %XX escape, or one character the component may not hold raw (RFC 3986 sets).
_PATH_UNSAFE = re.compile(r"%[0-9A-Fa-f]{2}|[^A-Za-z0-9\-._~!$&'()*+,;=:@/]")
_QUERY_UNSAFE = re.compile(r"%[0-9A-Fa-f]{2}|[^A-Za-z0-9\-._~!$'()*+,;=:@/?]")
_HOSTNAME = re.compile(r"(?:[a-z0-9_-]+\.)*[a-z0-9_-]+")

# Parameters that say who sent the reader, not which page they read.
_TRACKING_PREFIXES = ("utm_", "mtm_", "at_")
_TRACKING_NAMES = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "twclid", "ttclid", "yclid",
    "ysclid", "mc_cid", "mc_eid", "_ga", "_gl", "igshid", "igsh", "ref_src", "ref_url", "spm",
    "scm", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "wt_mc",
    "cmpid", "ncid", "s_kwcid", "pk_campaign", "pk_kwd", "pk_source", "pk_medium",
    "fb_action_ids", "fb_action_types", "fb_source", "fb_ref", "__twitter_impression",
})

# Whole path segments that mark listing, navigation or technical pages (English and Arabic).
_NON_ARTICLE_SEGMENTS = frozenset({
    "tag", "tags", "category", "categories", "section", "sections", "author", "authors",
    "page", "search", "login", "logout", "register", "signin", "signup", "feed", "feeds", "rss",
    "comments", "trackback", "wp-content", "wp-admin", "wp-includes", "wp-json",
    "wp-login.php", "xmlrpc.php", "static", "assets", "cdn-cgi",
    "وسم", "تصنيف", "كاتب", "بحث",
})
_NON_ARTICLE_PARAMS = frozenset({"replytocom", "s", "page", "paged", "share"})
_ASSET_EXTENSIONS = (
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".ico", ".css", ".js", ".pdf", ".xml",
    ".json", ".rss", ".zip", ".mp3", ".mp4", ".woff", ".woff2",
)
_ID_PARAMS = frozenset({"p", "id", "nid", "newsid", "news_id", "articleid", "article_id"})
_NUMERIC_ID = re.compile(r"\d{3,}(?:[-_.].*)?|.*[-_]\d{3,}(?:\.html?)?")
_YEAR = re.compile(r"(?:19|20)\d\d")
_MONTH = re.compile(r"0?[1-9]|1[0-2]")
_DAY = re.compile(r"0?[1-9]|[12]\d|3[01]")
_PAGE_EXTENSION = re.compile(r"\.(?:html?|php|aspx?)$")
_ARABIC_LETTER = re.compile(r"[\u0620-\u064A\u066E-\u06D3\u06FA-\u06FF\u0750-\u077F]")


def normalize_url(url: str, base: str | None = None) -> str:
    """Return the canonical spelling of an http(s) URL; raise ValueError for anything else."""
    url = url.strip()
    if base is not None:
        url = urljoin(base.strip(), url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    netloc = _host(raw_hostname(parts.netloc))
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    # Credentials in a discovered link are never ours to send, so they are not kept.
    path = _clean_path(_requote(parts.path, _PATH_UNSAFE))
    query = _clean_query(parts.query)
    return f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")


def url_id(url: str) -> str:
    """The article identity: the first 32 hex digits of the normalised URL's sha256."""
    return hashlib.sha256(normalize_url(url).encode("ascii")).hexdigest()[:32]


def same_site(url: str, homepage: str) -> bool:
    """Same host (a leading ``www.`` aside) and same explicit port; never raises.

    http and https count as one site: sites move between them and feeds lag behind.
    """
    try:
        return _site(url) == _site(homepage)
    except ValueError:
        return False


def looks_like_article(url: str, homepage: str) -> bool:
    """Guess from the URL alone whether a same-site link leads to an article page."""
    try:
        normalized = normalize_url(url)
        home = normalize_url(homepage)
    except ValueError:
        return False
    if not same_site(normalized, home) or normalized.rstrip("/") == home.rstrip("/"):
        return False
    parts = urlsplit(normalized)
    segments = [unquote(s).lower() for s in parts.path.split("/") if s]
    pairs = (param.lower().partition("=") for param in parts.query.split("&") if param)
    params = {key: value for key, _, value in pairs}
    if _is_navigation(segments, params):
        return False
    return (
        _has_numeric_id(segments, params)
        or _has_dated_slug(segments)
        or (len(segments) >= 2 and _is_slug_leaf(segments[-1]))
    )


def _site(url: str) -> tuple[str, int | None]:
    parts = urlsplit(normalize_url(url))
    return (parts.hostname or "").removeprefix("www."), parts.port


def _host(hostname: str | None) -> str:
    if not hostname:
        raise ValueError("URL has no host")
    if ":" in hostname:
        if "%" in hostname:
            raise ValueError(f"IPv6 zone identifiers are not supported: {hostname!r}")
        return f"[{ipaddress.IPv6Address(hostname).compressed}]"
    host = ascii_host(hostname.rstrip("."))
    if not _HOSTNAME.fullmatch(host):
        raise ValueError(f"invalid host {hostname!r}")
    return host


def raw_hostname(netloc: str) -> str | None:
    """The host of a URL's authority as written (``urlsplit(...).hostname`` lower-cases it,
    which for some scripts is not the case mapping IDNA applies)."""
    host = netloc.rpartition("@")[2]
    host = host[1:].partition("]")[0] if host.startswith("[") else host.partition(":")[0]
    return host or None


def ascii_host(host: str) -> str:
    """A host name as sent on the wire: lower-case ASCII, a non-ASCII one in UTS 46 punycode
    (non-transitional: the zero-width non-joiner of ``نامه‌نگار.ir`` is kept, where Python's
    IDNA 2003 codec drops it and names another host). Raises ValueError."""
    if host.isascii():
        return host.lower()
    # Each label lower-cased on its own, as urllib3 does before encoding: a label-final Σ is
    # then ς, which UTS 46 alone would map to σ (another name).
    labels = ".".join(label.lower() for label in host.split("."))
    try:
        return idna.encode(labels, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"invalid host {host!r}: {exc}") from None


def _requote(text: str, unsafe: re.Pattern[str]) -> str:
    """Uppercase escapes, decode escaped unreserved characters, encode raw ones as UTF-8.

    This is what makes ``%d8%a7``, ``%D8%A7`` and a raw ``ا`` one key.
    """
    return unsafe.sub(_requote_token, text)


def _requote_token(match: re.Match[str]) -> str:
    token = match.group()
    if len(token) == 3:
        char = chr(int(token[1:], 16))
        return char if char in _UNRESERVED else token.upper()
    return "".join(f"%{byte:02X}" for byte in token.encode("utf-8"))


def _clean_path(path: str) -> str:
    """Collapse empty segments and resolve dot segments; a trailing slash stays as it was."""
    segments = path.split("/")
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment not in ("", "."):
            kept.append(segment)
    directory = path.endswith("/") or segments[-1] in (".", "..")
    return "/" + "/".join(kept) + ("/" if directory and kept else "")


def _clean_query(query: str) -> str:
    params: list[tuple[str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        key, equals, value = piece.partition("=")
        key = _requote(key, _QUERY_UNSAFE)
        if not _is_tracking(key.lower()):
            params.append((key, equals + _requote(value, _QUERY_UNSAFE)))
    params.sort(key=lambda param: param[0])
    return "&".join(key + rest for key, rest in params)


def _is_tracking(key: str) -> bool:
    return key in _TRACKING_NAMES or key.startswith(_TRACKING_PREFIXES)


def _is_navigation(segments: list[str], params: dict[str, str]) -> bool:
    return (
        any(segment in _NON_ARTICLE_SEGMENTS for segment in segments)
        or bool(segments and segments[-1].endswith(_ASSET_EXTENSIONS))
        or any(key in _NON_ARTICLE_PARAMS for key in params)
    )


def _has_numeric_id(segments: list[str], params: dict[str, str]) -> bool:
    # A bare year is an archive listing, not an article number.
    if any(_NUMERIC_ID.fullmatch(s) and not _YEAR.fullmatch(s) for s in segments):
        return True
    return any(key in _ID_PARAMS and value.isdigit() for key, value in params.items())


def _has_dated_slug(segments: list[str]) -> bool:
    """``/2026/11/slug`` or ``/2026/11/05/slug``; a date with nothing after it is an archive."""
    for i in range(len(segments) - 2):
        if _YEAR.fullmatch(segments[i]) and _MONTH.fullmatch(segments[i + 1]):
            rest = segments[i + 2:]
            if rest and _DAY.fullmatch(rest[0]):
                rest = rest[1:]
            if rest:
                return True
    return False


def _is_slug_leaf(segment: str) -> bool:
    if segment.endswith((".html", ".htm")):
        return True
    words = [w for w in re.split(r"[-_\s]+", _PAGE_EXTENSION.sub("", segment)) if w]
    return len(words) >= 3 or (len(words) >= 2 and bool(_ARABIC_LETTER.search(segment)))
