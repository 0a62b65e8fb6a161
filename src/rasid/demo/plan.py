"""Which demo article is served where, with which trap: the plan every page is rendered from.

Each outlet's articles come from its YAML file (rasid.demo.content). A few pages carry the
problems the pipeline must handle (``TRAPS``): an entry names its trap (``trap:``), and the
rest follows from the data (an English article, an undated one, halab-online's copy of the
syndicated story). Tests compute every expectation from ``PAGES`` instead of repeating the
data, so adding an article is adding an entry to a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rasid.demo import content
from rasid.demo.content import DemoArticle
from rasid.demo.words import LEVANTINE_SHORT

DEMO_PORT = 8471
# One loopback address per outlet, so each is a separate host to the pipeline (politeness,
# same-site checks) while one port number serves them all.
DEMO_HOSTS = {"sham-today": "127.0.0.11", "furat-post": "127.0.0.12", "halab-online": "127.0.0.13"}
SOURCE_NAMES = {
    "sham-today": "الشام اليوم",
    "furat-post": "الفرات بوست",
    "halab-online": "حلب أونلاين",
}
MISSING_PATH = "/archives/699999"
_SYNDICATION_PREFIX = "حلب - حلب أونلاين: "


@dataclass(frozen=True)
class DemoPage:
    """One rendered article page and what a reader of it should find."""

    source_id: str
    path: str
    article: DemoArticle
    traps: tuple[str, ...] = ()
    # How the visible dateline is printed: "levantine", "levantine-short", "eastern-words",
    # "eastern-numeric", "english", "egyptian" or "none".
    dateline: str = "none"

    @property
    def title(self) -> str:
        return self.article.title

    @property
    def published(self) -> datetime | None:
        return published_at(self.article)

    @property
    def language(self) -> str:
        return self.article.language

    def url(self, port: int = DEMO_PORT) -> str:
        return f"http://{DEMO_HOSTS[self.source_id]}:{port}{self.path}"


# --- which article carries which trap -------------------------------------------------------


def published_at(article: DemoArticle) -> datetime | None:
    return datetime.fromisoformat(article.published) if article.published else None


def dated(page: DemoPage) -> datetime:
    if page.published is None:
        raise ValueError(f"{page.source_id}: article {page.article.key!r} needs a date")
    return page.published


def _oldest_first(articles: Iterable[DemoArticle]) -> list[DemoArticle]:
    """Publication order; undated articles last, keys break ties so the order never wobbles."""

    def order(article: DemoArticle) -> tuple[bool, float, str]:
        when = published_at(article)
        return when is None, when.timestamp() if when else 0.0, article.key

    return sorted(articles, key=order)


# The traps an entry may name, per outlet; each is on at least one page.
OUTLET_TRAPS = {
    "sham-today": {"body_twice", "syndicated", "levantine_dateline"},
    "furat-post": {"eastern_digits_dateline", "exact_duplicate", "windows_1256"},
    "halab-online": set(),
}


def _traps(source_id: str, articles: Iterable[DemoArticle]) -> dict[str, tuple[str, ...]]:
    """Traps by article key, as the entries name them."""
    named = {a.key: a.trap for a in articles if a.trap}
    if unknown := set(named.values()) - OUTLET_TRAPS[source_id]:
        raise ValueError(f"{source_id}: no such trap {sorted(unknown)}")
    if missing := OUTLET_TRAPS[source_id] - set(named.values()):
        raise ValueError(f"{source_id}: no article carries {sorted(missing)}")
    return {key: (trap,) for key, trap in named.items()}


def _plan_sham(articles: Iterable[DemoArticle]) -> list[DemoPage]:
    ordered = _oldest_first(articles)
    traps = _traps("sham-today", ordered)
    # Exactly one dateline-only page prints the short month, the newest one that has it.
    short = next(
        (
            a.key
            for a in reversed(ordered)
            if traps.get(a.key) == ("levantine_dateline",) and _month(a) in LEVANTINE_SHORT
        ),
        None,
    )
    if short is None:
        raise ValueError("no levantine_dateline article falls in a month with a short name")
    return [
        DemoPage(
            "sham-today",
            f"/archives/{a.key}",
            a,
            traps.get(a.key, ()),
            "levantine-short" if a.key == short else "levantine",
        )
        for a in reversed(ordered)
    ]


def _month(article: DemoArticle) -> int:
    when = published_at(article)
    return when.month if when else 0


def _furat_path(article: DemoArticle) -> str:
    when = published_at(article)
    if when is None:
        raise ValueError(f"furat-post: article {article.key!r} needs a date for its URL")
    return f"/news/{when:%Y/%m}/{article.key}.html"


def _furat_dateline(article: DemoArticle) -> str:
    if article.dateline not in ("eastern-words", "eastern-numeric"):
        raise ValueError(
            f"furat-post: article {article.key!r} needs dateline: eastern-words or eastern-numeric"
        )
    return article.dateline


def _plan_furat(articles: Iterable[DemoArticle]) -> list[DemoPage]:
    ordered = _oldest_first(articles)
    traps = _traps("furat-post", ordered)
    pages: list[DemoPage] = []
    for article in reversed(ordered):
        english = article.language != "ar"
        page = DemoPage(
            "furat-post",
            _furat_path(article),
            article,
            ("english_page",) if english else traps.get(article.key, ()),
            "english" if english else _furat_dateline(article),
        )
        pages.append(page)
        if "exact_duplicate" in page.traps:  # the AMP edition, served as a second URL
            amp = page.path.replace(".html", "-amp.html")
            pages.append(DemoPage(page.source_id, amp, article, page.traps, page.dateline))
    return pages


def _lede_headline(paragraph: str) -> str:
    """A headline cut from the lede's first clause, as aggregators write them."""
    clause = re.split(r"[،.؛:]", paragraph, maxsplit=1)[0]
    return " ".join(clause.split()[:14])


