"""Counts over the runs a report covers, per run and per UTC day, and the checks' pass rates."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta

from rasid.checks import Words
from rasid.report.facts import Manifest, started, when

# The stacked layers of a trend chart, bottom up; "discovered" is drawn as a line over them.
TREND_LAYERS: tuple[tuple[str, Words], ...] = (
    ("stored", Words("خُزّنت", "stored")),
    ("quarantined", Words("في الحجر", "quarantined")),
    ("failed", Words("تعذّر جلبها", "fetch failed")),
)
DISCOVERED = Words("مكتشفة", "discovered")

Series = dict[str, list[int | None]]


def _count(manifest: Manifest, source: str | None, key: str) -> int:
    if source is None:
        return int(manifest["totals"][key])
    return int(manifest["sources"].get(source, {}).get(key, 0))


def per_run(runs: list[Manifest], source: str | None) -> tuple[list[str], Series]:
    slots = [when(m) for m in runs]
    keys = [k for k, _ in TREND_LAYERS] + ["discovered"]
    return slots, {k: [_count(m, source, k) for m in runs] for k in keys}


def per_day(runs: list[Manifest], source: str | None) -> tuple[list[str], Series]:
    """Sums per UTC day (discovered: the day's largest run, since runs rediscover the same
    links); a day without runs is a gap, not a zero."""
    by_day: dict[date, list[Manifest]] = defaultdict(list)
    for manifest in runs:
        by_day[started(manifest).date()].append(manifest)
    first, last = min(by_day), max(by_day)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    series: Series = {}
    for key, _ in TREND_LAYERS:
        series[key] = [
            sum(_count(m, source, key) for m in by_day[d]) if d in by_day else None for d in days
        ]
    series["discovered"] = [
        max(_count(m, source, "discovered") for m in by_day[d]) if d in by_day else None
        for d in days
    ]
    return [d.isoformat() for d in days], series


def pass_rate(checked: int, failed: int) -> float | None:
    return None if checked == 0 else (checked - failed) / checked


def percent(rate: float | None) -> str:
    """Rounded down, so a check with any failure never shows as 100%."""
    if rate is None:
        return "—"
    return f"{math.floor(rate * 1000) / 10:g}%"
