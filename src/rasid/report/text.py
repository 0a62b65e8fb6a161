"""The report's facts as plain text for a terminal and as Markdown for a Prefect artifact."""

from __future__ import annotations

from typing import Any

from rasid.report.facts import Facts
from rasid.report.labels import COUNT_LABELS, fetch_reason, reason_text
from rasid.report.view import anchor


def render_text(manifest: dict[str, Any]) -> str:
    """The run's facts for a terminal."""
    lines = []
    for sid, stats in manifest["sources"].items():
        counts = ", ".join(f"{en} {stats[key]}" for key, _, en in COUNT_LABELS)
        lines.append(f"{sid}: {counts}")
        for reason, n in stats.get("quarantine_reasons", {}).items():
            lines.append(f"    quarantined {n} × {reason_text(reason)}")
        for reason, n in stats.get("failure_reasons", {}).items():
            arabic, english = fetch_reason(reason)
            lines.append(f"    fetch failed {n} × {arabic} / {english} [{reason}]")
    return "\n".join(lines)


def markdown_summary(facts: Facts, report_url: str, docs_url: str | None) -> str:
    """The run's table for a Prefect artifact: each source links to its part of the report."""
    lines = [
        f"**[تقرير الجودة / quality report]({report_url})** for run `{facts.run['run_id']}`"
        + (f" · [GX Data Docs]({docs_url})" if docs_url else ""),
        "",
        "| source | " + " | ".join(en for _, _, en in COUNT_LABELS) + " | needs attention |",
        "|" + "---|" * (len(COUNT_LABELS) + 2),
    ]
    for sid in facts.sources:
        stats = facts.run["sources"][sid]
        counts = " | ".join(str(stats[key]) for key, _, _ in COUNT_LABELS)
        why = "; ".join(en for _, en in facts.notes.get(sid, [])).replace("|", "/") or "—"
        lines.append(f"| [{sid}]({report_url}#{anchor(sid)}) | {counts} | {why} |")
    return "\n".join(lines)
