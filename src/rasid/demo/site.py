"""The bundled demo news site: three Arabic outlets rendered from data, traps included.

Each outlet has its own page shapes, as real sites do: a WordPress-like site with an RSS feed
(``sham-today``), a site with a gzipped Google News sitemap and an Atom feed (``furat-post``)
and one with neither, found only through its homepage and section pages (``halab-online``).
A few pages carry the problems the pipeline must handle (``TRAPS``); which article gets which
trap follows from the articles' publication order, so tests compute every expectation from
``PAGES`` instead of repeating the data. Rendering is a pure function of the port: no clock,
no randomness, the same bytes on every call.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from html import escape
from urllib.parse import quote

from rasid.demo.articles_furat import ARTICLES as FURAT_ARTICLES
from rasid.demo.articles_halab import ARTICLES as HALAB_ARTICLES
from rasid.demo.articles_sham import ARTICLES as SHAM_ARTICLES
from rasid.demo.content import DemoArticle

DEMO_PORT = 8471
# One loopback address per outlet, so each is a separate host to the pipeline (politeness,
# same-site checks) while one port number serves them all.
DEMO_HOSTS = {"sham-today": "127.0.0.11", "furat-post": "127.0.0.12", "halab-online": "127.0.0.13"}
SOURCE_NAMES = {
    "sham-today": "الشام اليوم", "furat-post": "الفرات بوست", "halab-online": "حلب أونلاين",
}
MISSING_PATH = "/archives/699999"

SECTIONS = ("politics", "economy", "local", "sport", "culture")
_SECTION_NAMES = {
    "ar": {"politics": "سياسة", "economy": "اقتصاد", "local": "محليات", "sport": "رياضة",
           "culture": "ثقافة"},
    "en": {"politics": "Politics", "economy": "Economy", "local": "Local", "sport": "Sport",
           "culture": "Culture"},
}
_WEEKDAYS = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")
_LEVANTINE = ("كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول",
              "تشرين الأول", "تشرين الثاني", "كانون الأول")
# Syrian papers abbreviate only the paired months.
_LEVANTINE_SHORT = {1: "كانون 2", 10: "تشرين 1", 11: "تشرين 2", 12: "كانون 1"}
_EGYPTIAN = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر",
             "أكتوبر", "نوفمبر", "ديسمبر")
_ENGLISH = ("January", "February", "March", "April", "May", "June", "July", "August",
            "September", "October", "November", "December")
_EASTERN_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_SYNDICATION_PREFIX = "حلب - حلب أونلاين: "


@dataclass(frozen=True)
class Resource:
    """One HTTP response of the demo site."""

    status: int
    headers: dict[str, str]
    body: bytes


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
        return _published(self.article)

    @property
    def language(self) -> str:
        return self.article.language

    def url(self, port: int = DEMO_PORT) -> str:
        return f"http://{DEMO_HOSTS[self.source_id]}:{port}{self.path}"


# --- which article carries which trap -------------------------------------------------------

def _published(article: DemoArticle) -> datetime | None:
    return datetime.fromisoformat(article.published) if article.published else None


def _dated(page: DemoPage) -> datetime:
    if page.published is None:
        raise ValueError(f"{page.source_id}: article {page.article.key!r} needs a date")
    return page.published


def _oldest_first(articles: Iterable[DemoArticle]) -> list[DemoArticle]:
    """Publication order; undated articles last, keys break ties so the order never wobbles."""
    def order(article: DemoArticle) -> tuple[bool, float, str]:
        when = _published(article)
        return when is None, when.timestamp() if when else 0.0, article.key
    return sorted(articles, key=order)


def _pick(ordered: Sequence[DemoArticle],
          positions: dict[str, tuple[int, ...]]) -> dict[str, tuple[str, ...]]:
    """Traps by article key, from positions in publication order; one trap per article."""
    chosen: dict[str, tuple[str, ...]] = {}
    for trap, indexes in positions.items():
        for index in indexes:
            key = ordered[index].key
            if key in chosen:
                raise ValueError(f"article {key!r} would carry two traps: {chosen[key][0]}, {trap}")
            chosen[key] = (trap,)
    return chosen


def _plan_sham(articles: Iterable[DemoArticle]) -> list[DemoPage]:
    ordered = _oldest_first(articles)
    traps = _pick(ordered, {"body_twice": (2,), "syndicated": (4,),
                            "levantine_dateline": (-1, -2)})
    # Exactly one dateline-only page prints the short month, the newest one that has it.
    short = next((a.key for a in reversed(ordered)
                  if traps.get(a.key) == ("levantine_dateline",)
                  and _month(a) in _LEVANTINE_SHORT), None)
    if short is None:
        raise ValueError("no levantine_dateline article falls in a month with a short name")
    return [
        DemoPage("sham-today", f"/archives/{a.key}", a, traps.get(a.key, ()),
                 "levantine-short" if a.key == short else "levantine")
        for a in reversed(ordered)
    ]


def _month(article: DemoArticle) -> int:
    when = _published(article)
    return when.month if when else 0


def _furat_path(article: DemoArticle) -> str:
    when = _published(article)
    if when is None:
        raise ValueError(f"furat-post: article {article.key!r} needs a date for its URL")
    return f"/news/{when:%Y/%m}/{article.key}.html"


def _plan_furat(articles: Iterable[DemoArticle]) -> list[DemoPage]:
    ordered = _oldest_first(articles)
    arabic = [a for a in ordered if a.language == "ar"]
    # Positions 1 and 6 differ in parity, so each dateline form has a dateline-only page.
    traps = _pick(arabic, {"eastern_digits_dateline": (1, 6), "exact_duplicate": (3,),
                           "windows_1256": (5,)})
    styles = {a.key: ("eastern-words", "eastern-numeric")[i % 2] for i, a in enumerate(arabic)}
    pages: list[DemoPage] = []
    for article in reversed(ordered):
        english = article.language != "ar"
        page = DemoPage("furat-post", _furat_path(article), article,
                        ("english_page",) if english else traps.get(article.key, ()),
                        "english" if english else styles[article.key])
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
    when = _published(original)
    if when is None or len(original.paragraphs) < 3:
        raise ValueError(f"article {original.key!r} cannot be syndicated: "
                         "it needs a date and three paragraphs")
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
    newest_first = [a for a in reversed(ordered) if a.published] + \
                   [a for a in ordered if not a.published]
    pages = []
    for article in newest_first:
        traps = ["comments_and_most_read"]
        if article.published is None:
            traps.append("no_date")
        if article is copy:
            traps.append("syndicated")
        pages.append(DemoPage("halab-online", f"/article/{article.key}", article, tuple(traps),
                              "egyptian" if article.published else "none"))
    return pages


def _plan() -> list[DemoPage]:
    sham = _plan_sham(SHAM_ARTICLES)
    original = next(p.article for p in sham if "syndicated" in p.traps)
    return [*sham, *_plan_furat(FURAT_ARTICLES), *_plan_halab(HALAB_ARTICLES, original)]


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


# --- shared rendering helpers ---------------------------------------------------------------

def _e(text: str) -> str:
    return escape(text, quote=True)


def _html(document: str, charset: str = "utf-8") -> Resource:
    # Characters a legacy charset lacks (Eastern digits in windows-1256) become character
    # references, which is what such sites send.
    body = document.encode(charset, errors="xmlcharrefreplace")
    return Resource(200, {"Content-Type": f"text/html; charset={charset}"}, body)


def _xml(document: str, content_type: str = "application/xml") -> Resource:
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n' + document).encode("utf-8")
    return Resource(200, {"Content-Type": f"{content_type}; charset=utf-8"}, body)


def _paragraphs(article: DemoArticle) -> str:
    return "\n".join(f"<p>{_e(p)}</p>" for p in article.paragraphs)


def _excerpt(article: DemoArticle, words: int = 30) -> str:
    return " ".join(article.paragraphs[0].split()[:words]) + " …"


def _levantine(when: datetime, short: bool = False) -> str:
    month = _LEVANTINE_SHORT[when.month] if short else _LEVANTINE[when.month - 1]
    return f"{_WEEKDAYS[when.weekday()]} {when.day} {month} {when.year} - {when:%H:%M}"


def _egyptian(when: datetime) -> str:
    hour, half = when.hour % 12 or 12, "ص" if when.hour < 12 else "م"
    day = f"{_WEEKDAYS[when.weekday()]}، {when.day} {_EGYPTIAN[when.month - 1]} {when.year}"
    return f"{day} - {hour}:{when:%M} {half}"


def _first_per_article(pages: Iterable[DemoPage]) -> list[DemoPage]:
    seen: set[str] = set()
    first = []
    for page in pages:
        if page.article.key not in seen:
            seen.add(page.article.key)
            first.append(page)
    return first


_SHARE_TARGETS = (
    ("facebook", "فيسبوك", "Facebook", "https://www.facebook.com/sharer/sharer.php?u="),
    ("x", "إكس", "X", "https://x.com/intent/post?url="),
    ("whatsapp", "واتساب", "WhatsApp", "https://wa.me/?text="),
    ("telegram", "تلغرام", "Telegram", "https://t.me/share/url?url="),
)


def _share_links(url: str, css: str, language: str = "ar") -> str:
    target = quote(url, safe="")
    return " ".join(
        f'<a class="{css}{name}" href="{prefix}{target}" rel="nofollow noopener">'
        f"{arabic if language == 'ar' else latin}</a>"
        for name, arabic, latin, prefix in _SHARE_TARGETS
    )


# Reader comments on halab-online, all written for the demo. Their times are relative, as
# comment widgets print them, so no comment adds a date to a page.
_COMMENTS = (
    ("أبو سامر", "منذ ساعتين", "شكراً على التغطية، نتمنى متابعة الموضوع ونشر ما يستجد."),
    ("ريم من الشهباء", "منذ 5 ساعات", "الواقع في حيّنا مختلف تماماً، ليت المسؤولين يزوروننا."),
    ("محمود ع.", "منذ يوم", "خبر مفرح أخيراً، الله يعين الناس على هالظروف."),
    ("سلمى", "منذ يومين", "هل من رقم للتواصل مع الجهة المعنية؟ لم نجد أي معلومات في الخبر."),
    ("حلبي مغترب", "منذ 3 أيام", "اشتقنا لحلب وأهلها، الله يرجع أيامها الحلوة."),
    ("أم أحمد", "منذ أسبوع", "نرجو أن تشمل هذه الخطوات الأحياء الشرقية وليس وسط المدينة فقط."),
    ("وسيم", "منذ 4 ساعات", "التقرير متوازن ونقل آراء أكثر من طرف، يعطيكم العافية."),
)


def _stable_rank(article: DemoArticle) -> int:
    """A fixed pseudo-popularity: the same 'most read' list on every build and machine."""
    return zlib.crc32(article.key.encode("utf-8"))


# --- the three outlets ----------------------------------------------------------------------

class _Outlet(ABC):
    """What every outlet serves; subclasses supply the templates and the discovery documents."""

    source_id = ""
    robots_sitemap: str | None = None

    def __init__(self, port: int, pages: list[DemoPage]) -> None:
        self.name = SOURCE_NAMES[self.source_id]
        self.base = f"http://{DEMO_HOSTS[self.source_id]}:{port}"
        self.pages = pages
        self.stories = _first_per_article(pages)  # listings name a story once, whatever its URLs

    def url(self, path: str) -> str:
        return self.base + path

    def resources(self) -> dict[str, Resource]:
        robots = Resource(200, {"Content-Type": "text/plain; charset=utf-8"},
                          self.robots().encode("utf-8"))
        site = {"/robots.txt": robots, "/": _html(self.home())}
        for section in SECTIONS:
            site[self.section_path(section)] = _html(self.listing(section))
        for page in self.pages:
            site[page.path] = self.article(page)
        site.update(self.documents())
        return site

    def robots(self) -> str:
        lines = ["User-agent: *", "Disallow: /admin/", "Allow: /"]
        if self.robots_sitemap:
            lines += ["", f"Sitemap: {self.url(self.robots_sitemap)}"]
        return "\n".join(lines) + "\n"

    def in_section(self, section: str) -> list[DemoPage]:
        return [p for p in self.stories if p.article.section == section]

    def most_read(self, exclude: DemoPage | None = None, count: int = 5) -> list[DemoPage]:
        others = [p for p in self.stories if exclude is None or p.article != exclude.article]
        return sorted(others, key=lambda p: _stable_rank(p.article))[:count]

    def related(self, page: DemoPage, count: int = 3) -> list[DemoPage]:
        """The newest stories of the same section, then the newest of the others."""
        others = [p for p in self.stories if p.article != page.article]
        return sorted(others, key=lambda p: p.article.section != page.article.section)[:count]

    def links(self, pages: Iterable[DemoPage], css: str) -> str:
        return "\n".join(f'<li class="{css}"><a href="{self.url(p.path)}">{_e(p.title)}</a></li>'
                         for p in pages)

    def section_link(self, section: str, language: str = "ar") -> str:
        label = _SECTION_NAMES[language][section]
        return f'<a href="{self.url(self.section_path(section))}">{label}</a>'

    def documents(self) -> dict[str, Resource]:
        """Feeds and sitemaps, by path."""
        return {}

    @abstractmethod
    def section_path(self, section: str) -> str: ...

    @abstractmethod
    def home(self) -> str: ...

    @abstractmethod
    def listing(self, section: str) -> str: ...

    @abstractmethod
    def article(self, page: DemoPage) -> Resource: ...


class _Sham(_Outlet):
    """A WordPress theme: /archives/<id> permalinks, RSS 2.0 at /feed/, Levantine datelines."""

    source_id = "sham-today"
    tagline = "أخبار دمشق وسوريا على مدار الساعة"

    def section_path(self, section: str) -> str:
        return f"/category/{section}/"

    def document(self, title: str, main: str, body_class: str, head: str = "") -> str:
        nav = "\n".join(f'<li class="menu-item">{self.section_link(s)}</li>' for s in SECTIONS)
        return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<link rel="alternate" type="application/rss+xml" title="{self.name} - الخلاصة"
 href="{self.url('/feed/')}">
{head}
</head>
<body class="{body_class}">
<div id="page" class="site">
<header id="masthead" class="site-header">
<div class="site-branding">
<p class="site-title"><a href="{self.url('/')}" rel="home">{self.name}</a></p>
<p class="site-description">{self.tagline}</p>
</div>
<nav id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu">
<li class="menu-item current-menu-item"><a href="{self.url('/')}">الرئيسية</a></li>
{nav}
</ul></nav>
</header>
<main id="primary" class="site-main">
{main}
</main>
<footer id="colophon" class="site-footer">
<div class="site-info">© 2026 {self.name} — جميع الحقوق محفوظة</div>
</footer>
</div>
</body>
</html>
"""

    def cards(self, pages: Iterable[DemoPage]) -> str:
        return "\n".join(
            f'<article class="post-card"><h3 class="post-card__title">'
            f'<a href="{self.url(p.path)}">{_e(p.title)}</a></h3>'
            f'<span class="post-card__date">{_levantine(_dated(p))}</span>'
            f'<p class="post-card__excerpt">{_e(_excerpt(p.article))}</p></article>'
            for p in pages
        ) or '<p class="no-results">لا توجد مقالات في هذا القسم بعد.</p>'

    def share(self, url: str) -> str:
        return (f'<div class="sharedaddy sd-sharing"><span class="sd-title">شارك:</span> '
                f'{_share_links(url, "share-")}</div>')

    def home(self) -> str:
        main = f"""<section class="latest-news"><h2 class="section-title">آخر الأخبار</h2>
{self.cards(self.stories[:10])}
</section>
<aside class="widget widget-most-read"><h2 class="widget-title">الأكثر قراءة</h2><ol>
{self.links(self.most_read(), "most-read-item")}
</ol></aside>
{self.share(self.url('/'))}"""
        return self.document(f"{self.name} – {self.tagline}", main, "home blog")

    def listing(self, section: str) -> str:
        label = _SECTION_NAMES["ar"][section]
        main = f"""<header class="page-header"><h1 class="page-title">{label}</h1></header>
{self.cards(self.in_section(section))}"""
        return self.document(f"{label} – {self.name}", main, "archive category")

    def article(self, page: DemoPage) -> Resource:
        article, when, url = page.article, _dated(page), self.url(page.path)
        dateline = _levantine(when, short=page.dateline == "levantine-short")
        head = (f'<link rel="canonical" href="{url}">\n'
                f'<meta property="og:type" content="article">\n'
                f'<meta property="og:title" content="{_e(page.title)}">\n'
                f'<meta property="og:url" content="{url}">')
        if "levantine_dateline" in page.traps:  # the visible dateline is the only date
            stamp = f'<span class="entry-date">{dateline}</span>'
        else:
            head += f'\n<meta property="article:published_time" content="{when.isoformat()}">'
            stamp = (f'<time class="entry-date published" datetime="{when.isoformat()}">'
                     f"{dateline}</time>")
        byline = (f' <span class="byline">بقلم <span class="author vcard">{_e(article.author)}'
                  "</span></span>") if article.author else ""
        content = _paragraphs(article)
        if "body_twice" in page.traps:  # the theme's print view, left visible in the container
            content += f'\n<div class="print-version">{_e(" ".join(article.paragraphs))}</div>'
        tags = "، ".join(f'<span class="tag">{_e(t)}</span>' for t in article.tags)
        main = f"""<nav class="breadcrumbs"><a href="{self.url('/')}">الرئيسية</a> »
{self.section_link(article.section)} » <span>{_e(page.title)}</span></nav>
<article id="post-{article.key}" class="post type-post status-publish format-standard">
<header class="entry-header">
<h1 class="entry-title">{_e(page.title)}</h1>
<div class="entry-meta"><span class="posted-on">{stamp}</span>{byline}</div>
</header>
<div class="entry-content">
{content}
</div>
<footer class="entry-footer"><span class="tags-links">الوسوم: {tags}</span></footer>
</article>
{self.share(url)}
<section class="related-posts"><h3 class="related-title">اقرأ أيضاً</h3><ul>
{self.links(self.related(page), "related-item")}
</ul></section>"""
        body_class = "post-template-default single single-post"
        return _html(self.document(f"{page.title} – {self.name}", main, body_class, head))

    def documents(self) -> dict[str, Resource]:
        return {"/feed/": _xml(self.feed(), "application/rss+xml")}

    def feed(self) -> str:
        entries = [(_dated(p), self.story_item(p)) for p in self.stories]
        # A post deleted after the feed was generated: its link now answers 404.
        gone = datetime.fromisoformat("2026-10-01T10:20:00+03:00")
        entries.append((gone, self.item(
            MISSING_PATH, "جولة ميدانية على مشاريع الطاقة الشمسية في ريف دمشق", gone, None,
            "local", "تفقد وفد من المحافظة عدداً من مشاريع الطاقة الشمسية في بلدات الريف …")))
        entries.sort(key=lambda entry: entry[0], reverse=True)
        items = "\n".join(item for _, item in entries)
        return f"""<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{self.name}</title>
<atom:link href="{self.url('/feed/')}" rel="self" type="application/rss+xml"/>
<link>{self.url('/')}</link>
<description>{self.tagline}</description>
<lastBuildDate>{format_datetime(entries[0][0])}</lastBuildDate>
<language>ar</language>
{items}
</channel>
</rss>
"""

    def story_item(self, page: DemoPage) -> str:
        # Pages whose only date is the dateline get no pubDate, or the feed would date them.
        when = None if "levantine_dateline" in page.traps else page.published
        article = page.article
        return self.item(page.path, article.title, when, article.author, article.section,
                         _excerpt(article))

    def item(self, path: str, title: str, when: datetime | None, author: str | None,
             section: str, excerpt: str) -> str:
        lines = [f"<title>{_e(title)}</title>", f"<link>{self.url(path)}</link>",
                 f'<guid isPermaLink="true">{self.url(path)}</guid>']
        if when:
            lines.append(f"<pubDate>{format_datetime(when)}</pubDate>")
        if author:
            lines.append(f"<dc:creator>{_e(author)}</dc:creator>")
        lines += [f"<category>{_SECTION_NAMES['ar'][section]}</category>",
                  f"<description>{_e(excerpt)}</description>"]
        return "<item>\n" + "\n".join(lines) + "\n</item>"


