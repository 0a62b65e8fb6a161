"""The editors' quality report: per source, what was found, kept, set aside and why.

Arabic first with English labels, right to left, self-contained HTML (no scripts, no CDN).
Built only from committed manifests, so it shows exactly what the lake holds.
"""

from __future__ import annotations

from html import escape
from typing import Any

from rasid.storage import Lake

# Plain words for each reason, Arabic then English, shared by the report and the CLI.
REASONS: dict[str, tuple[str, str]] = {
    "no_date": ("لم يُعثر على تاريخ النشر", "no publication date found"),
    "too_short": ("النص قصير جداً أو فارغ", "the text is too short or empty"),
    "duplicate_body": ("النص مكرر من مقال آخر", "the text duplicates another article"),
    "not_arabic": ("النص ليس بالعربية", "the text is not Arabic"),
    "wrong_language": ("لغة النص لا تطابق لغة المصدر", "the language does not match the source"),
    "duplicate_url": ("الرابط مكرر", "the URL is repeated"),
    "body_repeated": ("النص مكرر داخل الصفحة (خُزّن مرة واحدة)", "the text is repeated in the page (stored once)"),
    "date_implausible": ("تاريخ النشر غير معقول", "the publication date is implausible"),
}

COUNT_LABELS = (
    ("discovered", "مكتشفة", "discovered"),
    ("fetched", "جُلبت", "fetched"),
    ("stored", "خُزّنت", "stored"),
    ("quarantined", "في الحجر", "quarantined"),
    ("failed", "فشل الجلب", "fetch failed"),
)


def reason_text(code: str) -> str:
    arabic, english = REASONS.get(code, (code, code))
    return f"{arabic} / {english}"


def _needs_attention(stats: dict[str, Any]) -> list[str]:
    notes = []
    if stats["discovered"] == 0:
        notes.append("لم يُكتشف أي رابط / nothing discovered")
    if stats["failed"] and stats["failed"] >= max(stats["fetched"], 1):
        notes.append("معظم الصفحات لم تُجلب / most pages failed to fetch")
    handled = stats["stored"] + stats["quarantined"]
    if handled and stats["quarantined"] * 2 > handled:
        notes.append("أغلب المقالات في الحجر / most articles quarantined")
    return notes


def render_html(manifest: dict[str, Any]) -> str:
    run_id = escape(manifest["run_id"])
    parts = [
        "<!doctype html>",
        '<html lang="ar" dir="rtl"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>راصد — تقرير الجودة {run_id}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>راصد — تقرير جودة البيانات <span lang=\"en\" dir=\"ltr\">Data-quality report</span></h1>",
        f'<p class="meta">الجولة / run <bdi dir="ltr">{run_id}</bdi> · '
        f'<bdi dir="ltr">{escape(manifest["started_at"])}</bdi></p>',
    ]
    attention = {
        sid: notes for sid, stats in manifest["sources"].items() if (notes := _needs_attention(stats))
    }
    if attention:
        items = "".join(
            f"<li><b>{escape(sid)}</b>: {escape('، '.join(n))}</li>" for sid, n in attention.items()
        )
        parts.append(f'<section class="attention"><h2>مصادر تحتاج انتباهاً / needs attention</h2><ul>{items}</ul></section>')
    parts.append(_totals_table(manifest))
    for sid, stats in manifest["sources"].items():
        parts.append(_source_section(sid, stats, manifest))
    parts.append("</body></html>")
    return "\n".join(parts)


def _totals_table(manifest: dict[str, Any]) -> str:
    head = "".join(f"<th>{ar}<br><small>{en}</small></th>" for _, ar, en in COUNT_LABELS)
    rows = []
    for sid, stats in manifest["sources"].items():
        cells = "".join(f'<td class="n">{stats[key]}</td>' for key, _, _ in COUNT_LABELS)
        rows.append(f"<tr><th scope=\"row\">{escape(sid)}</th>{cells}</tr>")
    return (
        '<section><h2>ملخص المصادر / sources</h2><div class="scroll"><table>'
        f"<thead><tr><th>المصدر<br><small>source</small></th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _source_section(sid: str, stats: dict[str, Any], manifest: dict[str, Any]) -> str:
    reasons = stats.get("quarantine_reasons", {})
    failures = stats.get("failure_reasons", {})
    lines = [f'<section class="source"><h2>{escape(sid)}</h2>']
    if reasons:
        lines.append("<h3>أسباب الحجر / why articles were set aside</h3><ul>")
        lines += [f"<li>{escape(reason_text(r))}: {n}</li>" for r, n in reasons.items()]
        lines.append("</ul>")
    quarantined = [
        r for r in manifest.get("records", []) if r["source"] == sid and r["kind"] == "quarantine"
    ]
    if quarantined:
        lines.append("<h3>المقالات في الحجر / quarantined articles</h3><ul class=\"articles\">")
        for record in quarantined:
            title = escape(record.get("title") or record["url"])
            why = "، ".join(escape(reason_text(r)) for r in record.get("reasons", []))
            lines.append(f'<li><a href="{escape(record["url"])}">{title}</a> — {why}</li>')
        lines.append("</ul>")
    failed = [f for f in manifest.get("failures", []) if f["source_id"] == sid]
    if failed:
        lines.append("<h3>روابط لم تُجلب / pages that could not be fetched</h3><ul class=\"articles\">")
        for failure in failed:
            lines.append(
                f'<li><a href="{escape(failure["url"])}" dir="ltr">{escape(failure["url"])}</a> — '
                f'<span dir="ltr">{escape(failure["reason"])}: {escape(failure["detail"])}</span></li>'
            )
        lines.append("</ul>")
    if not (reasons or failures):
        lines.append("<p>لا مشكلات / no problems</p>")
    lines.append("</section>")
    return "\n".join(lines)


def render_text(manifest: dict[str, Any]) -> str:
    """The same facts as the HTML, for a terminal."""
    lines = []
    for sid, stats in manifest["sources"].items():
        counts = ", ".join(f"{en} {stats[key]}" for key, _, en in COUNT_LABELS)
        lines.append(f"{sid}: {counts}")
        for reason, n in stats.get("quarantine_reasons", {}).items():
            lines.append(f"    quarantined {n} × {reason_text(reason)}")
        for reason, n in stats.get("failure_reasons", {}).items():
            lines.append(f"    fetch failed {n} × {reason}")
    return "\n".join(lines)


def write_run_report(lake: Lake, manifest: dict[str, Any]) -> str:
    """Write reports/<run_id>/index.html and reports/index.html (the latest); return the first."""
    html = render_html(manifest).encode("utf-8")
    key = f"reports/{manifest['run_id']}/index.html"
    lake.write_bytes(key, html)
    lake.write_bytes("reports/index.html", html)
    return key


_CSS = """
body{font-family:"Noto Naskh Arabic","Noto Sans Arabic",Tahoma,Arial,sans-serif;margin:0 auto;
max-width:60rem;padding:1rem;line-height:1.6;color:#1d1d1f;background:#fbfbfd}
h1{font-size:1.5rem}h1 span{display:block;font-size:1rem;color:#555}
.meta{color:#555}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ddd;padding:.35rem .5rem;text-align:start}td.n{text-align:center}
.scroll{overflow-x:auto}.attention{background:#fff4e5;border:1px solid #f0b35b;padding:.5rem 1rem}
.source{border-top:2px solid #eee;margin-top:1rem}ul.articles li{margin:.3rem 0;overflow-wrap:anywhere}
small{color:#666;font-weight:normal}
"""