def _syndicate(original: DemoArticle) -> DemoArticle:
    """halab-online's copy: new headline, a dateline prefix, one paragraph fewer, a day later."""
    when = published_at(original)
    if when is None or len(original.paragraphs) < 3:
        raise ValueError(
            f"article {original.key!r} cannot be syndicated: it needs a date and three paragraphs"
        )
    first, *middle, last = original.paragraphs
    return DemoArticle(
        key=f"{original.key}-damascus",
        title=_lede_headline(first),
        paragraphs=(_SYNDICATION_PREFIX + first, *middle[:-1], last),
        published=(when + timedelta(days=1)).isoformat(),
        author=None,
        section=original.section,
        tags=original.tags,
        language=original.language,
    )


def _plan_halab(articles: Iterable[DemoArticle], syndicated_from: DemoArticle) -> list[DemoPage]:
    copy = _syndicate(syndicated_from)
    ordered = _oldest_first([*articles, copy])
    newest_first = [a for a in reversed(ordered) if a.published] + [
        a for a in ordered if not a.published
    ]
    pages = []
    for article in newest_first:
        traps = ["comments_and_most_read"]
        if article.published is None:
            traps.append("no_date")
        if article is copy:
            traps.append("syndicated")
        pages.append(
            DemoPage(
                "halab-online",
                f"/article/{article.key}",
                article,
                tuple(traps),
                "egyptian" if article.published else "none",
            )
        )
    return pages


def _plan() -> list[DemoPage]:
    sham = _plan_sham(content.articles("sham-today"))
    original = next(p.article for p in sham if "syndicated" in p.traps)
    return [
        *sham,
        *_plan_furat(content.articles("furat-post")),
        *_plan_halab(content.articles("halab-online"), original),
    ]


def _trap_index(pages: Iterable[DemoPage]) -> dict[str, list[tuple[str, str]]]:
    index: dict[str, list[tuple[str, str]]] = {}
    for page in pages:
        for trap in page.traps:
            index.setdefault(trap, []).append((page.source_id, page.path))
    index["missing_page"] = [("sham-today", MISSING_PATH)]
    return index


# Every rendered article page, newest first within each source (undated ones last).
PAGES: list[DemoPage] = _plan()
# Trap name -> the (source_id, path) pages that carry it. "syndicated" lists the sham-today
# original and then halab-online's copy; "missing_page" is a feed entry answered with 404.
TRAPS: dict[str, list[tuple[str, str]]] = _trap_index(PAGES)