_FURAT_WORDS = {
    "ar": {"site": "الفرات بوست", "tagline": "أخبار وادي الفرات والجزيرة السورية",
           "home": "الرئيسية", "by": "كتب:", "tags": "الوسوم:", "related": "اقرأ أيضاً",
           "share": "شارك:", "rights": "جميع الحقوق محفوظة", "sitemap": "خريطة الموقع"},
    "en": {"site": "Al-Furat Post",
           "tagline": "News from the Euphrates valley and Syria's northeast",
           "home": "Home", "by": "By", "tags": "Tags:", "related": "Read also",
           "share": "Share:", "rights": "All rights reserved", "sitemap": "Sitemap"},
}


class _Furat(_Outlet):
    """A news CMS: dated .html paths, a sitemap index with a gzipped news sitemap, Atom, JSON-LD."""

    source_id = "furat-post"
    robots_sitemap = "/sitemap.xml"

    def section_path(self, section: str) -> str:
        return f"/topics/{section}/"

    def announced(self) -> list[DemoPage]:
        """Pages in the feed and the news sitemap; the dateline-only ones are left out."""
        return [p for p in self.pages if "eastern_digits_dateline" not in p.traps]

    def document(self, language: str, title: str, content: str, head: str = "",
                 charset: str = "utf-8") -> str:
        words = _FURAT_WORDS[language]
        nav = " ".join(f"<li>{self.section_link(s, language)}</li>" for s in SECTIONS)
        direction = "rtl" if language == "ar" else "ltr"
        return f"""<!DOCTYPE html>
<html lang="{language}" dir="{direction}">
<head>
<meta charset="{charset}">
<title>{_e(title)} | {words['site']}</title>
<link rel="alternate" type="application/atom+xml" href="{self.url('/atom.xml')}">
{head}
</head>
<body class="fp">
<div class="fp-topbar"><span class="fp-topbar__tagline">{_e(words['tagline'])}</span></div>
<header class="fp-header"><a class="fp-logo" href="{self.url('/')}">{words['site']}</a>
<ul class="fp-nav"><li><a href="{self.url('/')}">{words['home']}</a></li> {nav}</ul></header>
{content}
<footer class="fp-footer"><p>© 2026 {words['site']} — {words['rights']}</p>
<p class="fp-footer__links"><a href="{self.url('/atom.xml')}">Atom</a> ·
<a href="{self.url('/sitemap.xml')}">{words['sitemap']}</a></p></footer>
</body>
</html>
"""

    def dateline(self, page: DemoPage) -> str:
        when = _dated(page)
        if page.dateline == "english":
            return f"{when.day} {_ENGLISH[when.month - 1]} {when.year}, {when:%H:%M}"
        if page.dateline == "eastern-numeric":
            return f"{when:%Y/%m/%d %H:%M}".translate(_EASTERN_DIGITS)
        words = f"{when.day} {_LEVANTINE[when.month - 1]} {when.year} - {when:%H:%M}"
        return words.translate(_EASTERN_DIGITS)

    def teasers(self, pages: Iterable[DemoPage]) -> str:
        return "\n".join(
            f'<div class="fp-teaser"><a class="fp-teaser__link" href="{self.url(p.path)}">'
            f'{_e(p.title)}</a> <span class="fp-teaser__date">{self.dateline(p)}</span></div>'
            for p in pages
        ) or '<p class="fp-empty">لا توجد أخبار في هذا القسم حالياً.</p>'

    def home(self) -> str:
        content = f"""<div class="fp-home">
<section class="fp-latest"><h2>آخر الأخبار</h2>
{self.teasers(self.stories[:10])}
</section>
<aside class="fp-mostread"><h2>الأكثر قراءة</h2>
<ol>{self.links(self.most_read(), "fp-mostread__item")}</ol></aside>
<div class="fp-share">شارك: {_share_links(self.url('/'), "fp-share__")}</div>
</div>"""
        return self.document("ar", "الصفحة الرئيسية", content)

    def listing(self, section: str) -> str:
        label = _SECTION_NAMES["ar"][section]
        items = self.teasers(self.in_section(section))
        return self.document("ar", label, f'<div class="fp-topic"><h1>{label}</h1>\n{items}</div>')

    def jsonld(self, page: DemoPage, url: str) -> str:
        when = _dated(page).isoformat()
        author = page.article.author
        data = {
            "@context": "https://schema.org", "@type": "NewsArticle", "headline": page.title,
            "datePublished": when, "dateModified": when, "inLanguage": page.language,
            "mainEntityOfPage": url,
            "articleSection": _SECTION_NAMES[page.language][page.article.section],
            "author": ({"@type": "Person", "name": author} if author
                       else {"@type": "Organization", "name": self.name}),
            "publisher": {"@type": "Organization", "name": self.name},
        }
        text = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
        return f'<script type="application/ld+json">{text}</script>'

    def article(self, page: DemoPage) -> Resource:
        article, url, words = page.article, self.url(page.path), _FURAT_WORDS[page.language]
        charset = "windows-1256" if "windows_1256" in page.traps else "utf-8"
        head = (f'<meta name="description" content="{_e(_excerpt(article))}">\n'
                f'<link rel="canonical" href="{url}">')
        if "eastern_digits_dateline" not in page.traps:
            head += "\n" + self.jsonld(page, url)
        author = (f'<span class="fp-story__author">{words["by"]} {_e(article.author)}</span>'
                  if article.author else "")
        tags = " ".join(f'<span class="fp-tag">{_e(t)}</span>' for t in article.tags)
        content = f"""<div class="fp-crumbs"><a href="{self.url('/')}">{words['home']}</a> /
{self.section_link(article.section, page.language)}</div>
<div class="fp-story">
<h1 class="fp-story__title">{_e(page.title)}</h1>
<div class="fp-story__meta"><span class="fp-story__date">{self.dateline(page)}</span> {author}</div>
<div class="fp-story__body">
{_paragraphs(article)}
</div>
<div class="fp-story__tags">{words['tags']} {tags}</div>
<div class="fp-share">{words['share']} {_share_links(url, "fp-share__", page.language)}</div>
</div>
<aside class="fp-related"><h4>{words['related']}</h4>
<ul>{self.links(self.related(page), "fp-related__item")}</ul></aside>"""
        return _html(self.document(page.language, page.title, content, head, charset), charset)

    def documents(self) -> dict[str, Resource]:
        news = _xml(self.news_sitemap()).body
        return {
            "/atom.xml": _xml(self.atom(), "application/atom+xml"),
            "/sitemap.xml": _xml(self.sitemap_index()),
            # mtime=0: gzip would otherwise stamp the current time into the header.
            "/sitemap-news.xml.gz": Resource(200, {"Content-Type": "application/gzip"},
                                             gzip.compress(news, mtime=0)),
            "/sitemap-pages.xml": _xml(self.pages_sitemap()),
        }

    def sitemap_index(self) -> str:
        newest = _dated(self.announced()[0]).isoformat()
        return f"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{self.url('/sitemap-news.xml.gz')}</loc><lastmod>{newest}</lastmod></sitemap>
