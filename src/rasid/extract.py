"""Extraction: one page's HTML in, one ``Extracted`` record out.

trafilatura finds the article text and the title; rasid then repairs what it gets wrong on
Arabic news: mis-decoded text, bodies printed twice, comment forms and "اقرأ أيضاً" lines kept
as text, and publication dates in Arabic month systems (see ``rasid.dates``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import trafilatura
from lxml.html import HtmlElement
from trafilatura import metadata
from trafilatura.utils import load_html

from rasid import byline, neardup
from rasid.dates import find_dates, find_published, is_dateline
from rasid.models import Encoded, Extracted
from rasid.text import (
    OTHER_STORIES,
    arabic_ratio,
    body_hash,
    detect_language,
    detect_mojibake,
    normalize_arabic,
    remove_repetition,
    repair_mojibake,
    word_count,
)
from rasid.urls import normalize_url

LOGGER = logging.getLogger(__name__)
# trafilatura drops format characters, and with them the zero-width non-joiner that Persian,
# Kurdish and Urdu spelling needs ("می‌شود"); a printable stand-in carries it through.
_ZWNJ, _ZWNJ_STAND_IN = "\u200c", "\u2e3b"
CHUNKSIZE = 8  # pages per task sent to a worker: amortises pickling without starving cores

# --- boilerplate trafilatura keeps ---------------------------------------------------------
# Matched against normalize_arabic(line), hence the folded spellings (اقرا, ايضا, الالزاميه).
_SHORT_LINE = 200
_EDGE_LINES = 3
_ALWAYS = re.compile(
    "|".join((
        # comment forms and their notices
        r"^(?:اكتب|اضف|اترك|ارسل|شاركنا)\s+(?:تعليقا|تعليقك|تعليق|ردا|رد|رايك)\b",
        r"لن يتم نشر (?:عنوان )?بريدك",
        r"^(?:الحقول|جميع الحقول) (?:المطلوبه|الالزاميه|الاجباريه)",
        r"^(?:التعليقات|تعليقات|\d+ تعليقات?|لا توجد تعليقات.*)$",
        r"^احفظ اسمي",
        # "read also" and related-article lines
        OTHER_STORIES.pattern,
        # tag lists and view counters
        r"^(?:الوسوم|وسوم|الكلمات المفتاحيه|كلمات مفتاحيه|كلمات دلاليه)\s*(?:[:：].*)?$",
        r"^(?:عدد )?(?:المشاهدات|مشاهدات|مشاهده|القراءات|قراءات|الزيارات|زيارات)"
        r"\s*[:：]?\s*\d[\d,.]*$",
        r"^\d[\d,.]*\s*(?:مشاهده|مشاهدات|قراءه|قراءات|زياره|زيارات)$",
    ))
)
# Furniture that only counts as such at the top or bottom of the text: a byline ("بقلم: …")
# or a copyright footer. Inside the text the same words can be part of the story.
_EDGE = re.compile(
    r"^(?:(?:بقلم|كتب|كتبت|اعداد|تحرير|تقرير|حاوره|حاورته|حاورها|حاورتها|by)\s*[:：]?"
    r"|حوار\s*[:：])\s*[^\d]{0,40}$"
    r"|^(?:©|\(c\)|حقوق (?:النشر|الطبع)|جميع الحقوق محفوظه|all rights reserved|copyright)"
    r"|(?:جميع الحقوق محفوظه|all rights reserved)\W*(?:\d{4})?\W*$"
)
# A source credit is boilerplate only at the very end of the text.
_TRAILING = re.compile(r"^(?:المصدر|مصدر الخبر|المصدر الاصلي)\s*[:：]")
_SHARE_WORDS = frozenset(
    "شارك شاركها مشاركه الخبر المقال على عبر فيسبوك فيس بوك تويتر اكس واتساب واتس اب تلغرام "
    "تيليجرام تليجرام لينكدان انستغرام ماسنجر ايميل البريد طباعه نسخ الرابط share facebook "
    "twitter whatsapp telegram linkedin email print copy link messenger x".split()
)


def _is_share_line(key: str) -> bool:
    words = re.findall(r"[^\W\d_]+", key)
    return bool(words) and words[0] in ("شارك", "مشاركه", "share") and all(
        w in _SHARE_WORDS for w in words
    )


def _is_boilerplate(line: str, at_edge: bool) -> bool:
    if len(line) > _SHORT_LINE:
        return False
    key = normalize_arabic(line)
    # A date-only line is page furniture at the top or the bottom; inside, it may head a
    # timeline entry.
    if _ALWAYS.search(key) or _is_share_line(key):
        return True
    return at_edge and (is_dateline(line) or bool(_EDGE.search(key)))


_LIST_ITEM = re.compile(r"^[-–—•·*▪]\s*")
_ITEM_MAX = 150


def _without_story_lists(lines: list[str]) -> list[str]:
    """Drop the items of a "اقرأ أيضاً" or "الأكثر قراءة" list: the short lines after such a
    heading that are list items or carry a date (other articles' titles)."""
    kept, listing = [], False
    for line in lines:
        key = normalize_arabic(line)
        if len(line) <= _SHORT_LINE and OTHER_STORIES.search(key):
            listing = True
        elif listing and len(line) <= _ITEM_MAX and (
                _LIST_ITEM.match(line) or next(find_dates(key), None)):
            continue
        else:
            listing = False
        kept.append(line)
    return kept


def strip_boilerplate(body: str) -> str:
    """Drop comment-form, share, "اقرأ أيضاً" (and the list it heads), tag and view-counter
    lines; date-only, byline and copyright lines at the edges; trailing source lines."""
    lines = _without_story_lists([line.strip() for line in body.splitlines() if line.strip()])
    kept = [line for index, line in enumerate(lines)
            if not _is_boilerplate(line, index < _EDGE_LINES or index >= len(lines) - _EDGE_LINES)]
    while kept and len(kept[-1]) <= _SHORT_LINE and _TRAILING.search(normalize_arabic(kept[-1])):
        kept.pop()
    return "\n".join(kept)


# --- page metadata trafilatura does not give ----------------------------------------------


def canonical_url(tree: HtmlElement, url: str) -> str | None:
    """The page's declared canonical URL (link rel=canonical, else og:url), normalised."""
    declared = [link.get("href") for link in tree.iter("link")
                if "canonical" in (link.get("rel") or "").lower().split()]
    declared += [meta.get("content") for meta in tree.iter("meta")
                 if (meta.get("property") or "").lower() == "og:url"]
    for href in declared:
        if href and href.strip():
            try:
                return normalize_url(href, base=url)
            except ValueError:  # javascript:, mailto:, a malformed port...
                continue
    return None


def _title_and_author(tree: HtmlElement) -> tuple[str | None, str | None]:
    """trafilatura's title and author, found as its metadata step finds them (meta tags, then
    JSON-LD, then the page's headings and bylines), without the rest of that step: htmldate's
    date search (rasid reads dates itself), site name, categories, tags, licence. That rest
    costs about 3.5 ms a page, a tenth of the whole extraction."""
    found = metadata.examine_meta(tree)
    if found.author and " " not in found.author:  # a bare handle is not a name
        found.author = None
    try:
        found = metadata.extract_meta_json(tree, found)
    except Exception:  # noqa: BLE001 - malformed JSON-LD must not cost the page
        LOGGER.debug("unreadable JSON-LD metadata", exc_info=True)
    found.title = found.title or metadata.extract_title(tree)
    found.author = found.author or byline.extract_author(tree)  # trafilatura's, faster
    found.clean_and_trim()
    return found.title or None, found.author or None


def _fallback_title(tree: HtmlElement) -> str | None:
    for meta in tree.iter("meta"):
        content = (meta.get("content") or "").strip()
        if (meta.get("property") or "").lower() == "og:title" and content:
            return content
    title = tree.find(".//title")
    text = title.text_content().strip() if title is not None else ""
    return text or None


# --- extraction ---------------------------------------------------------------------------


def _empty(flags: list[str]) -> Extracted:
    return Extracted(title=None, author=None, canonical_url=None, published_at=None,
                     published_date=None, date_source=None, body="", language=None,
                     arabic_ratio=0.0, word_count=0, body_hash=body_hash(""),
                     repeated_share=0.0, flags=flags)


def extract(html: str, url: str, *, published_hint: datetime | None = None,
            hint_source: str | None = None, timezone: str = "Asia/Damascus",
            now: datetime | None = None, founded: date | None = None) -> Extracted:
    """Extract one page; never raises: a page that cannot be read gives an empty body."""
    hints = [(published_hint, hint_source or "feed")] if published_hint else []
    try:
        return _extract(html, url, hints, timezone, now or datetime.now(UTC), founded)
    except Exception:  # junk or pathological HTML must cost one record, never the batch
        LOGGER.warning("extraction failed for %s", url, exc_info=True)
        return _empty(["no_body", "extract_error"])


def _extract(html: str, url: str, hints: list[tuple[datetime, str]], timezone: str,
             now: datetime, founded: date | None) -> Extracted:
    flags: list[str] = []
    if not isinstance(html, str) or "<" not in html:
        return _empty(["no_body"])
    carry_zwnj = _ZWNJ in html and _ZWNJ_STAND_IN not in html
    if carry_zwnj:
        html = html.replace(_ZWNJ, _ZWNJ_STAND_IN)
    if detect_mojibake(html):
        repaired = repair_mojibake(html)
        flags += ["mojibake_repaired"] if repaired != html else []
        flags += ["mojibake"] if detect_mojibake(repaired) else []  # what could not be undone
        html = repaired
    tree = load_html(html)
    if tree is None:
        return _empty(["no_body"])
    document = trafilatura.bare_extraction(
        tree, url=url, include_comments=False, include_tables=True,
        deduplicate=False,  # its cache is process-global: a 4th identical page comes back empty
        with_metadata=False,  # only the title and author are wanted: see _title_and_author
    )
    heading, author = _title_and_author(tree)
    title = (heading or _fallback_title(tree) or "").strip() or None
    raw = strip_boilerplate(getattr(document, "text", None) or "")
    if carry_zwnj:
        title = title and title.replace(_ZWNJ_STAND_IN, _ZWNJ)
        raw = raw.replace(_ZWNJ_STAND_IN, _ZWNJ)
    body, repeated = remove_repetition(raw, title)
    dates = find_published(tree, url, title=title, hints=hints, timezone=timezone, now=now,
                           founded=founded)
    flags += dates.flags
    if repeated > 0:
        flags.append("body_repeated")
    if not body:
        flags.append("no_body")
    normalized = normalize_arabic(body)
    return Extracted(
        title=title,
        author=author,
        canonical_url=canonical_url(tree, url),
        published_at=dates.published_at,
        published_date=dates.published_date,
        date_source=dates.date_source,
        body=body,
        language=detect_language(body or title or "", tree.get("lang")),
        arabic_ratio=round(arabic_ratio(body), 4),
        word_count=word_count(body),
        body_hash=body_hash(normalized, normalized=True),
        repeated_share=repeated,
        flags=flags,
        minhash=neardup.to_bytes(neardup.signature(normalized, normalized=True)),
    )


# --- many pages, across cores -------------------------------------------------------------


# (html, url, keyword arguments of extract); the html may come still encoded, to be decoded
# in the worker: sending bytes is a copy, sending text is an encode and a decode.
Item = tuple[str | Encoded, str, dict[str, Any]]


def _extract_item(item: Item) -> Extracted:
    html, url, kwargs = item
    return extract(html.text() if isinstance(html, Encoded) else html, url, **kwargs)


def _process_pool(workers: int) -> ProcessPoolExecutor:
    # forkserver, not fork: the caller may run threads (Prefect does), and forking a
    # threaded process can copy a held lock into the child. The server imports this module
    # (trafilatura, lxml, the date finder: 0.7 s of CPU) once; every worker forked from it
    # starts with them, where each would import them again.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", __name__])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


@contextmanager
def extraction_pool(workers: int) -> Iterator[Executor | None]:
    """A process pool to reuse across batches, of ``workers`` processes (0: one per core, as
    ``RASID_EXTRACT_WORKERS`` means it); None (work in-process) for a single worker."""
    workers = workers or os.cpu_count() or 1
    if workers <= 1:
        yield None
        return
    with _process_pool(workers) as pool:
        yield pool


def _chunksize(items: int, workers: int) -> int:
    # Big chunks amortise pickling; small batches still need a chunk for every worker.
    return max(1, min(CHUNKSIZE, items // (2 * workers)))


def extract_many(items: Sequence[Item], workers: int = 1, *,
                 executor: Executor | None = None) -> list[Extracted]:
    """Extract (html or encoded body, url, kwargs) items across processes; results keep the
    input order.

    Pass ``executor`` (from ``extraction_pool``) to reuse one pool across batches.
    """
    if executor is not None:
        size = _chunksize(len(items), os.cpu_count() or 1)
        return list(executor.map(_extract_item, items, chunksize=size))
    if workers <= 1 or len(items) <= 1:
        return [_extract_item(item) for item in items]
    with _process_pool(min(workers, len(items))) as pool:
        size = _chunksize(len(items), workers)
        return list(pool.map(_extract_item, items, chunksize=size))
