"""The demo site's articles as data: one YAML file per outlet under articles/, one entry per
article; site.py renders them into each outlet's page shapes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml


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
    # The problem its page carries, one of the outlet's (rasid.demo.plan.OUTLET_TRAPS).
    trap: str | None = None
    # furat-post only: how the visible dateline is printed, "eastern-words" or "eastern-numeric".
    dateline: str | None = None

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> DemoArticle:
        # A misspelt field fails here, by name, rather than leaving a default in place.
        return cls(
            **{
                **entry,
                "paragraphs": tuple(entry["paragraphs"]),
                "tags": tuple(entry.get("tags", ())),
            }
        )


@cache
def articles(source_id: str) -> tuple[DemoArticle, ...]:
    """The articles of one outlet, from articles/<source_id>.yaml, in file order."""
    text = files("rasid.demo").joinpath(f"articles/{source_id}.yaml").read_text(encoding="utf-8")
    return tuple(DemoArticle.from_entry(entry) for entry in yaml.safe_load(text))
