"""The bundled demo news site: three Arabic outlets rendered from data, traps included.

Each outlet has its own page shapes, as real sites do: a WordPress-like site with an RSS feed
(``sham-today``), a site with a gzipped Google News sitemap and an Atom feed (``furat-post``)
and one with neither, found only through its homepage and section pages (``halab-online``).
The articles are YAML files (``articles/``), which article carries which trap is ``plan.py``,
and the pages are the autoescaping Jinja2 templates under ``templates/<outlet>/``; the classes
here hand each template its outlet's listings. Rendering is a pure function of the port: no
clock, no randomness, the same bytes on every call.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from rasid.demo import render, words
from rasid.demo.content import DemoArticle
from rasid.demo.plan import (
    DEMO_HOSTS,
    DEMO_PORT,
    MISSING_PATH,
    PAGES,
    SOURCE_NAMES,
    TRAPS,
    DemoPage,
    dated,
)

__all__ = [
    "DEMO_HOSTS",
    "DEMO_PORT",
    "PAGES",
    "SOURCE_NAMES",
    "TRAPS",
    "DemoPage",
    "Resource",
    "build_site",
]


@dataclass(frozen=True)
class Resource:
    """One HTTP response of the demo site."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class FeedItem:
    """One entry of sham-today's RSS feed."""

    title: str
    path: str
    when: datetime | None
    author: str | None
    section: str
    excerpt: str


def excerpt(article: DemoArticle, count: int = 30) -> str:
    return " ".join(article.paragraphs[0].split()[:count]) + " …"


@cache
def environment() -> Environment:
    """The demo's templates (templates/<outlet>/) with the outlets' words and datelines."""
    env = render.environment(PackageLoader("rasid.demo", "templates"))
    env.filters.update(
        dated=dated,
        excerpt=excerpt,
        levantine=words.levantine,
        egyptian=words.egyptian,
        furat_dateline=lambda page: words.furat(dated(page), page.dateline),
        quote_all=lambda text: quote(text, safe=""),
    )
    env.globals.update(
        sections=words.SECTIONS,
        section_names=words.SECTION_NAMES,
        share_targets=words.SHARE_TARGETS,
        furat_words=words.FURAT,
    )
    return env


def _html(document: str, charset: str = "utf-8") -> Resource:
    # Characters a legacy charset lacks (Eastern digits in windows-1256) become character
    # references, which is what such sites send.
    body = document.encode(charset, errors="xmlcharrefreplace")
    return Resource(200, {"Content-Type": f"text/html; charset={charset}"}, body)


def _xml(document: str, content_type: str = "application/xml") -> Resource:
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n' + document).encode("utf-8")
    return Resource(200, {"Content-Type": f"{content_type}; charset=utf-8"}, body)


def _first_per_article(pages: Iterable[DemoPage]) -> list[DemoPage]:
    seen: set[str] = set()
    first = []
    for page in pages:
        if page.article.key not in seen:
            seen.add(page.article.key)
            first.append(page)
    return first


def _stable_rank(article: DemoArticle) -> int:
    """A fixed pseudo-popularity: the same 'most read' list on every build and machine."""
    return zlib.crc32(article.key.encode("utf-8"))


class _Outlet:
    """What every outlet serves: robots.txt, home, section pages and articles from its
    templates, and its feeds and sitemaps (``documents``)."""

    source_id = ""
    robots_sitemap: str | None = None
    section_root = ""  # section pages are <section_root><section>/

    def __init__(self, port: int, pages: list[DemoPage]) -> None:
        self.name = SOURCE_NAMES[self.source_id]
        self.base = f"http://{DEMO_HOSTS[self.source_id]}:{port}"
        self.pages = pages
        self.stories = _first_per_article(pages)  # listings name a story once, whatever its URLs

    def url(self, path: str) -> str:
        return self.base + path

    def section_path(self, section: str) -> str:
        return f"{self.section_root}{section}/"

    def render(self, template: str, **context: Any) -> str:
        name = f"{self.source_id}/{template}"
        return environment().get_template(name).render(outlet=self, **context)

    def resources(self) -> dict[str, Resource]:
        robots = Resource(
            200, {"Content-Type": "text/plain; charset=utf-8"}, self.robots().encode("utf-8")
        )
        site = {"/robots.txt": robots, "/": _html(self.render("home.html.j2"))}
        for section in words.SECTIONS:
            site[self.section_path(section)] = _html(
                self.render("listing.html.j2", section=section)
            )
        for page in self.pages:
            site[page.path] = self.article(page)
        site.update(self.documents())
        return site

    def robots(self) -> str:
        lines = ["User-agent: *", "Disallow: /admin/", "Allow: /"]
        if self.robots_sitemap:
            lines += ["", f"Sitemap: {self.url(self.robots_sitemap)}"]
        return "\n".join(lines) + "\n"

    def article(self, page: DemoPage) -> Resource:
        return _html(self.render("article.html.j2", page=page))

    def in_section(self, section: str) -> list[DemoPage]:
        return [p for p in self.stories if p.article.section == section]

    def most_read(self, exclude: DemoPage | None = None, count: int = 5) -> list[DemoPage]:
        others = [p for p in self.stories if exclude is None or p.article != exclude.article]
        return sorted(others, key=lambda p: _stable_rank(p.article))[:count]

    def related(self, page: DemoPage, count: int = 3) -> list[DemoPage]:
        """The newest stories of the same section, then the newest of the others."""
        others = [p for p in self.stories if p.article != page.article]
        return sorted(others, key=lambda p: p.article.section != page.article.section)[:count]

    def documents(self) -> dict[str, Resource]:
        """Feeds and sitemaps, by path."""
        return {}


