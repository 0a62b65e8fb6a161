"""rasid eval: the peer benchmarks' scoring rules, both corpus formats, golden pages, the gate.

The real corpus is not needed here (CI's gate runs `rasid eval --corpus ... --gate` on it);
these tests build tiny corpora of their own in both formats.
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rasid import evaluate
from rasid.cli import EXIT_CONFIG, main
from rasid.evaluate import Evaluation, Quality, SetResult

GOLDEN = Path(__file__).parent / "golden"

ARTICLE = """<html lang="ar"><head><meta charset="utf-8"><title>{title} - صوت الساحل</title></head>
<body><header><a href="/">صوت الساحل</a></header><article><h1>{title}</h1>
<span class="date">اللاذقية - 16 تشرين الثاني 2026</span>
<p>{first}</p><p>{second}</p></article>
<div class="comments"><h3>أضف تعليق</h3><p>لن يتم نشر عنوان بريدك الإلكتروني.</p></div>
<footer>جميع الحقوق محفوظة © 2025 صوت الساحل</footer></body></html>"""
FIRST = ("أعلنت مديرية الموانئ في اللاذقية استئناف حركة الصيد بعد توقف دام ثلاثة أيام بسبب "
         "العاصفة التي ضربت الساحل، وسمحت للمراكب الصغيرة بالخروج اعتباراً من صباح اليوم.")
SECOND = ("وقال مدير الموانئ إن الأرصاد تتوقع استقرار الطقس خلال الأسبوع المقبل، داعياً الصيادين "
          "إلى الالتزام بتعليمات السلامة والإبلاغ عن أي طارئ عبر القناة البحرية المخصصة.")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A corpus folder holding a two-page trafilatura-eval set and a one-page zyte set."""
    root = tmp_path / "corpus"
    (root / "trafilatura-eval" / "html").mkdir(parents=True)
    (root / "zyte" / "html").mkdir(parents=True)
    page = ARTICLE.format(title="استئناف الصيد في اللاذقية", first=FIRST, second=SECOND)
    (root / "trafilatura-eval" / "html" / "port.html").write_text(page, encoding="utf-8")
    (root / "trafilatura-eval" / "html" / "copy.html").write_text(page, encoding="utf-8")
    annotations = {
        "https://sahel.example/port": {"file": "port.html", "date": "2026-11-16",
                                       "with": ["استئناف حركة الصيد", "القناة البحرية"],
                                       "without": ["لن يتم نشر عنوان بريدك"]},
        "https://sahel.example/copy": {"file": "copy.html", "date": "",
                                       "with": ["بسبب العاصفة"], "without": ["© 2025"]},
    }
    (root / "trafilatura-eval" / "evaldata.json").write_text(json.dumps(annotations))
    (root / "zyte" / "html" / "k1.html.gz").write_bytes(gzip.compress(page.encode("utf-8")))
    truth = {"k1": {"url": "https://sahel.example/port", "articleBody": FIRST + "\n" + SECOND}}
    (root / "zyte" / "ground-truth.json").write_text(json.dumps(truth))
    return root


@pytest.fixture
def one_golden(tmp_path: Path) -> Path:
    folder = tmp_path / "golden"
    folder.mkdir()
    for name in ("levantine_dateline.html", "levantine_dateline.expected.json"):
        shutil.copy(GOLDEN / name, folder / name)
    return folder


# --- the peer benchmarks' scoring rules -------------------------------------------------------

def test_snippets_match_after_whitespace_is_normalised() -> None:
    expected = {"with": ["first  part", "missing bit"], "without": ["menu\nitem", "absent"]}
    text = "first\npart of the text, then the menu   item"
    assert evaluate.snippet_counts(expected, text) == (1.0, 1.0, 1.0)
    # Pooled over pages: 3 found, 1 leaked, 1 missed.
    quality = evaluate.pooled_quality([(1.0, 1.0, 1.0), (2.0, 0.0, 0.0)])
    assert (quality.precision, quality.recall) == (0.75, 0.75)


def test_shingles_count_repeats_and_each_page_weighs_the_same() -> None:
    truth = "one two three four five"  # shingles: (1-4), (2-5)
    assert evaluate.shingle_counts(truth, truth) == (1.0, 0.0, 0.0)
    # The text twice: 7 shingles, of which the 2 true ones match once; 3 at the seam and the
    # 2 repeats are extra.
    tp, fp, fn = evaluate.shingle_counts(truth, truth + " " + truth)
    assert (tp, fp, fn) == pytest.approx((2 / 7, 5 / 7, 0.0))
    # A text shorter than a shingle is one short shingle.
    assert evaluate.shingle_counts("a b", "a b") == (1.0, 0.0, 0.0)


def test_pages_without_a_prediction_are_left_out_of_the_precision_average() -> None:
    perfect, empty, half = (1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.5, 0.5, 0.0)
    quality = evaluate.averaged_quality([perfect, empty, half])
    assert quality.precision == pytest.approx(0.75)  # (1 + 0.5) / 2: the empty page is skipped
    assert quality.recall == pytest.approx(2 / 3)  # (1 + 0 + 1) / 3


