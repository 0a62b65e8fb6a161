"""What needs an editor's attention, per source of the reported run: rasid.health's flags, most
fetches failing, and far fewer links than usual. Each note is Arabic then English."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from typing import Any

from rasid import health
from rasid.checks import Words
from rasid.report.labels import FLAG_WORDS, fetch_reason

BASELINE_RUNS = 5  # "a sudden drop" is measured against the median of this many earlier runs


def attention(runs: list[dict[str, Any]]) -> dict[str, list[Words]]:
    """Per source of the last run, what an editor should look at, in Arabic and English."""
    last, earlier = runs[-1], runs[:-1]
    notes: dict[str, list[Words]] = defaultdict(list)
    for flag in health.flag_sources(last["sources"], earlier):
        notes[flag.source].append(Words(FLAG_WORDS.get(flag.code, flag.code), flag.detail))
    for source, stats in sorted(last["sources"].items()):
        history = [m["sources"][source] for m in earlier if source in m["sources"]]
        notes[source] += _fetch_notes(stats) + _drop_notes(stats, history)
    return {source: found for source, found in sorted(notes.items()) if found}


def _fetch_notes(stats: dict[str, Any]) -> list[Words]:
    # With nothing fetched at all, the "yields nothing" flag already says it.
    if not stats["fetched"] or stats["failed"] <= stats["fetched"]:
        return []
    code = Counter(stats.get("failure_reasons") or {"": 0}).most_common(1)[0][0]
    arabic, english = fetch_reason(code)
    failed, tried = stats["failed"], stats["failed"] + stats["fetched"]
    return [
        Words(
            f"تعذّر جلب معظم الصفحات ({failed} من {tried})، أكثر الأسباب: {arabic}",
            f"most pages could not be fetched ({failed} of {tried}), mostly: {english}",
        )
    ]


def _drop_notes(stats: dict[str, Any], history: list[dict[str, Any]]) -> list[Words]:
    """Far fewer links than usual: a feed that shrank or a section that moved (not feeds
    that answered "not modified", which list nothing)."""
    if stats.get("unchanged"):
        return []
    usual = [h["discovered"] for h in history[-BASELINE_RUNS:] if h["discovered"]]
    typical = statistics.median(usual) if usual else 0
    if not stats["discovered"] or typical < 4 or stats["discovered"] >= typical / 2:
        return []
    return [
        Words(
            f"انخفاض مفاجئ في الروابط المكتشفة: {stats['discovered']} مقابل نحو {typical:g} عادةً",
            f"sudden drop in links discovered: {stats['discovered']}, usually about {typical:g}",
        )
    ]
