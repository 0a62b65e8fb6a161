"""Extraction quality: rasid and plain trafilatura on the same pages, scored in one run.

Three sets, each scored the way its authors score it:

- ``trafilatura-eval`` (adbar/trafilatura's evaldata.json format): snippets the text must
  contain ("with") and must not ("without"); whitespace-normalised substring matching; a
  "with" found is a true positive, missed a false negative, a "without" found a false
  positive; precision, recall and F1 over all snippets.
- ``zyte`` (scrapinghub/article-extraction-benchmark): the annotated ``articleBody``;
  true/false positives over 4-token shingles (``\\w+`` tokens, counted with multiplicity),
  normalised per page so a long page weighs no more than a short one; precision and recall
  averaged over pages, F1 from the two averages.
- ``golden`` (tests/golden): rasid's own traps, with the same snippet scoring as
  trafilatura-eval, and every check of the page's .expected.json (title, date and its source,
  flags, language, text stored once) must hold for rasid.

rasid is scored on what the lake stores as the article text, ``body``, extracted from the
page's bytes exactly as a run does (``fetch.decoding.decode_html``, then ``extract.extract``). The
headline is stored in ``title`` and kept out of the body, so a set that counts the headline
as article text (trafilatura-eval does on a few pages) costs rasid those snippets, and a set
that does not (zyte) costs plain trafilatura precision. Plain trafilatura runs as the
benchmarks run it: ``bare_extraction`` without comments, with tables, on the bytes
(trafilatura-eval, golden) or on the text decoded as UTF-8 (zyte); it is also given the
page's URL and asked for metadata, for its date, which leaves its text as it is.

Dates: a page's verdict is right, wrong (a date other than the annotated one, or any date
where the annotation says there is none) or missing; pages without an annotated date are
not counted. A wrong day one calendar day from the annotated one is counted apart, for both
extractors, as "a day off" (the usual time-zone slip); for rasid so is a day whose instant
carried a time of day and falls on the annotated day in some time zone (UTC-12 to UTC+14):
rasid reads naive times in the source's time zone (Asia/Damascus, the default, for the peer
sets, whose pages come from everywhere).
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import trafilatura

from rasid.extract import extract, extraction_pool
from rasid.fetch.decoding import decode_html
from rasid.models import Extracted

TRAFILATURA_EVAL, ZYTE, GOLDEN = "trafilatura-eval", "zyte", "golden"
PEER_SETS = (TRAFILATURA_EVAL, ZYTE)
EXTRACTORS = ("rasid", "trafilatura")
GATE_MARGIN = 0.002  # rasid's F1 may trail plain trafilatura's by this much on a peer set
SHINGLE = 4
# "Now" for every page: the golden pages were written in November 2026, and a fixed moment
# keeps "date in the future" verdicts, and so the scores, the same from run to run.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CHUNKSIZE = 4  # pages per task: extraction time varies a lot between pages
TIMEZONE = "Asia/Damascus"  # extract's default: the peer sets' pages and most golden ones


@dataclass(frozen=True)
class Case:
    """One page of a set, with what its annotation expects."""

    corpus: str  # TRAFILATURA_EVAL, ZYTE or GOLDEN
    name: str
    url: str
    path: Path
    expected: dict[str, Any]


# --- reading the sets ---------------------------------------------------------------------


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def load_trafilatura_eval(root: Path) -> list[Case]:
    return [Case(TRAFILATURA_EVAL, item["file"], url, root / "html" / item["file"], item)
            for url, item in _json(root / "evaldata.json").items()]


def load_zyte(root: Path) -> list[Case]:
    return [Case(ZYTE, key, item.get("url", ""), root / "html" / f"{key}.html.gz", item)
            for key, item in _json(root / "ground-truth.json").items()]


def load_golden(root: Path) -> list[Case]:
    cases = []
    for path in sorted(root.glob("*.expected.json")):
        name = path.name.removesuffix(".expected.json")
        expected = _json(path)
        cases.append(Case(GOLDEN, name, expected["url"], root / f"{name}.html", expected))
    return cases


def load_cases(corpus: Path | None, golden: Path | None) -> list[Case]:
    """The pages of both peer sets under ``corpus`` and the golden pages under ``golden``."""
    cases: list[Case] = []
    if corpus is not None:
        cases += load_trafilatura_eval(corpus / TRAFILATURA_EVAL) + load_zyte(corpus / ZYTE)
    if golden is not None:
        cases += load_golden(golden)
    return cases


def _content(case: Case) -> bytes:
    data = case.path.read_bytes()
    return gzip.decompress(data) if case.path.suffix == ".gz" else data


# --- the two extractors -------------------------------------------------------------------


def golden_kwargs(expected: dict[str, Any]) -> dict[str, Any]:
    """The source settings and feed hint a golden page is extracted with."""
    kwargs: dict[str, Any] = {"timezone": expected.get("timezone", TIMEZONE)}
    if "founded" in expected:
        kwargs["founded"] = date.fromisoformat(expected["founded"])
    if "hint" in expected:
        moment, source = expected["hint"]
        kwargs.update(published_hint=datetime.fromisoformat(moment), hint_source=source)
    return kwargs


def run_rasid(case: Case, content: bytes) -> Extracted:
    html, _, _ = decode_html(content, None)
    kwargs = golden_kwargs(case.expected) if case.corpus == GOLDEN else {"timezone": TIMEZONE}
    return extract(html, case.url, now=NOW, **kwargs)


@dataclass(frozen=True)
class Plain:
    """What plain trafilatura gives for a page: its text and the day it dates the page."""

    text: str
    published: str | None  # ISO day


def run_trafilatura(case: Case, content: bytes) -> Plain:
    source: bytes | str = content.decode("utf-8", "replace") if case.corpus == ZYTE else content
    document = trafilatura.bare_extraction(source, url=case.url or None, with_metadata=True,
                                           include_comments=False, include_tables=True)
    day = getattr(document, "date", None) or ""
    return Plain(getattr(document, "text", None) or "", day[:10] or None)


# --- scoring one page ---------------------------------------------------------------------

Counts = tuple[float, float, float]  # true positives, false positives, false negatives


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def snippet_counts(expected: dict[str, Any], text: str,
                   keys: tuple[str, str] = ("with", "without")) -> Counts:
    wanted, unwanted = (expected.get(key, []) for key in keys)
    flat = _squeeze(text)
    found = sum(_squeeze(s) in flat for s in wanted)
    leaked = sum(_squeeze(s) in flat for s in unwanted)
    return float(found), float(leaked), float(len(wanted) - found)


_TOKEN = re.compile(r"\w+")


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    # A text shorter than a shingle is one short shingle, so it can still match.
    return Counter(tuple(tokens[i:i + SHINGLE])
                   for i in range(max(1, len(tokens) - SHINGLE + 1)) if tokens[i:i + SHINGLE])


def shingle_counts(expected: str, text: str) -> Counts:
    """Shingle matches, normalised to sum to 1 so that every page weighs the same."""
    truth, guess = _shingles(expected), _shingles(text)
    tp = sum((truth & guess).values())
    fp = sum((guess - truth).values())
    fn = sum((truth - guess).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def date_verdict(expected: str | None, found: str | None) -> str:
    if found is None:
        return "right" if expected is None else "missing"
    return "right" if found == expected else "wrong"


EARTH_ZONES = (timedelta(hours=14), timedelta(hours=12))  # UTC+14 ... UTC-12


def off_by_time_zone(expected: str, published_at: datetime | None) -> bool:
    """Whether a timed instant falls on the ``expected`` day in some time zone on Earth."""
    if published_at is None or published_at.astimezone(ZoneInfo(TIMEZONE)).time() == time(0):
        return False  # no time of day: the day itself was read, and it is another day
    try:
        day = date.fromisoformat(expected)
    except ValueError:  # a few annotations are not dates ("2022-29-11")
        return False
    start = datetime.combine(day, time(0), UTC) - EARTH_ZONES[0]
    return start <= published_at < start + timedelta(days=1) + sum(EARTH_ZONES, timedelta())


def one_day_apart(expected: str, found: str | None) -> bool:
    try:
        return found is not None and abs(
            date.fromisoformat(expected) - date.fromisoformat(found)) == timedelta(days=1)
    except ValueError:  # a few annotations are not dates ("2022-29-11")
        return False


def _expected_day(case: Case) -> tuple[bool, str | None]:
    """(annotated?, the day): trafilatura-eval leaves some dates blank (not annotated);
    a golden page's null date means the page has none."""
    if case.corpus == GOLDEN:
        return True, case.expected["published_date"]
    day = (case.expected.get("date") or "")[:10]
    return bool(day), day or None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def golden_problems(expected: dict[str, Any], record: Extracted) -> list[str]:
    """What differs between a golden page's expectations and rasid's record; empty if none."""
    problems = []
    if record.title != expected["title"]:
        problems.append(f"title {record.title!r}")
    published = (_iso(record.published_date), record.date_source)
    if published != (expected["published_date"], expected["date_source"]):
        problems.append(f"date {published}")
    if "published_at" in expected and record.published_at != datetime.fromisoformat(
            expected["published_at"]):
        problems.append(f"published_at {record.published_at}")
    problems += [f"body lacks {s!r}" for s in expected["body_contains"] if s not in record.body]
    problems += [f"body has {s!r}" for s in expected["body_not_contains"] if s in record.body]
    problems += [f"body has {s!r} {record.body.count(s)} times"
                 for s in expected.get("body_once", []) if record.body.count(s) != 1]
    if record.repeated_share < expected.get("repeated_share_min", 0.0):
        problems.append(f"repeated_share {record.repeated_share}")
    if sorted(record.flags) != sorted(expected["flags"]):
        problems.append(f"flags {sorted(record.flags)}")
    if record.language != expected["language"]:
        problems.append(f"language {record.language}")
    if "canonical_url" in expected and record.canonical_url != expected["canonical_url"]:
        problems.append(f"canonical_url {record.canonical_url}")
    return problems


