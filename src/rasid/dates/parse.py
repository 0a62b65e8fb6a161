"""Date expressions in text and in machine-readable values."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from datetime import timezone as fixed_offset
from email.utils import parsedate_to_datetime

from rasid.dates.labels import labels, words_pattern
from rasid.text import normalize_arabic

# --- month names --------------------------------------------------------------------------

LEVANTINE = {
    "كانون الثاني": 1, "شباط": 2, "آذار": 3, "نيسان": 4, "أيار": 5, "حزيران": 6, "تموز": 7,
    "آب": 8, "أيلول": 9, "تشرين الأول": 10, "تشرين الثاني": 11, "كانون الأول": 12,
    # Short forms printed by Syrian and Lebanese papers: "كانون 2", "ك2", "تشرين أول".
    "كانون ثاني": 1, "كانون 2": 1, "ك 2": 1, "تشرين أول": 10, "تشرين 1": 10, "ت 1": 10,
    "تشرين ثاني": 11, "تشرين 2": 11, "ت 2": 11, "كانون أول": 12, "كانون 1": 12, "ك 1": 12,
}
EGYPTIAN = {
    "يناير": 1, "فبراير": 2, "مارس": 3, "أبريل": 4, "إبريل": 4, "ابريل": 4, "مايو": 5,
    "يونيو": 6, "يونية": 6, "يوليو": 7, "يولية": 7, "أغسطس": 8, "سبتمبر": 9, "أكتوبر": 10,
    "نوفمبر": 11, "ديسمبر": 12,
}
MAGHREBI = {
    "جانفي": 1, "فيفري": 2, "مارس": 3, "أفريل": 4, "ماي": 5, "جوان": 6, "جويلية": 7, "أوت": 8,
    "سبتمبر": 9, "أكتوبر": 10, "نوفمبر": 11, "ديسمبر": 12,
}
MOROCCAN = {
    "يناير": 1, "فبراير": 2, "مارس": 3, "أبريل": 4, "ماي": 5, "يونيو": 6, "يوليوز": 7,
    "غشت": 8, "شتنبر": 9, "أكتوبر": 10, "نونبر": 11, "دجنبر": 12,
}
def _month_table() -> dict[str, int]:
    table: dict[str, int] = {}
    # Other languages' names (English, French, Turkish, Persian, Kurdish...) come from
    # labels.yaml.
    for names in (LEVANTINE, EGYPTIAN, MAGHREBI, MOROCCAN, labels().months):
        for name, number in names.items():
            key = normalize_arabic(name)
            if table.setdefault(key, number) != number:
                raise ValueError(f"month {name!r} means two months")
    return table


MONTHS = _month_table()
# Looked up without spaces: a printed month may be "كانون2", "كانون  الثاني" or "ك2".
_MONTH_BY_LETTERS = {name.replace(" ", ""): number for name, number in MONTHS.items()}


def _month_pattern(name: str) -> str:
    # "كانون 2" also appears as "كانون2" and "ك2"; a trailing digit must not run into a number.
    pattern = r"\s*".join(re.escape(part) for part in name.split())
    return pattern + (r"(?!\d)" if name[-1].isdigit() else "")


_MONTH = "(?:" + "|".join(_month_pattern(m) for m in sorted(MONTHS, key=len, reverse=True)) + ")"
_NOT_AFTER_LETTER = r"(?<![^\W\d_])"
_NOT_BEFORE_LETTER = r"(?![^\W\d_])"
_SEP = r"\s*[-/.,،]?\s*"
_DAY = r"(?<!\d)(?P<day>\d{1,2})(?:st|nd|rd|th|er)?"
_YEAR = r"(?P<year>\d{4})(?!\d)"
# A second name for the same month: "11 كانون الثاني/ يناير 2018", "16 تشرين الثاني (نوفمبر)".
_ALSO = rf"(?:\s*[/\-(]\s*{_MONTH}{_NOT_BEFORE_LETTER}\s*\)?)?"
_NAMED = _NOT_AFTER_LETTER + rf"(?P<month>{_MONTH}){_NOT_BEFORE_LETTER}"

# "4 de mayo de 2022" (Spanish), "15 من تشرين الثاني 2026".
_OF = r"(?:(?:من|de|del)\s+)?"
DAY_MONTH_YEAR = re.compile(rf"{_DAY}{_SEP}{_OF}{_NAMED}{_ALSO}{_SEP}{_OF}{_YEAR}")
MONTH_DAY_YEAR = re.compile(rf"{_NAMED}\s+{_DAY}\s*[,،]?\s*{_YEAR}")
# A numeric date may end a sentence ("Aktualisiert am 17.01.2021."), not a longer number
# (a version, an address: "17.01.2021.4").
NUMERIC_DMY = re.compile(
    r"(?<![\d/.-])(?P<day>\d{1,2})\s*(?P<sep>[-/.])\s*(?P<month>\d{1,2})\s*(?P=sep)\s*"
    r"(?P<year>\d{4})(?![\d/-]|\.\d)"
)
NUMERIC_YMD = re.compile(
    r"(?<![\d/.-])(?P<year>\d{4})\s*(?P<sep>[-/.])\s*(?P<month>\d{1,2})\s*(?P=sep)\s*"
    r"(?P<day>\d{1,2})(?![\d/-]|\.\d)"
)
_PATTERNS = (DAY_MONTH_YEAR, MONTH_DAY_YEAR, NUMERIC_DMY, NUMERIC_YMD)
# A Solar Hijri date ("۱۴ آبان ۱۴۰۵"): never a publication date here, but a Persian dateline
# that prints it beside the Gregorian one is still a dateline.
SOLAR_HIJRI_DATE = re.compile(
    r"(?<!\d)\d{1,2}\s*" + words_pattern(tuple(labels().solar_hijri)) + r"\s*1[34]\d\d(?!\d)")
_HIJRI_MARK = re.compile(r"\s*(?:ه\b|هجري)")
_TIME = re.compile(
    r"(?<![\d:])(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?(?![\d:])\s*"
    r"(?P<half>صباحا|مساء|ظهرا|عصرا|ليلا|ص|م|a\.?m\.?|p\.?m\.?)?" + _NOT_BEFORE_LETTER
)
_MORNING = {"ص", "صباحا", "am", "a.m.", "am.", "a.m"}
_NOON = {"ظهرا"}

MIN_YEAR, MAX_YEAR = 1900, 2200  # keeps Hijri (14xx) and Solar Hijri years out
MAX_UTC_OFFSET = timedelta(hours=14)  # Kiribati's; no civil time is further from UTC


@dataclass(frozen=True)
class DateMatch:
    """A date expression found in text: where it is and what it says."""

    start: int
    end: int
    day: date


def _valid(year: int, month: int, day: int) -> date | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:  # 31 شباط
        return None


def _numeric_day(match: re.Match[str]) -> date | None:
    year, first, second = int(match["year"]), int(match["day"]), int(match["month"])
    if match.re is NUMERIC_DMY and second > 12 >= first:
        first, second = second, first  # unambiguously month-first (US style)
    return _valid(year, second, first)


def _named_day(match: re.Match[str]) -> date | None:
    month = _MONTH_BY_LETTERS[re.sub(r"\s+", "", match["month"])]
    return _valid(int(match["year"]), month, int(match["day"]))


def find_dates(normalized: str) -> Iterator[DateMatch]:
    """Every full date in text already passed through ``normalize_arabic``, in text order."""
    found: list[DateMatch] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(normalized):
            if _HIJRI_MARK.match(normalized, match.end()):
                continue
            numeric = pattern in (NUMERIC_DMY, NUMERIC_YMD)
            day = _numeric_day(match) if numeric else _named_day(match)
            if day:
                found.append(DateMatch(match.start(), match.end(), day))
    yield from sorted(found, key=lambda m: m.start)


def _find_time(normalized: str) -> time | None:
    match = _TIME.search(normalized)
    if not match:
        return None
    hour, minute = int(match["hour"]), int(match["minute"])
    half = (match["half"] or "").lower()
    if half and half not in _MORNING and (hour < 12 and (half not in _NOON or hour < 6)):
        hour += 12
    elif half in _MORNING and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute, int(match["second"] or 0))


def parse_arabic_datetime(text: str) -> tuple[date, time | None] | None:
    """The first full date in a short text (a dateline), with its time of day if printed."""
    normalized = normalize_arabic(text)
    match = next(find_dates(normalized), None)
    if match is None:
        return None
    rest = normalized[: match.start] + " " + normalized[match.end:]
    return match.day, _find_time(rest)


def parse_arabic_date(text: str) -> date | None:
    """One date expression in any Arabic month system, Eastern digits or numeric form."""
    parsed = parse_arabic_datetime(text)
    return parsed[0] if parsed else None


# --- machine-readable values (meta tags, JSON-LD, <time datetime>) ------------------------

_ISO = re.compile(
    r"^\s*(?P<year>\d{4})[-/](?P<month>\d{1,2})[-/](?P<day>\d{1,2})"
    r"(?:[T\s]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}:?\d{2})?)?"
)


def parse_machine_datetime(value: str) -> datetime | date | None:
    """A datetime (naive when no offset was given) or a bare date; None for partial dates."""
    value = value.strip()
    match = _ISO.match(value)
    if match:
        return _from_iso(match)
    if re.fullmatch(r"\d{4}(?:-\d{1,2})?", value):
        return None  # a year, or a year and month: not a day
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        pass
    else:  # the email parser takes any year, even one a zone shift pushes past datetime.max
        return moment if MIN_YEAR <= moment.year <= MAX_YEAR else None
    parsed = parse_arabic_datetime(value)
    if parsed is None:
        return None
    day, clock = parsed
    return datetime.combine(day, clock) if clock else day


def _from_iso(match: re.Match[str]) -> datetime | date | None:
    day = _valid(int(match["year"]), int(match["month"]), int(match["day"]))
    if day is None or match["hour"] is None:
        return day
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return day
    moment = datetime.combine(day, time(hour, minute, second))
    zone = match["zone"]
    if zone in ("Z", "UTC", "GMT"):
        return moment.replace(tzinfo=UTC)
    if zone:
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if offset > MAX_UTC_OFFSET:  # "+99:00": the zone is junk, the day may still be right
            return day
        return moment.replace(tzinfo=fixed_offset(sign * offset))
    return moment