class _Sham(_Outlet):
    """A WordPress theme: /archives/<id> permalinks, RSS 2.0 at /feed/, Levantine datelines."""

    source_id = "sham-today"
    section_root = "/category/"
    tagline = "أخبار دمشق وسوريا على مدار الساعة"

    def documents(self) -> dict[str, Resource]:
        entries = [(dated(p), self.story_item(p)) for p in self.stories]
        # A post deleted after the feed was generated: its link now answers 404.
        gone = datetime.fromisoformat("2026-10-01T10:20:00+03:00")
        entries.append(
            (
                gone,
                FeedItem(
                    "جولة ميدانية على مشاريع الطاقة الشمسية في ريف دمشق",
                    MISSING_PATH,
                    gone,
                    None,
                    "local",
                    "تفقد وفد من المحافظة عدداً من مشاريع الطاقة الشمسية في بلدات الريف …",
                ),
            )
        )
        entries.sort(key=lambda entry: entry[0], reverse=True)
        feed = self.render("feed.xml.j2", items=[item for _, item in entries], built=entries[0][0])
        return {"/feed/": _xml(feed, "application/rss+xml")}

    def story_item(self, page: DemoPage) -> FeedItem:
        # Pages whose only date is the dateline get no pubDate, or the feed would date them.
        when = None if "levantine_dateline" in page.traps else page.published
        article = page.article
        return FeedItem(
            article.title, page.path, when, article.author, article.section, excerpt(article)
        )


class _Furat(_Outlet):
    """A news CMS: dated .html paths, a sitemap index with a gzipped news sitemap, Atom, JSON-LD."""

    source_id = "furat-post"
    section_root = "/topics/"
    robots_sitemap = "/sitemap.xml"

    def announced(self) -> list[DemoPage]:
        """Pages in the feed and the news sitemap; the dateline-only ones are left out."""
        return [p for p in self.pages if "eastern_digits_dateline" not in p.traps]

    def jsonld(self, page: DemoPage, url: str) -> Markup:
        when = dated(page).isoformat()
        author = page.article.author
        data = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": page.title,
            "datePublished": when,
            "dateModified": when,
            "inLanguage": page.language,
            "mainEntityOfPage": url,
            "articleSection": words.SECTION_NAMES[page.language][page.article.section],
            "author": (
                {"@type": "Person", "name": author}
                if author
                else {"@type": "Organization", "name": self.name}
            ),
            "publisher": {"@type": "Organization", "name": self.name},
        }
        # JSON, not HTML: only "</" could end the script element early.
        text = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
        return Markup('<script type="application/ld+json">{}</script>').format(Markup(text))

    def article(self, page: DemoPage) -> Resource:
        charset = "windows-1256" if "windows_1256" in page.traps else "utf-8"
        return _html(self.render("article.html.j2", page=page, charset=charset), charset)

    def documents(self) -> dict[str, Resource]:
        announced = self.announced()
        news = _xml(self.render("sitemap-news.xml.j2", pages=announced)).body
        edited = [
            (p.path, dated(p) + timedelta(hours=6))
            for p in self.pages
            if "eastern_digits_dateline" in p.traps
        ]
        return {
            "/atom.xml": _xml(self.render("atom.xml.j2", pages=announced), "application/atom+xml"),
            "/sitemap.xml": _xml(self.render("sitemap-index.xml.j2", pages=announced)),
            # mtime=0: gzip would otherwise stamp the current time into the header.
            "/sitemap-news.xml.gz": Resource(
                200, {"Content-Type": "application/gzip"}, gzip.compress(news, mtime=0)
            ),
            "/sitemap-pages.xml": _xml(self.render("sitemap-pages.xml.j2", entries=edited)),
        }


class _Halab(_Outlet):
    """A hand-built site: no feed, no sitemap; home and section pages link every article."""

    source_id = "halab-online"
    section_root = "/section/"

    def comments(self, page: DemoPage) -> list[tuple[str, str, str]]:
        """Two or three reader comments, the same ones for a page on every build."""
        start = _stable_rank(page.article)
        pool = words.COMMENTS
        return [pool[(start + i) % len(pool)] for i in range(2 + start % 2)]


_OUTLETS: tuple[type[_Outlet], ...] = (_Sham, _Furat, _Halab)


def build_site(port: int) -> dict[str, dict[str, Resource]]:
    """Every response of the demo site, by netloc ("127.0.0.11:8471") and then path."""
    site = {}
    for outlet in _OUTLETS:
        pages = [p for p in PAGES if p.source_id == outlet.source_id]
        site[f"{DEMO_HOSTS[outlet.source_id]}:{port}"] = outlet(port, pages).resources()
    return site