@dataclass(frozen=True)
class PageResult:
    corpus: str
    name: str
    counts: dict[str, Counts]  # by extractor
    dates: dict[str, str | None]  # by extractor: right / wrong / missing / day off, or None
    problems: list[str]  # golden pages: rasid's failed checks


def _counts(case: Case, text: str) -> Counts:
    if case.corpus == ZYTE:
        return shingle_counts(case.expected.get("articleBody", ""), text)
    keys = ("body_contains", "body_not_contains") if case.corpus == GOLDEN else ("with", "without")
    return snippet_counts(case.expected, text, keys)


def score_page(case: Case) -> PageResult:
    """Both extractors on one page, scored by the page's set's rules."""
    content = _content(case)
    ours, plain = run_rasid(case, content), run_trafilatura(case, content)
    annotated, day = _expected_day(case)
    found = {"rasid": _iso(ours.published_date), "trafilatura": plain.published}
    dates = {name: date_verdict(day, value) if annotated else None for name, value in found.items()}
    if case.corpus != GOLDEN and day:
        for name, value in found.items():
            timed = name == "rasid" and off_by_time_zone(day, ours.published_at)
            if dates[name] == "wrong" and (one_day_apart(day, value) or timed):
                dates[name] = "day off"
    return PageResult(
        case.corpus, case.name,
        counts={"rasid": _counts(case, ours.body), "trafilatura": _counts(case, plain.text)},
        dates=dates,
        problems=golden_problems(case.expected, ours) if case.corpus == GOLDEN else [],
    )