<sitemap><loc>{self.url('/sitemap-pages.xml')}</loc></sitemap>
</sitemapindex>
"""

    def news_sitemap(self) -> str:
        entries = "\n".join(f"""<url><loc>{self.url(p.path)}</loc><news:news>
<news:publication><news:name>{self.name}</news:name><news:language>{p.language}</news:language>
</news:publication>
<news:publication_date>{_dated(p).isoformat()}</news:publication_date>
<news:title>{_e(p.title)}</news:title>
</news:news></url>""" for p in self.announced())
        return f"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{entries}
</urlset>
"""

    def pages_sitemap(self) -> str:
        # lastmod is the last edit, a few hours after publication: never a publication date.
        entries = "\n".join(
            f"<url><loc>{self.url(p.path)}</loc>"
            f"<lastmod>{(_dated(p) + timedelta(hours=6)).isoformat()}</lastmod></url>"
            for p in self.pages if "eastern_digits_dateline" in p.traps
        )
        return f"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{entries}
</urlset>
"""

    def atom(self) -> str:
        entries = "\n".join(self.atom_entry(p) for p in self.announced())
        return f"""<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ar">
<title>{self.name}</title>
<subtitle>{_FURAT_WORDS['ar']['tagline']}</subtitle>
<id>{self.url('/')}</id>
<link rel="alternate" href="{self.url('/')}"/>
<link rel="self" href="{self.url('/atom.xml')}"/>
<updated>{_dated(self.announced()[0]).isoformat()}</updated>
<author><name>{self.name}</name></author>
{entries}
</feed>
"""

    def atom_entry(self, page: DemoPage) -> str:
        when = _dated(page).isoformat()
        author = page.article.author
        credit = f"<author><name>{_e(author)}</name></author>\n" if author else ""
        return f"""<entry>
