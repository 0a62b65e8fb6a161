"""The demo site's articles as data; site.py renders them into each source's page shapes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoArticle:
    """One article of the bundled demo news site (all text written for rasid)."""

    key: str  # unique within its source: the numeric id or ASCII slug used in its URL
    title: str
    paragraphs: tuple[str, ...]
    published: str | None  # ISO 8601 with the site's offset, e.g. "2026-11-16T09:30:00+03:00"
    author: str | None = None
    section: str = "local"  # politics | economy | local | sport | culture
    tags: tuple[str, ...] = ()
    language: str = "ar"
