"""Sources that need a person: one that suddenly yields nothing, or whose rows mostly end in
quarantine. Both are what a site redesign looks like from here — a moved feed, new markup
that extraction no longer understands — and neither fails a run, so they must be said aloud.
So is a run that left some of a source's URLs for the next one: its host was set aside, or
the time ran out.

Flags are data (source, code, one plain sentence), computed from a run's per-source counts
and the runs before it; the flows publish them, the report can show them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rasid.models import (
    FUNNEL,
    HOST_OUT_OF_TIME,
    HOST_UNRESPONSIVE,
    LEFT_FOR_NEXT_RUN,
    RUN_OUT_OF_TIME,
)

YIELDS_NOTHING = "yields_nothing"
MOSTLY_QUARANTINED = "mostly_quarantined"
# The run left some of the source's URLs for the next one (see rasid.fetch.lanes): its host
# kept failing, or there was not time enough. Worth a look when it repeats.
HOST_SET_ASIDE = "host_set_aside"
OUT_OF_TIME = "out_of_time"
# Below this many rows a quarantine share says more about chance than about the site.
MIN_ROWS = 3


@dataclass(frozen=True)
class SourceFlag:
    source: str
    code: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _reasons(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{reason}: {n}" for reason, n in sorted(counts.items(), key=lambda i: -i[1]))


def _last_yield(source: str, history: Sequence[Mapping[str, Any]]) -> str:
    """How the source did in the latest earlier run that saw it, to tell "suddenly" apart."""
    for manifest in reversed(history):
        stats = manifest.get("sources", {}).get(source)
        if stats is not None:
            return (f"; the run before ({manifest['run_id']}) discovered {stats['discovered']}"
                    f" and stored {stats['stored']}")
    return "; no earlier run to compare with"


def _yields_nothing(source: str, stats: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> str | None:
    # Feeds and sitemaps answering "not modified" list nothing: quiet, not broken.
    if stats["discovered"] == 0 and not stats.get("unchanged"):
        return "discovered no URL" + _last_yield(source, history)
    if stats["new"] and stats["stored"] + stats["quarantined"] == 0:
        why = _reasons(stats.get("failure_reasons", {}))
        return f"none of its {stats['new']} new URLs could be fetched ({why})"
    return None


def _mostly_quarantined(stats: Mapping[str, Any]) -> str | None:
    rows = stats["stored"] + stats["quarantined"]
    if rows < MIN_ROWS or stats["quarantined"] * 2 <= rows:
        return None
    why = _reasons(stats.get("quarantine_reasons", {}))
    return f"{stats['quarantined']} of {rows} rows quarantined ({why})"


def flag_sources(
    sources: Mapping[str, Mapping[str, Any]], history: Sequence[Mapping[str, Any]] = ()
) -> list[SourceFlag]:
    """Flags for one run's per-source counts (a manifest's ``sources``); ``history`` holds the
    committed manifests before it, oldest first."""
    flags = []
    for source, stats in sorted(sources.items()):
        if detail := _yields_nothing(source, stats, history):
            flags.append(SourceFlag(source, YIELDS_NOTHING, detail))
        if detail := _mostly_quarantined(stats):
            flags.append(SourceFlag(source, MOSTLY_QUARANTINED, detail))
        flags.extend(SourceFlag(source, code, detail) for code, detail in _left(stats))
    return flags


def _left(stats: Mapping[str, Any]) -> list[tuple[str, str]]:
    reasons = stats.get("failure_reasons", {})
    found = []
    if set_aside := reasons.get(HOST_UNRESPONSIVE, 0):
        trouble = {r: n for r, n in reasons.items() if r not in LEFT_FOR_NEXT_RUN}
        found.append((HOST_SET_ASIDE, (f"its host kept failing ({_reasons(trouble)}), so the run"
                                       f" set it aside: {set_aside} URLs left for the next run")))
    late = {r: reasons[r] for r in (HOST_OUT_OF_TIME, RUN_OUT_OF_TIME) if reasons.get(r)}
    if late:
        found.append((OUT_OF_TIME, (f"{sum(late.values())} URLs left for the next run, out of"
                                    f" time ({_reasons(late)})")))
    return found


REASONS = ("quarantine_reasons", "failure_reasons")


def _zero() -> dict[str, Any]:
    return {**dict.fromkeys(FUNNEL, 0), **{r: Counter() for r in REASONS}}


def combine_runs(manifests: Sequence[Mapping[str, Any]], sources: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per-source counts summed over several runs (a day's, say), shaped like one run's, so
    ``flag_sources`` applies; a source none of the runs saw counts zero everywhere."""
    combined = {s: _zero() for s in sources}
    for manifest in manifests:
        for source, stats in manifest.get("sources", {}).items():
            into = combined.setdefault(source, _zero())
            for key in FUNNEL:
                into[key] += stats.get(key, 0)
            for key in REASONS:
                into[key].update(stats.get(key, {}))
    return {s: {k: dict(v) if isinstance(v, Counter) else v for k, v in c.items()}
            for s, c in sorted(combined.items())}
