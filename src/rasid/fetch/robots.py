"""robots.txt per RFC 9309: each origin's rules, read once per run and shared between threads.

Parsing is protego's (wildcards, ``$``, the longest match wins, the group of our product
token). What a failed read means follows the RFC: a 4xx (or too many redirects) is "no
robots.txt", so nothing is restricted; a 5xx or an unreachable server means the site may be in
trouble, so nothing is fetched from that origin in this run.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from protego import Protego

ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309 §2.5: parse at least the first 500 KiB
ROBOTS_MAX_REDIRECTS = 5  # RFC 9309 §2.3.1.2: follow at least five
_PRODUCT_TOKEN = re.compile(r"[A-Za-z_-]+")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def product_token(user_agent: str) -> str:
    """The name robots.txt groups are matched against: "rasid" in "rasid/0.1 (+https://…)"."""
    match = _PRODUCT_TOKEN.match(user_agent.strip())
    return match.group(0) if match else user_agent


@dataclass(frozen=True)
class Rules:
    """What one origin's robots.txt says. ``unreachable`` is set (to why) when it could not be
    read and so nothing may be fetched; ``parser`` is None when nothing is restricted."""

    robots_url: str
    parser: Protego | None = None
    unreachable: str | None = None

    def allows(self, url: str, user_agent: str) -> bool:
        if self.unreachable is not None:
            return False
        return self.parser is None or self.parser.can_fetch(url, product_token(user_agent))

    def crawl_delay(self, user_agent: str) -> float | None:
        return self.parser.crawl_delay(product_token(user_agent)) if self.parser else None

    def sitemaps(self) -> list[str]:
        """The absolute URLs of the ``Sitemap:`` lines, in order, each once."""
        if self.parser is None:
            return []
        found = (urljoin(self.robots_url, url.strip()) for url in self.parser.sitemaps)
        return list(dict.fromkeys(url for url in found if url.startswith(("http://", "https://"))))


def parsed(robots_url: str, content: bytes) -> Rules:
    # RFC 9309 §2.3: UTF-8; a byte that is not is no reason to ignore the rest of the file.
    text = content.decode("utf-8", "replace").lstrip("\ufeff")
    return Rules(robots_url, Protego.parse(text))


def unrestricted(robots_url: str) -> Rules:
    return Rules(robots_url)


def unreachable(robots_url: str, why: str) -> Rules:
    return Rules(robots_url, unreachable=why)


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    rules: Rules | None = None


class RobotsCache:
    """Each origin's rules, loaded once: other threads asking meanwhile wait for the result."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def rules(self, url: str, load: Callable[[str], Rules]) -> Rules:
        """The rules for ``url``'s origin; ``load(origin)`` reads them the first time."""
        origin = origin_of(url)
        with self._lock:
            entry = self._entries.setdefault(origin, _Entry())
        with entry.lock:
            if entry.rules is None:
                entry.rules = load(origin)
            return entry.rules
