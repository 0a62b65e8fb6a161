"""The demo outlets' fixed words (``words.yaml``: section names, calendars, share buttons,
halab-online's reader comments) and the datelines printed with them."""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files
from typing import Any

import yaml


def _load() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(
        files("rasid.demo").joinpath("words.yaml").read_text(encoding="utf-8")
    )
    return found


_WORDS = _load()
SECTIONS: tuple[str, ...] = tuple(_WORDS["sections"])
SECTION_NAMES: dict[str, dict[str, str]] = _WORDS["section_names"]
WEEKDAYS: tuple[str, ...] = tuple(_WORDS["weekdays"])
LEVANTINE: tuple[str, ...] = tuple(_WORDS["levantine"])
LEVANTINE_SHORT: dict[int, str] = {int(m): name for m, name in _WORDS["levantine_short"].items()}
EGYPTIAN: tuple[str, ...] = tuple(_WORDS["egyptian"])
ENGLISH: tuple[str, ...] = tuple(_WORDS["english"])
SHARE_TARGETS: tuple[tuple[str, str, str, str], ...] = tuple(
    (name, arabic, latin, prefix) for name, arabic, latin, prefix in _WORDS["share_targets"]
)
FURAT: dict[str, dict[str, str]] = _WORDS["furat"]
COMMENTS: tuple[tuple[str, str, str], ...] = tuple(
    (name, when, text) for name, when, text in _WORDS["comments"]
)
EASTERN_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def levantine(when: datetime, short: bool = False) -> str:
    month = LEVANTINE_SHORT[when.month] if short else LEVANTINE[when.month - 1]
    return f"{WEEKDAYS[when.weekday()]} {when.day} {month} {when.year} - {when:%H:%M}"


def egyptian(when: datetime) -> str:
    hour, half = when.hour % 12 or 12, "ص" if when.hour < 12 else "م"
    day = f"{WEEKDAYS[when.weekday()]}، {when.day} {EGYPTIAN[when.month - 1]} {when.year}"
    return f"{day} - {hour}:{when:%M} {half}"


def furat(when: datetime, style: str) -> str:
    """furat-post's datelines: English, Eastern-digit numbers, or Levantine month words."""
    if style == "english":
        return f"{when.day} {ENGLISH[when.month - 1]} {when.year}, {when:%H:%M}"
    if style == "eastern-numeric":
        return f"{when:%Y/%m/%d %H:%M}".translate(EASTERN_DIGITS)
    words = f"{when.day} {LEVANTINE[when.month - 1]} {when.year} - {when:%H:%M}"
    return words.translate(EASTERN_DIGITS)