<title>{_e(page.title)}</title>
<link rel="alternate" href="{self.url(page.path)}"/>
<id>{self.url(page.path)}</id>
<published>{when}</published>
<updated>{when}</updated>
{credit}<category term="{page.article.section}"/>
<summary>{_e(_excerpt(page.article))}</summary>
</entry>"""


class _Halab(_Outlet):
    """A hand-built site: no feed, no sitemap; home and section pages link every article."""

    source_id = "halab-online"

    def section_path(self, section: str) -> str:
        return f"/section/{section}/"

    def document(self, title: str, main: str, most_read: Iterable[DemoPage]) -> str:
        nav = "\n".join(f'<span class="hl-menu__link">{self.section_link(s)}</span>'
                        for s in SECTIONS)
        return f"""<!DOCTYPE html>
<html dir="rtl" lang="ar">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<title>{self.name} | {_e(title)}</title>
<meta property="og:site_name" content="{self.name}">
</head>
<body class="hl-body">
<div id="hl-top">
<div class="hl-brand"><a href="{self.url('/')}">{self.name}</a> <small>عين على حلب</small></div>
<div id="hl-menu"><span class="hl-menu__link"><a href="{self.url('/')}">الرئيسية</a></span>
{nav}</div>
</div>
<div class="hl-wrap">
<div class="hl-main">
{main}
</div>
<div class="hl-side">
<div class="hl-box hl-most-read"><div class="hl-box__title">الأكثر قراءة</div><ol>
{self.links(most_read, "hl-most-read__item")}
</ol></div>
</div>
</div>
<div class="hl-foot"><p>© 2026 {self.name} — جميع الحقوق محفوظة</p></div>
</body>
</html>
"""

    def headlines(self, pages: Iterable[DemoPage]) -> str:
        rows = []
        for page in pages:
            when = page.published
            stamp = f' <span class="hl-item__when">{_egyptian(when)}</span>' if when else ""
            rows.append(f'<div class="hl-item"><a class="hl-item__title" '
                        f'href="{self.url(page.path)}">{_e(page.title)}</a>{stamp}</div>')
        return "\n".join(rows) or '<p class="hl-empty">لا توجد مواد منشورة في هذا القسم.</p>'

    def share(self, url: str) -> str:
        return f'<div class="hl-share"><b>شارك:</b> {_share_links(url, "hl-share--")}</div>'

    def home(self) -> str:
        main = f"""<h2 class="hl-heading">آخر الأخبار</h2>
{self.headlines(self.stories[:12])}
{self.share(self.url('/'))}"""
        return self.document("الرئيسية", main, self.most_read())

    def listing(self, section: str) -> str:
        label = _SECTION_NAMES["ar"][section]
        main = f"""<ol class="hl-path"><li><a href="{self.url('/')}">الرئيسية</a></li>
