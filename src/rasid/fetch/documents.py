"""A source's feeds and sitemaps as discovery asks for them: conditionally, with the
validators an earlier run saw, and noting what each answer says for the next run."""

from __future__ import annotations

from collections.abc import Mapping

from rasid.config import Source
from rasid.fetch.http import Fetcher
from rasid.models import Validator

# Only these are asked conditionally next time. A sitemap index is always read in full: on a
# 304 its children would be unknown, and they change while the index often does not.
CONDITIONAL_KINDS = frozenset({"feed", "sitemap"})


class SiteDocuments:
    """``get`` and ``robots_sitemaps`` for ``rasid.discover.discover``, over one fetcher."""

    def __init__(self, fetcher: Fetcher, source: Source,
                 known: Mapping[str, Validator] | None = None) -> None:
        self._fetcher = fetcher
        self._source = source
        self._known = dict(known or {})
        self._answered: dict[str, Validator] = {}
        self._unchanged: set[str] = set()

    def get(self, url: str) -> bytes | None:
        """The body, or None when the document has not changed since ``known`` was seen."""
        document = self._fetcher.fetch_conditional(url, self._source, self._known.get(url))
        self._answered[url] = document.validator
        if document.content is None:
            self._unchanged.add(url)
        return document.content

    def robots_sitemaps(self) -> list[str]:
        return self._fetcher.robots(self._source.homepage, self._source).sitemaps()

    def validators(self, kinds: Mapping[str, str]) -> dict[str, Validator]:
        """What the next run should send, per URL: the validators of the feeds and sitemaps
        read (or unchanged) now; an empty one to forget a validator no longer wanted."""
        keep: dict[str, Validator] = {}
        for url, validator in self._answered.items():
            wanted = url in self._unchanged or kinds.get(url) in CONDITIONAL_KINDS
            if wanted and validator:
                keep[url] = validator
            elif url in self._known:
                keep[url] = Validator()
        return keep