# --- a set's scores -----------------------------------------------------------------------


@dataclass(frozen=True)
class Quality:
    precision: float
    recall: float
    f1: float


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def pooled_quality(counts: Iterable[Counts]) -> Quality:
    """Precision and recall over all snippets of all pages (trafilatura-eval's rule)."""
    tp = fp = fn = 0.0
    for page_tp, page_fp, page_fn in counts:
        tp, fp, fn = tp + page_tp, fp + page_fp, fn + page_fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return Quality(precision, recall, _f1(precision, recall))


def _page_share(tp: float, wrong: float, other_wrong: float) -> float:
    """tp / (tp + wrong): a page's precision (wrong = fp) or recall (wrong = fn); 1 when
    the page is perfect."""
    return 1.0 if wrong == other_wrong == 0 else tp / (tp + wrong)


def averaged_quality(counts: Iterable[Counts]) -> Quality:
    """Per-page precision and recall, averaged (zyte's rule): a page with no predicted text
    is left out of the precision average, one with no expected text out of the recall one."""
    pages = list(counts)
    precisions = [_page_share(tp, fp, fn) for tp, fp, fn in pages if tp + fp > 0]
    recalls = [_page_share(tp, fn, fp) for tp, fp, fn in pages if tp + fn > 0]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    return Quality(precision, recall, _f1(precision, recall))


