"""The report's rules on hand-made runs: what needs attention, which runs a report covers,
which fetch failures still matter, how rates are rounded, and that hostile page content
stays text. The rendered page is tested in a real browser in test_report_browser.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

from rasid import charts, checks, report
from rasid.report import Facts, FailedFetch, Links, Problem
from rasid.report.facts import _failed_fetches

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


def stats(**counts: int) -> dict[str, Any]:
    base = dict.fromkeys(
        ("discovered", "new", "fetched", "extracted", "stored", "quarantined", "failed"), 0
    )
    base |= counts
    return base | {"quarantine_reasons": {}, "failure_reasons": {}, "warnings": {}}


def run(
    n: int,
    sources: dict[str, dict[str, Any]],
    *,
    hours: float = 6.0,
    failures: list[dict[str, Any]] = (),
    records: list[dict[str, Any]] = (),
) -> dict[str, Any]:
    keys = ("discovered", "new", "fetched", "extracted", "stored", "quarantined", "failed")
    return {
        "run_id": f"run-{n:03d}",
        "started_at": (T0 + timedelta(hours=hours * n)).isoformat(),
        "totals": {k: sum(s[k] for s in sources.values()) for k in keys},
        "sources": sources,
        "source_names": {sid: f"اسم {sid}" for sid in sources},
        "failures": list(failures),
        "records": list(records),
        "files": {},
        "report": f"reports/run-{n:03d}/index.html",
    }


def failure(url: str, source: str = "a", reason: str = "http_404") -> dict[str, Any]:
    return {
        "url": url,
        "source_id": source,
        "reason": reason,
        "detail": f"{url} answered 404",
        "transient": False,
    }


def test_a_sudden_drop_in_discovered_links_needs_attention() -> None:
    usual = [
        run(i, {"a": stats(discovered=d, fetched=5, stored=5)})
        for i, d in enumerate([20, 22, 18, 21, 20])
    ]
    dropped = run(5, {"a": stats(discovered=6, fetched=2, stored=2)})
    (note,) = report.attention([*usual, dropped])["a"]
    assert (
        "انخفاض مفاجئ" in note[0]
        and note[1] == "sudden drop in links discovered: 6, usually about 20"
    )
    steady = run(5, {"a": stats(discovered=12, fetched=2, stored=2)})
    assert report.attention([*usual, steady]) == {}
    # Its feed answered "not modified": only the homepage's links were read, nothing dropped.
    unchanged = run(5, {"a": stats(discovered=3, unchanged=1)})
    assert report.attention([*usual, unchanged]) == {}


def test_small_sources_do_not_cry_drop() -> None:
    tiny = [run(i, {"a": stats(discovered=3, fetched=1, stored=1)}) for i in range(5)]
    assert report.attention([*tiny, run(5, {"a": stats(discovered=1, fetched=1, stored=1)})]) == {}


def test_most_fetches_failing_needs_attention_with_the_main_reason() -> None:
    broken = stats(discovered=10, new=10, fetched=2, stored=2, failed=8)
    broken["failure_reasons"] = {"timeout": 6, "http_404": 2}
    (note,) = report.attention([run(0, {"a": broken})])["a"]
    assert note == (
        "تعذّر جلب معظم الصفحات (8 من 10)، أكثر الأسباب: لم يردّ الموقع في الوقت المحدد",
        "most pages could not be fetched (8 of 10), mostly: the site did not answer in time",
    )


def test_health_flags_are_shown_in_arabic_with_their_sentence() -> None:
    before = run(0, {"a": stats(discovered=10, new=10, fetched=10, stored=10)})
    silent = run(1, {"a": stats()})
    quarantined = stats(discovered=10, new=10, fetched=10, stored=2, quarantined=8)
    quarantined["quarantine_reasons"] = {"no_date": 8}
    notes = report.attention([before, silent])["a"]
    assert notes[0][0] == "المصدر لم يُعطِ أي مقال" and notes[0][1].startswith("discovered no URL")
    (note,) = report.attention([run(0, {"b": quarantined})])["b"]
    assert note[0] == "معظم المقالات حُجزت" and "8 of 10 rows quarantined" in note[1]


def test_a_report_covers_two_weeks_of_runs_up_to_its_own() -> None:
    daily = [run(i, {"a": stats(discovered=1)}, hours=24) for i in range(30)]
    covered = report.window(daily, "run-020")
    assert [m["run_id"] for m in covered] == [f"run-{i:03d}" for i in range(6, 21)]
    assert report.window(daily)[-1]["run_id"] == "run-029"
    hourly = [run(i, {"a": stats(discovered=1)}, hours=1) for i in range(100)]
    assert len(report.window(hourly)) == report.WINDOW_RUNS


def test_a_fetch_failure_is_listed_once_until_a_later_run_fetches_it() -> None:
    gone, flaky = "https://a.example/gone", "https://a.example/flaky"
    runs = [
        run(0, {"a": stats()}, failures=[failure(gone), failure(flaky, reason="timeout")]),
        run(1, {"a": stats()}, failures=[failure(gone)]),
        run(2, {"a": stats()}, records=[{"url": flaky}]),
    ]
    listed = _failed_fetches(runs, [])
    assert listed == [FailedFetch("run-001", "a", gone, "http_404", f"{gone} answered 404", 2)]
    # A run after the reported one that fetched the page clears it from the older report too.
    assert _failed_fetches(runs[:2], runs[2:])[0].url == gone
    later = [run(3, {"a": stats()}, records=[{"url": gone}])]
    assert [f.url for f in _failed_fetches(runs[:1], later)] == [flaky]
    # Summaries read from a checkpoint name the URLs stored, not their records.
    summarised = [run(3, {"a": stats()}) | {"urls": [gone], "records": []}]
    assert [f.url for f in _failed_fetches(runs[:1], summarised)] == [flaky]


def test_rates_round_down_so_a_failure_never_shows_as_100_percent() -> None:
    assert report.percent(report.pass_rate(51, 1)) == "98%"
    assert report.percent(report.pass_rate(2000, 1)) == "99.9%"
    assert report.percent(report.pass_rate(18, 0)) == "100%"
    assert report.percent(report.pass_rate(0, 0)) == "—"


def test_fetch_reasons_read_as_plain_words() -> None:
    assert report.fetch_reason("http_404") == ("الصفحة غير موجودة", "page not found")
    assert report.fetch_reason("http_503")[1] == "server error (HTTP 503)"
    assert report.fetch_reason("http_418")[1] == "unexpected answer (HTTP 418)"


def test_hostile_titles_and_links_stay_text() -> None:
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    latest = run(
        0,
        {"a": stats(discovered=2, new=2, fetched=2, quarantined=2)},
        failures=[failure('javascript:alert("f")')],
    )
    facts = Facts(
        [latest],
        [
            Problem("run-000", "a", "javascript:alert(3)", evil, ("no_date",), True),
            Problem("run-000", "a", 'https://a.example/"><b>x', None, ("not_arabic",), True),
        ],
        _failed_fetches([latest], []),
    )
    html = report.render_html(report.build_view(facts), Links("", True, {}))
    assert "<script>" not in html and "<img" not in html and "<b>x" not in html
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert not [h for h in hrefs if h.lower().startswith("javascript")]
    # Escaped, still the real link.
    assert 'https://a.example/"><b>x' in [unescape(h) for h in hrefs]


def test_a_quarantined_row_without_a_date_says_what_was_tried() -> None:
    latest = run(0, {"a": stats(discovered=1, new=1, fetched=1, quarantined=1)})
    problem = Problem("run-000", "a", "https://a.example/x", "عنوان",
                      ("no_date", "no_date_bare_year"), True)
    html = report.render_html(report.build_view(Facts([latest], [problem], [])),
                              Links("", True, {}))
    assert "only a bare year (no day or month): no date built from it" in html
    assert "لا يوجد سوى سنة مجردة بلا يوم ولا شهر" in html


def test_a_run_without_history_still_renders_every_section() -> None:
    latest = run(0, {"a": stats(discovered=3, new=3, fetched=3, stored=3)})
    html = report.render_html(report.build_view(Facts([latest], [], [])), Links("../", False, {}))
    for section in ('id="attention"', 'id="overview"', 'id="source-a"', 'id="history"'):
        assert section in html
    assert "اسم a" in html and "data-docs" not in html
    assert 'href="../run-000/index.html"' not in html  # --out copies link no sibling reports


def test_bars_keep_gaps_for_missing_days_and_start_from_the_right() -> None:
    layers = [charts.Series("stored", "stored", [3, None, 5])]
    svg = charts.stacked_bars(["d1", "d2", "d3"], layers)
    bars = re.findall(r'class="bar-stored" x="([\d.]+)"', svg)
    assert len(bars) == 2  # nothing drawn for the day without a run
    slot = charts.WIDTH / charts.MIN_SLOTS
    assert float(bars[-1]) > charts.WIDTH - slot  # the latest at the right edge
    assert "d2 · stored: —" in svg


def test_the_prefect_summary_links_each_source_to_its_section() -> None:
    latest = run(0, {"a": stats(discovered=4, new=4, fetched=4, stored=4), "b": stats()})
    text = report.markdown_summary(
        Facts([latest], [], []), "file:///lake/reports/run-000/index.html", None
    )
    assert "[تقرير الجودة / quality report](file:///lake/reports/run-000/index.html)" in text
    assert (
        "| [a](file:///lake/reports/run-000/index.html#source-a) | 4 | 4 | 4 | 4 | 0 | 0 | — |"
        in text
    )
    assert (
        "| [b](file:///lake/reports/run-000/index.html#source-b) |" in text
        and "discovered no URL" in text
    )


def test_a_check_added_to_the_suite_brings_its_words_to_the_report() -> None:
    # What adding a check is: one more expectation in expectations/articles.json.
    added = checks.rule(
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "title"},
            "severity": "warning",
            "meta": {
                "reason": "no_title",
                "failure": {"ar": "لا عنوان للمقال", "en": "the article has no title"},
                "check": {"ar": "للمقال عنوان", "en": "the article has a title"},
            },
        }
    )
    latest = run(0, {"a": stats(discovered=2, new=2, fetched=2, stored=2)})
    problem = Problem("run-000", "a", "https://a.example/1", "عنوان", ("no_title",), False)
    facts = Facts([latest], [problem], [], rules=[*checks.rules(), added])
    page = report.render_html(report.build_view(facts), Links("", True, {}))
    assert 'data-check="no_title"' in page
    for words in ("للمقال عنوان", "the article has a title", "لا عنوان للمقال", "no title"):
        assert words in page


def test_every_check_of_the_suite_has_its_words_in_both_languages() -> None:
    arabic = re.compile(r"[\u0600-\u06ff]")
    for rule in checks.rules():
        for words in (rule.check, rule.failure):
            assert arabic.search(words.ar) and words.en.isascii() and words.en.strip()
    assert {r.reason for r in checks.rules()} <= set(report.REASONS)
