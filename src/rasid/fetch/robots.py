"""robots.txt: the rules of each origin, fetched once per run and shared between threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

ROBOTS_MAX_BYTES = 512 * 1024  # Google reads the first 500 KiB of a robots.txt; so do we


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def parsed(robots_url: str, content: bytes) -> RobotFileParser:
    rules = RobotFileParser(robots_url)
    rules.parse(content.decode("utf-8", "replace").splitlines())
    return rules


def unavailable(robots_url: str, status: int | None) -> RobotFileParser:
    """The rules of an origin whose robots.txt could not be read. As urllib.robotparser does:
    a 401/403 means "keep out"; anything else missing or broken means no rules were published."""
    rules = RobotFileParser(robots_url)
    rules.disallow_all = status in (401, 403)
    rules.allow_all = not rules.disallow_all
    return rules


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    rules: RobotFileParser | None = None


class RobotsCache:
    """Each origin's rules, loaded once: other threads asking meanwhile wait for the result."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def rules(self, url: str, load: Callable[[str], RobotFileParser]) -> RobotFileParser:
        """The rules for ``url``'s origin; ``load(origin)`` reads them the first time."""
        origin = origin_of(url)
        with self._lock:
            entry = self._entries.setdefault(origin, _Entry())
        with entry.lock:
            if entry.rules is None:
                entry.rules = load(origin)
            return entry.rules
