"""The report page's view model: every figure, note and list the page shows, computed once
from the Facts. The templates only lay it out; a new section is one field here (built in
``build``) and one template under templates/sections/."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from rasid import charts, checks
from rasid.checks import Words
from rasid.report import labels, trends
from rasid.report.facts import Facts, FailedFetch, Manifest, Problem, when
from rasid.report.labels import COUNT_LABELS, CountLabel
from rasid.report.news import News

# Lists of failing articles longer than this start folded.
OPEN_LIMIT = 25


@dataclass(frozen=True)
class Count:
    label: CountLabel
    value: int


@dataclass(frozen=True)
class Rate:
    checked: int
    failed: int

    @property
    def percent(self) -> str:
        return trends.percent(trends.pass_rate(self.checked, self.failed))


@dataclass(frozen=True)
class CheckRow:
    reason: str
    name: Words  # what the check asks
    blocking: bool
    now: Rate  # the reported run
    overall: Rate  # every run shown
    sparkline: Markup  # pass rate per run, inline SVG


@dataclass(frozen=True)
class Figure:
    """One trend chart: per run or per day."""

    slot: str  # "run" | "day"
    title: Words
    ymax: str  # the top of the scale, as printed
    svg: Markup
    first: str  # the first and last slot, under the chart
    last: str


@dataclass(frozen=True)
class Trend:
    key: str  # "all" or a source id
    source: str | None
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class Reason:
    words: Words
    blocking: bool


@dataclass(frozen=True)
class ProblemItem:
    problem: Problem
    check: str  # the group it is listed under
    reasons: tuple[Reason, ...]
    time: str
    fresh: bool  # from the reported run


@dataclass(frozen=True)
class ProblemGroup:
    reason: str
    words: Words
    items: tuple[ProblemItem, ...]

    @property
    def open(self) -> bool:
        return len(self.items) <= OPEN_LIMIT


@dataclass(frozen=True)
class FailureItem:
    failure: FailedFetch
    words: Words
    time: str


@dataclass(frozen=True)
class SourceView:
    id: str
    name: str
    notes: tuple[Words, ...]  # what needs attention; none: working as expected
    counts: tuple[Count, ...]
    checks: tuple[CheckRow, ...]
    trend: Trend
    problems: tuple[ProblemGroup, ...]
    failures: tuple[FailureItem, ...]

    @property
    def anchor(self) -> str:
        return anchor(self.id)


@dataclass(frozen=True)
class RunRow:
    run_id: str
    time: str
    counts: tuple[Count, ...]
    has_report: bool  # links to it only where runs' reports sit beside each other


@dataclass(frozen=True)
class ReportView:
    title: str
    run_id: str
    time: str
    first_time: str  # of the earliest run shown
    runs_shown: int
    totals: tuple[Count, ...]
    sources: tuple[SourceView, ...]
    trend: Trend  # all sources
    history: tuple[RunRow, ...]  # newest first
    news: News = News()  # what the news said: stories, places, people, watchlists

    @property
    def attention(self) -> tuple[SourceView, ...]:
        return tuple(s for s in self.sources if s.notes)


def anchor(source: str) -> str:
    return f"source-{source}"


def build(facts: Facts) -> ReportView:
    run = facts.run
    times = {m["run_id"]: when(m) for m in facts.runs}
    return ReportView(
        title=f"راصد — تقرير جودة البيانات — {when(run)}",
        run_id=run["run_id"],
        time=when(run),
        first_time=when(facts.runs[0]),
        runs_shown=len(facts.runs),
        totals=_counts(run["totals"]),
        sources=tuple(_source(facts, sid, times) for sid in facts.sources),
        trend=_trend(facts, None, "all"),
        history=tuple(_run_row(m) for m in reversed(facts.runs)),
        news=facts.news,
    )


def _counts(stats: dict[str, int]) -> tuple[Count, ...]:
    return tuple(Count(label, int(stats[label.key])) for label in COUNT_LABELS)


def _source(facts: Facts, sid: str, times: dict[str, str]) -> SourceView:
    return SourceView(
        id=sid,
        name=facts.name(sid),
        notes=tuple(facts.notes.get(sid, ())),
        counts=_counts(facts.run["sources"][sid]),
        checks=tuple(_check_row(facts, sid, rule) for rule in facts.rules),
        trend=_trend(facts, sid, sid),
        problems=_problem_groups(facts, sid, times),
        failures=tuple(
            FailureItem(f, labels.fetch_reason(f.reason), times[f.run_id])
            for f in facts.failures
            if f.source == sid
        ),
    )


def _check_row(facts: Facts, sid: str, rule: checks.Rule) -> CheckRow:
    per_run = []
    for manifest in facts.runs:
        stats = manifest["sources"].get(sid)
        checked = stats["stored"] + stats["quarantined"] if stats else 0
        per_run.append(Rate(checked, facts.failed(manifest["run_id"], sid, rule.reason)))
    overall = Rate(sum(r.checked for r in per_run), sum(r.failed for r in per_run))
    rates = [trends.pass_rate(r.checked, r.failed) for r in per_run]
    return CheckRow(
        reason=rule.reason,
        name=rule.check,
        blocking=rule.blocking,
        now=per_run[-1],
        overall=overall,
        sparkline=Markup(charts.sparkline(rates, label=rule.reason)),
    )


def _trend(facts: Facts, source: str | None, key: str) -> Trend:
    figures = []
    for slot, title, (slots, series) in (
        ("run", Words("حسب الجولة", "per run"), trends.per_run(facts.runs, source)),
        ("day", Words("حسب اليوم (UTC)", "per day (UTC)"), trends.per_day(facts.runs, source)),
    ):
        layers = [
            charts.Series(k, f"{words.ar} / {words.en}", series[k])
            for k, words in trends.TREND_LAYERS
        ]
        top = trends.DISCOVERED
        line = charts.Series("discovered", f"{top.ar} / {top.en}", series["discovered"])
        svg = charts.stacked_bars(slots, layers, line, label=f"{key}, {title.en}")
        figures.append(
            Figure(slot, title, f"{charts.scale(layers, line):g}", Markup(svg), slots[0], slots[-1])
        )
    return Trend(key, source, tuple(figures))


def _problem_groups(facts: Facts, sid: str, times: dict[str, str]) -> tuple[ProblemGroup, ...]:
    mine = [p for p in facts.problems if p.source == sid]
    groups = []
    for rule in facts.rules:
        failing = [p for p in mine if rule.reason in p.reasons]
        if failing:
            items = tuple(_problem_item(facts, p, rule.reason, times) for p in failing)
            groups.append(ProblemGroup(rule.reason, rule.failure, items))
    return tuple(groups)


def _problem_item(facts: Facts, problem: Problem, check: str, times: dict[str, str]) -> ProblemItem:
    reasons = tuple(Reason(facts.words(code), code in facts.blocking) for code in problem.reasons)
    fresh = problem.run_id == facts.run["run_id"]
    return ProblemItem(problem, check, reasons, times[problem.run_id], fresh)


def _run_row(manifest: Manifest) -> RunRow:
    return RunRow(
        run_id=manifest["run_id"],
        time=when(manifest),
        counts=_counts(manifest["totals"]),
        has_report=bool(manifest.get("report")),
    )