@dataclass
class SetResult:
    corpus: str
    pages: int
    quality: dict[str, Quality]  # by extractor
    dates: dict[str, Counter[str]]  # by extractor: right / wrong / missing
    problems: dict[str, list[str]] = field(default_factory=dict)  # golden page -> rasid's

    @classmethod
    def of(cls, corpus: str, results: list[PageResult]) -> SetResult:
        aggregate = averaged_quality if corpus == ZYTE else pooled_quality
        return cls(
            corpus, len(results),
            quality={name: aggregate(r.counts[name] for r in results) for name in EXTRACTORS},
            dates={name: Counter(v for r in results if (v := r.dates[name]))
                   for name in EXTRACTORS},
            problems={r.name: r.problems for r in results if r.problems},
        )


@dataclass
class Evaluation:
    sets: dict[str, SetResult]

    def gate_failures(self) -> list[str]:
        """Why the quality gate fails; empty when it passes. Both peer sets must be present:
        a gate that skipped them would pass without having measured anything."""
        failures = []
        for corpus in PEER_SETS:
            result = self.sets.get(corpus)
            if result is None:
                failures.append(f"{corpus}: not evaluated (give --corpus)")
                continue
            ours, plain = result.quality["rasid"].f1, result.quality["trafilatura"].f1
            if ours < plain - GATE_MARGIN:
                failures.append(f"{corpus}: rasid F1 {ours:.4f} is more than {GATE_MARGIN} "
                                f"below plain trafilatura's {plain:.4f}")
        golden = self.sets.get(GOLDEN)
        if golden is None:
            failures.append("golden: not evaluated (give --golden)")
        else:
            failures += [f"golden {name}: {'; '.join(problems)}"
                         for name, problems in sorted(golden.problems.items())]
        return failures


def evaluate(cases: list[Case], workers: int = 1) -> Evaluation:
    """Score every case with both extractors, across ``workers`` processes."""
    with extraction_pool(workers) as pool:
        results = list(pool.map(score_page, cases, chunksize=CHUNKSIZE) if pool
                       else map(score_page, cases))
    by_set: dict[str, list[PageResult]] = {}
    for result in results:
        by_set.setdefault(result.corpus, []).append(result)
    return Evaluation({corpus: SetResult.of(corpus, pages) for corpus, pages in by_set.items()})


# --- the table ----------------------------------------------------------------------------


def _dates(tally: Counter[str]) -> str:
    total = sum(tally.values())
    if not total:
        return "-"
    zone = f", {tally['day off']} a day off" if tally["day off"] else ""
    return (f"{tally['right']}/{total} right ({tally['right'] / total:.1%}){zone}, "
            f"{tally['wrong']} wrong, {tally['missing']} missing")


def render(evaluation: Evaluation) -> str:
    header = (f"{'set':<17}{'pages':>6}  {'extractor':<12}{'precision':>10}{'recall':>8}"
              f"{'F1':>8}  dates")
    lines = [header, "-" * len(header)]
    for corpus in (*PEER_SETS, GOLDEN):
        result = evaluation.sets.get(corpus)
        if result is None:
            continue
        for index, name in enumerate(EXTRACTORS):
            q = result.quality[name]
            first = f"{corpus:<17}{result.pages:>6}" if index == 0 else " " * 23
            lines.append(f"{first}  {name:<12}{q.precision:>10.4f}{q.recall:>8.4f}{q.f1:>8.4f}"
                         f"  {_dates(result.dates[name])}")
        if corpus == GOLDEN:
            passing = result.pages - len(result.problems)
            lines.append(f"{'':23}  rasid passes every check on {passing}/{result.pages} pages")
    return "\n".join(lines)