def test_a_day_off_only_by_time_zone_is_told_apart() -> None:
    late_in_new_york = datetime(2023, 11, 9, 3, 5, tzinfo=UTC)  # Damascus: the 9th
    assert evaluate.off_by_time_zone("2023-11-08", late_in_new_york)
    assert not evaluate.off_by_time_zone("2023-11-06", late_in_new_york)
    assert not evaluate.off_by_time_zone("2023-29-11", late_in_new_york)  # not a date
    damascus_midnight = datetime(2023, 11, 8, 21, 0, tzinfo=UTC)  # a bare day: the 9th at 00:00
    assert not evaluate.off_by_time_zone("2023-11-08", damascus_midnight)


def test_a_day_one_calendar_day_off_is_told_apart_for_either_extractor() -> None:
    assert evaluate.one_day_apart("2023-11-08", "2023-11-09")
    assert evaluate.one_day_apart("2023-11-01", "2023-10-31")
    assert not evaluate.one_day_apart("2023-11-08", "2023-11-10")
    assert not evaluate.one_day_apart("2023-29-11", "2023-11-29")  # not a date
    assert not evaluate.one_day_apart("2023-11-08", None)


# --- reading the sets and running both extractors ------------------------------------------------

def test_both_corpus_formats_and_golden_pages_are_scored_side_by_side(
        corpus: Path, one_golden: Path) -> None:
    cases = evaluate.load_cases(corpus, one_golden)
    assert Counter(c.corpus for c in cases) == {"trafilatura-eval": 2, "zyte": 1, "golden": 1}
    result = evaluate.evaluate(cases, workers=1)
    peer, zyte, golden = (result.sets[name] for name in ("trafilatura-eval", "zyte", "golden"))
    assert peer.pages == 2 and set(peer.quality) == {"rasid", "trafilatura"}
    # rasid keeps the article and drops the comment form; only one page carries a date.
    assert peer.quality["rasid"] == Quality(1.0, 1.0, 1.0)
    assert peer.dates["rasid"] == Counter(right=1)
    assert sum(peer.dates["trafilatura"].values()) == 1
    assert zyte.quality["rasid"].recall == 1.0 and not zyte.dates["rasid"]
    assert golden.problems == {} and golden.dates["rasid"] == Counter(right=1)
    table = evaluate.render(result)
    assert "rasid passes every check on 1/1 pages" in table
    assert table.count("trafilatura ") >= 3


def test_a_golden_page_that_regresses_is_named_with_what_went_wrong(one_golden: Path) -> None:
    path = one_golden / "levantine_dateline.expected.json"
    expected = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(expected | {"published_date": "2026-11-15",
                                           "body_not_contains": [expected["body_contains"][0]]}))
    result = evaluate.evaluate(evaluate.load_cases(None, one_golden), workers=1)
    [problems] = result.sets["golden"].problems.values()
    assert any(p.startswith("date ('2026-11-16'") for p in problems)
    assert any(p.startswith("body has ") for p in problems)
    assert any("golden levantine_dateline" in f for f in result.gate_failures())


# --- the gate ---------------------------------------------------------------------------------

def scored(rasid_f1: float, plain_f1: float, problems: dict[str, list[str]] | None = None
           ) -> Evaluation:
    def one(name: str) -> SetResult:
        quality = {"rasid": Quality(rasid_f1, rasid_f1, rasid_f1),
                   "trafilatura": Quality(plain_f1, plain_f1, plain_f1)}
        return SetResult(name, 10, quality, {}, (problems or {}) if name == "golden" else {})
    return Evaluation({name: one(name) for name in ("trafilatura-eval", "zyte", "golden")})


def test_gate_allows_rasid_at_most_the_margin_below_plain_trafilatura() -> None:
    assert scored(0.9236, 0.9255).gate_failures() == []
    failures = scored(0.9230, 0.9255).gate_failures()
    assert len(failures) == 2 and all("more than 0.002 below" in f for f in failures)
    golden = scored(0.95, 0.93, {"dual_month": ["date (None, None)"]}).gate_failures()
    assert golden == ["golden dual_month: date (None, None)"]


def test_gate_without_the_peer_sets_fails_rather_than_passing_unmeasured() -> None:
    partial = scored(0.95, 0.93)
    del partial.sets["zyte"]
    assert partial.gate_failures() == ["zyte: not evaluated (give --corpus)"]


def test_cli_prints_the_table_and_the_gate_verdict(
        corpus: Path, one_golden: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["eval", "--corpus", str(corpus), "--golden", str(one_golden), "--gate",
                   "--workers", "1"])
    out = capsys.readouterr().out
    assert "trafilatura-eval" in out and "zyte" in out and "golden" in out
    assert status == 0 and "gate: passed" in out
    assert main(["eval", "--golden", str(one_golden), "--gate", "--workers", "1"]) == 1
    assert "zyte: not evaluated" in capsys.readouterr().out
    assert main(["eval", "--corpus", str(corpus / "absent")]) == EXIT_CONFIG