<li>{label}</li></ol>
<h1 class="hl-heading">{label}</h1>
{self.headlines(self.in_section(section))}"""
        return self.document(label, main, self.most_read())

    def comments(self, page: DemoPage) -> str:
        start = _stable_rank(page.article)
        count = 2 + start % 2
        shown = "\n".join(
            f'<li class="hl-comment"><div class="hl-comment__who">{name} '
            f'<span class="hl-comment__ago">{ago}</span></div>'
            f'<div class="hl-comment__text">{text}</div></li>'
            for name, ago, text in (_COMMENTS[(start + i) % len(_COMMENTS)] for i in range(count))
        )
        return f"""<div id="comments" class="hl-comments">
<h3>التعليقات ({count})</h3>
<ul class="hl-comment-list">
{shown}
</ul>
<form id="commentform" class="hl-comment-form" action="{self.url('/comments/post')}" method="post">
<h3>أضف تعليق</h3>
<p class="hl-comment-form__note">لن يُنشر بريدك الإلكتروني. الحقول المطلوبة مشار إليها بـ *</p>
<p><label for="author">الاسم *</label> <input id="author" name="author" type="text" required></p>
<p><label for="email">البريد الإلكتروني *</label>
<input id="email" name="email" type="email" required></p>
<p><label for="comment">التعليق *</label>
<textarea id="comment" name="comment" rows="5" required></textarea></p>
<p><input type="hidden" name="article" value="{_e(page.article.key)}">
<button type="submit">إرسال التعليق</button></p>
</form>
</div>"""

    def article(self, page: DemoPage) -> Resource:
        article, when = page.article, page.published
        stamp = f'<p class="hl-when">{_egyptian(when)}</p>\n' if when else ""
        tags = " ".join(f'<span class="hl-tag">#{_e(t)}</span>' for t in article.tags)
        main = f"""<ol class="hl-path"><li><a href="{self.url('/')}">الرئيسية</a></li>
<li>{self.section_link(article.section)}</li></ol>
<h1 class="hl-headline">{_e(page.title)}</h1>
{stamp}<p class="hl-writer">بقلم: {_e(article.author or "فريق حلب أونلاين")}</p>
<div class="hl-text">
{_paragraphs(article)}
</div>
<p class="hl-tags">الوسوم: {tags}</p>
{self.share(self.url(page.path))}
<div class="hl-also"><b>اقرأ أيضاً</b>
<ul>{self.links(self.related(page), "hl-also__item")}</ul></div>
{self.comments(page)}"""
        return _html(self.document(page.title, main, self.most_read(page)))


_OUTLETS: tuple[type[_Outlet], ...] = (_Sham, _Furat, _Halab)


def build_site(port: int) -> dict[str, dict[str, Resource]]:
    """Every response of the demo site, by netloc ("127.0.0.11:8471") and then path."""
    site = {}
    for outlet in _OUTLETS:
        pages = [p for p in PAGES if p.source_id == outlet.source_id]
        site[f"{DEMO_HOSTS[outlet.source_id]}:{port}"] = outlet(port, pages).resources()
    return site
