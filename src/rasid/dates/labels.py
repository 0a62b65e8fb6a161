"""The label table (labels.yaml): publication and update labels, weekdays and month names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from rasid.text import normalize_arabic


@dataclass(frozen=True)
class Labels:
    """labels.yaml, every entry already passed through ``normalize_arabic``."""

    published: tuple[str, ...]
    updated: tuple[str, ...]
    joiners: tuple[str, ...]
    weekdays: tuple[str, ...]
    months: dict[str, int]  # Gregorian month names of every language, -> 1..12
    solar_hijri: dict[str, int]


def _flat(by_language: dict[str, list[str]]) -> tuple[str, ...]:
    return tuple(sorted({normalize_arabic(word) for words in by_language.values()
                         for word in words}))


def _numbered(months: list[str]) -> dict[str, int]:
    if len(months) != 12:
        raise ValueError(f"a month list has {len(months)} entries, not 12: {months}")
    return {normalize_arabic(name): number for number, spellings in enumerate(months, 1)
            for name in spellings.split("|")}


def _merge(tables: list[dict[str, int]]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for table in tables:
        for name, number in table.items():
            if merged.setdefault(name, number) != number:
                raise ValueError(f"month {name!r} means two months")
    return merged


@cache
def labels() -> Labels:
    raw = yaml.safe_load(resources.files("rasid.dates").joinpath("labels.yaml").read_text("utf-8"))
    return Labels(
        published=_flat(raw["published"]),
        updated=_flat(raw["updated"]),
        joiners=tuple(normalize_arabic(w) for w in raw["joiners"]),
        weekdays=_flat(raw["weekdays"]),
        months=_merge([_numbered(names) for names in raw["months"].values()]),
        solar_hijri=_numbered(raw["solar_hijri"]),
    )


def words_pattern(words: tuple[str, ...] | list[str]) -> str:
    """An alternation of whole words or phrases, longest first; spaces match any spacing."""
    parts = (r"\s+".join(map(re.escape, w.split())) for w in sorted(words, key=len, reverse=True))
    return r"(?<![^\W_])(?:" + "|".join(parts) + r")(?![^\W_])"
