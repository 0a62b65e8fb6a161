"""rasid.extract: golden pages, boilerplate, junk input and parallel extraction.

Each tests/golden/<name>.html has a <name>.expected.json beside it: the title, the published
date (or null) and its source, snippets the body must and must not contain, and the exact
flags. Optional keys: url, timezone, founded, hint [iso, source], published_at, language,
canonical_url, body_once (snippets that must appear exactly once), repeated_share_min.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import trafilatura

from rasid.extract import extract, extract_many, extraction_pool, strip_boilerplate
from rasid.models import Extracted

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CASES = sorted(p.name.removesuffix(".expected.json") for p in GOLDEN.glob("*.expected.json"))


def load_case(name: str) -> tuple[str, dict[str, Any]]:
    expected = json.loads((GOLDEN / f"{name}.expected.json").read_text(encoding="utf-8"))
    return (GOLDEN / f"{name}.html").read_text(encoding="utf-8"), expected


def extract_case(name: str) -> tuple[Extracted, dict[str, Any]]:
    html, expected = load_case(name)
    kwargs: dict[str, Any] = {"timezone": expected.get("timezone", "Asia/Damascus"), "now": NOW}
    if "founded" in expected:
        kwargs["founded"] = date.fromisoformat(expected["founded"])
    if "hint" in expected:
        moment, source = expected["hint"]
        kwargs.update(published_hint=datetime.fromisoformat(moment), hint_source=source)
    return extract(html, expected["url"], **kwargs), expected


def test_there_is_a_golden_page_for_every_trap() -> None:
    assert len(CASES) >= 16


@pytest.mark.parametrize("name", CASES)
def test_golden_page(name: str) -> None:
    result, expected = extract_case(name)
    assert result.title == expected["title"]
    published = result.published_date.isoformat() if result.published_date else None
    assert (published, result.date_source) == (expected["published_date"], expected["date_source"])
    if "published_at" in expected:
        assert result.published_at == datetime.fromisoformat(expected["published_at"])
    for snippet in expected["body_contains"]:
        assert snippet in result.body
    for snippet in expected["body_not_contains"]:
        assert snippet not in result.body
    for snippet in expected.get("body_once", []):
        assert result.body.count(snippet) == 1, snippet
    assert result.repeated_share >= expected.get("repeated_share_min", 0.0)
    assert sorted(result.flags) == sorted(expected["flags"])
    assert result.language == expected["language"]
    if "canonical_url" in expected:
        assert result.canonical_url == expected["canonical_url"]


@pytest.mark.parametrize("name", CASES)
def test_golden_page_record_is_consistent(name: str) -> None:
    result, _ = extract_case(name)
    assert result.published_at is None or result.published_at.tzinfo == UTC
    assert (result.published_at is None) == (result.published_date is None)
    assert result.word_count > 10
    assert 0.0 <= result.repeated_share < 1.0
    assert ("body_repeated" in result.flags) == (result.repeated_share > 0)


def test_levantine_dateline_beats_plain_trafilatura() -> None:
    html, expected = load_case("levantine_dateline")
    plain = trafilatura.bare_extraction(html, url=expected["url"], with_metadata=True)
    ours, _ = extract_case("levantine_dateline")
    # htmldate cannot read "16 تشرين الثاني 2026" and builds a date from the footer's (c) 2025.
    assert plain.date != "2026-11-16"
    assert ours.published_date == date(2026, 11, 16)


def test_dates_on_golden_pages_beat_plain_trafilatura() -> None:
    ours = plain = 0
    for name in CASES:
        html, expected = load_case(name)
        result, _ = extract_case(name)
        document = trafilatura.bare_extraction(html, url=expected["url"], with_metadata=True)
        truth = expected["published_date"]
        ours += (result.published_date.isoformat() if result.published_date else None) == truth
        plain += (document.date if document else None) == truth
    assert ours == len(CASES)
    assert plain < len(CASES) // 2


# --- boilerplate ------------------------------------------------------------------------------

def test_strip_boilerplate_keeps_sentences_that_start_like_boilerplate() -> None:
    body = "\n".join([
        "شارك في الاجتماع ممثلون عن غرف التجارة والصناعة في المحافظات.",
        "شارك فيسبوك تويتر واتساب",
        "المصدر الرئيسي للمياه في المدينة هو نبع الفيجة.",
        "اقرأ أيضاً: ارتفاع أسعار الذهب",
        "الوسوم: اقتصاد، ذهب",
        "عدد المشاهدات: 1520",
        "آخر فقرة في الخبر.",
        "المصدر: وكالات",
    ])
    assert strip_boilerplate(body) == "\n".join([
        "شارك في الاجتماع ممثلون عن غرف التجارة والصناعة في المحافظات.",
        "المصدر الرئيسي للمياه في المدينة هو نبع الفيجة.",
        "آخر فقرة في الخبر.",
    ])


def test_a_date_only_line_inside_the_text_stays() -> None:
    body = "\n".join(["نشر في 16/11/2026", "بدأت الأزمة قبل سنوات طويلة.", "وهذه أبرز محطاتها:",
                      "15 آذار 2011", "خرجت أول مظاهرة في المدينة.", "ثم توالت الأحداث.",
                      "وانتهى العام."])
    assert strip_boilerplate(body) == "\n".join(body.splitlines()[1:])


def test_unrepairable_mojibake_is_flagged() -> None:
    arabic = "<p>" + "أعلنت المؤسسة العامة للكهرباء عن برنامج تقنين جديد في المحافظة. " * 5 + "</p>"
    lossy = arabic.encode("utf-8").decode("cp1252", errors="replace")
    result = extract(f"<html><body><article>{lossy}</article></body></html>", "https://x.example/a",
                     now=NOW)
    assert "mojibake" in result.flags  # the bytes cp1252 could not show are lost for good


# --- robustness ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "junk",
    ["", "   ", "not html at all", "<", "\x00\x01\x02<html>\x00</html>", "<p>شظية</p>",
     "<html><body></body></html>", "%PDF-1.7 <</Type /Catalog>>"],
)
def test_junk_input_gives_an_empty_record(junk: str) -> None:
    result = extract(junk, "https://x.example/a", now=NOW)
    assert result.body == ""
    assert "no_body" in result.flags
    assert result.word_count == 0


def test_deeply_nested_html_does_not_crash() -> None:
    deep = "<html><body>" + "<div>" * 50_000 + "نص" + "</div>" * 50_000 + "</body></html>"
    result = extract(deep, "https://x.example/a", now=NOW)
    assert isinstance(result.body, str)


def test_the_same_page_extracted_many_times_keeps_its_body() -> None:
    html, expected = load_case("levantine_dateline")
    bodies = {extract(html, expected["url"], now=NOW).body for _ in range(5)}
    assert len(bodies) == 1 and bodies.pop()


def test_canonical_url_is_resolved_from_link_or_og_url() -> None:
    body = "<body><article><h1>عنوان</h1><p>" + "نص الخبر " * 30 + "</p></article></body>"
    relative = f'<html><head><link rel="canonical" href="/news/a"></head>{body}</html>'
    og_only = ('<html><head><meta property="og:url" content="https://X.example/news/b?utm_source=x">'
               f'</head>{body}</html>')
    javascript = f'<html><head><link rel="canonical" href="javascript:void(0)"></head>{body}</html>'

    def canonical(html: str, url: str) -> str | None:
        return extract(html, url, now=NOW).canonical_url

    assert canonical(relative, "https://x.example/other?id=1") == "https://x.example/news/a"
    assert canonical(og_only, "https://x.example/n") == "https://x.example/news/b"
    assert canonical(javascript, "https://x.example/n") is None


def test_english_page_is_english_and_not_arabic() -> None:
    result, _ = extract_case("english")
    assert (result.language, result.arabic_ratio) == ("en", 0.0)


# --- many pages ---------------------------------------------------------------------------------

def items() -> list[tuple[str, str, dict[str, Any]]]:
    cases = [load_case(name) for name in CASES[:8]]
    return [(html, expected["url"],
             {"now": NOW, "timezone": expected.get("timezone", "Asia/Damascus")})
            for html, expected in cases]


def test_extract_many_in_process_keeps_order() -> None:
    batch = items()
    assert extract_many(batch, workers=1) == [extract(h, u, **k) for h, u, k in batch]


@pytest.mark.slow
def test_extract_many_across_processes_matches_in_process() -> None:
    batch = items() * 2
    expected = extract_many(batch, workers=1)
    assert extract_many(batch, workers=2) == expected
    with extraction_pool(2) as pool:
        assert extract_many(batch, executor=pool) == expected
        assert extract_many(batch[:3], executor=pool) == expected[:3]
