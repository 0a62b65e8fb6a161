"""One bad host never holds up the run: real outlets on loopback (one port, one host each) that
stall, recover, answer 503 in bursts or answer slowly, beside a steady one."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from rasid.config import Settings, Source
from rasid.fetch import Fetcher
from rasid.fetch.lanes import Budget, FetchStream
from rasid.models import (
    HOST_OUT_OF_TIME,
    HOST_UNRESPONSIVE,
    RUN_OUT_OF_TIME,
    Candidate,
    FetchFailure,
    Page,
)

WORDS = ("المدينة", "السوق", "الطريق", "المدرسة", "المستشفى", "البلدية", "الأهالي", "الماء",
         "الكهرباء", "المزارعون", "القمح", "الموسم", "الشتاء", "الجسر", "النهر", "الحافلة",
         "العمال", "المصنع", "الشباب", "المكتبة", "الملعب", "الحديقة", "المطر", "الخبز",
         "افتتح", "أعلن", "قال", "أكد", "وصل", "بدأ", "انتهى", "ارتفع", "انخفض", "ينتظر",
         "الجديد", "القديم", "الكبير", "الصغير", "اليوم", "أمس", "غدا", "صباحا", "مساء")

# Each route answers one article request; ``n`` counts that host's article requests so far.
Route = Callable[[BaseHTTPRequestHandler, int, "Outlet"], None]


def article(host: str, path: str) -> bytes:
    rng = random.Random(f"{host}{path}")
    paragraphs = "".join("<p>" + " ".join(rng.choice(WORDS) for _ in range(40)) + ".</p>"
                         for _ in range(4))
    title = " ".join(rng.choice(WORDS) for _ in range(5))
    return (f'<html lang="ar"><head><meta charset="utf-8"><title>{title}</title>'
            '<meta property="article:published_time" content="2026-03-01T08:00:00+00:00">'
            f"</head><body><article><h1>{title}</h1>{paragraphs}</article></body></html>"
            ).encode()


class Outlet:
    """A news site on its own loopback port: a feed of ``pages`` articles, each answered by
    ``route``."""

    def __init__(self, name: str, pages: int, route: Route) -> None:
        self.name, self.pages, self.route = name, pages, route
        self.requests = 0  # article requests seen
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        outlet = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path == "/feed.xml":
                    return self.send(200, outlet.feed(), "application/rss+xml")
                if not self.path.startswith("/a/"):
                    return self.send(404, b"", "text/plain")
                with outlet.lock:
                    outlet.requests += 1
                    n = outlet.requests
                outlet.route(self, n, outlet)

            def send(self, status: int, body: bytes, kind: str = "text/html; charset=utf-8") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def urls(self) -> list[str]:
        return [f"{self.base}/a/{i}" for i in range(self.pages)]

    def feed(self) -> bytes:
        items = "".join(f"<item><title>خبر {i}</title><link>{url}</link>"
                        "<pubDate>Sun, 01 Mar 2026 08:00:00 GMT</pubDate></item>"
                        for i, url in enumerate(self.urls()))
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>{self.name}</title><link>{self.base}/</link>{items}</channel></rss>"
                ).encode()

    def source(self, **overrides: Any) -> Source:
        values = {"id": self.name, "name": f"صحيفة {self.name}", "homepage": f"{self.base}/",
                  "feeds": [f"{self.base}/feed.xml"], "min_delay_seconds": 0.0,
                  "max_concurrency": 2} | overrides
        return Source(**values)

    def candidates(self) -> list[Candidate]:
        return [Candidate(url=u, source_id=self.name, via="feed") for u in self.urls()]

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def steady(handler: Any, n: int, outlet: Outlet) -> None:
    handler.send(200, article(outlet.name, handler.path))


def stalled(handler: Any, n: int, outlet: Outlet) -> None:
    """Headers, then a byte a second, never finishing: an overloaded site."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", "1000000")
    handler.end_headers()
    try:
        while not outlet.stopping.wait(1.0):
            handler.wfile.write(b"<")
            handler.wfile.flush()
    except OSError:
        pass


def recovers_after(bad: int) -> Route:
    def route(handler: Any, n: int, outlet: Outlet) -> None:
        (stalled if n <= bad else steady)(handler, n, outlet)
    return route


def bursts_of_503(length: int, every: int) -> Route:
    """Requests ``1..length`` of every ``every`` answer 503; the others are served."""
    def route(handler: Any, n: int, outlet: Outlet) -> None:
        if (n - 1) % every < length:
            handler.send(503, b"busy")
        else:
            steady(handler, n, outlet)
    return route


def slow(seconds: float) -> Route:
    def route(handler: Any, n: int, outlet: Outlet) -> None:
        time.sleep(seconds)
        steady(handler, n, outlet)
    return route


@contextmanager
def outlets(*specs: tuple[str, int, Route]) -> Iterator[list[Outlet]]:
    running = [Outlet(*spec) for spec in specs]
    try:
        yield running
    finally:
        for outlet in running:
            outlet.stop()


def settings(**overrides: Any) -> Settings:
    values = {"allow_private_hosts": "127.0.0.1", "response_deadline": 1.0,
              "read_timeout": 5.0, "max_retries": 3} | overrides
    return Settings(**values)


def fetch_everything(stream: FetchStream, wait: float = 0.2) -> list[tuple[list[Page], list[FetchFailure]]]:
    batches = []
    while stream.pending:
        batches.append(stream.take(1000, wait))
    return batches


def by_source(batches: list[tuple[list[Page], list[FetchFailure]]]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for pages, failures in batches:
        for page in pages:
            counts.setdefault(page.source_id, {}).setdefault("page", 0)
            counts[page.source_id]["page"] += 1
        for failure in failures:
            counts.setdefault(failure.source_id, {}).setdefault(failure.reason, 0)
            counts[failure.source_id][failure.reason] += 1
    return counts


def test_a_stalled_host_is_set_aside_and_the_steady_one_does_not_wait() -> None:
    config = settings()
    with outlets(("steady", 10, steady), ("stalled", 12, stalled)) as (good, bad):
        source = bad.source()
        jobs = [(good.source(), good.candidates()), (source, bad.candidates())]
        started = time.monotonic()
        batches = fetch_everything(FetchStream(Fetcher(config), jobs, Budget.starting_now(600)))
        elapsed = time.monotonic() - started
        requested = bad.requests

    # Batches closed on their time limit with the steady pages, before the stalled host's
    # first failure came in: the steady outlet did not wait for it.
    steady_in = [n for n, (pages, _) in enumerate(batches) if any(p.source_id == "steady" for p in pages)]
    stalled_in = [n for n, (_, failures) in enumerate(batches) if failures]
    assert max(steady_in) < min(stalled_in)
    counts = by_source(batches)
    assert counts["steady"] == {"page": 10}
    # After host_failure_limit consecutive deadlines the host is left alone: at most the
    # requests already in flight when the limit was reached were started.
    limit, width = source.host_failure_limit, source.max_concurrency
    assert limit <= requested <= limit + width - 1
    assert counts["stalled"]["deadline_exceeded"] == requested
    assert counts["stalled"][HOST_UNRESPONSIVE] == 12 - requested
    left = [f for _, fs in batches for f in fs if f.reason == HOST_UNRESPONSIVE]
    assert all(f.transient and f.candidate and f.candidate.url == f.url for f in left)
    # Bounded by the rule, not by the number of URLs: rounds of `width` requests, each at most
    # one response deadline (plus the watchdog's and the threads' slack).
    rounds = math.ceil(requested / width)
    assert elapsed <= rounds * (config.response_deadline + 1.0) + 2.0


def test_a_host_that_recovers_half_way_keeps_going() -> None:
    with outlets(("recovering", 12, recovers_after(2))) as (site,):
        source = site.source(max_concurrency=1)
        batches = fetch_everything(FetchStream(Fetcher(settings()), [(source, site.candidates())],
                                               Budget.starting_now(600)))
    assert source.host_failure_limit > 2
    assert by_source(batches)["recovering"] == {"deadline_exceeded": 2, "page": 10}


def test_503_bursts_are_ridden_out_by_retries_and_never_set_the_host_aside() -> None:
    with outlets(("bursty", 12, bursts_of_503(length=2, every=5))) as (site,):
        source = site.source(max_concurrency=1)
        batches = fetch_everything(FetchStream(Fetcher(settings()), [(source, site.candidates())],
                                               Budget.starting_now(600)))
        assert site.requests > 12  # the bursts were met, and retried
    assert by_source(batches)["bursty"] == {"page": 12}


def test_a_host_that_always_answers_503_is_set_aside() -> None:
    with outlets(("down", 10, bursts_of_503(length=10**6, every=10**6))) as (site,):
        source = site.source(max_concurrency=1, host_failure_limit=2)
        config = settings(max_retries=1)
        batches = fetch_everything(FetchStream(Fetcher(config), [(source, site.candidates())],
                                               Budget.starting_now(600)))
        assert site.requests == 2 * (config.max_retries + 1)  # two URLs, each with its retry
    assert by_source(batches)["down"] == {"http_503": 2, HOST_UNRESPONSIVE: 8}


def test_a_slow_but_steady_host_is_not_punished() -> None:
    config = settings()
    with outlets(("slow", 8, slow(0.6 * config.response_deadline)), ("steady", 4, steady)) as sites:
        jobs = [(site.source(), site.candidates()) for site in sites]
        batches = fetch_everything(FetchStream(Fetcher(config), jobs, Budget.starting_now(600)))
    assert by_source(batches) == {"slow": {"page": 8}, "steady": {"page": 4}}


def test_a_host_past_its_share_of_the_run_waits_for_the_next_run() -> None:
    budget_seconds, share, each = 4.0, 0.25, 0.3
    with outlets(("slow", 20, slow(each)), ("steady", 5, steady)) as (hog, good):
        source = hog.source(max_concurrency=1, host_time_share=share)
        jobs = [(source, hog.candidates()), (good.source(), good.candidates())]
        batches = fetch_everything(FetchStream(Fetcher(settings()), jobs,
                                               Budget.starting_now(budget_seconds)))
    counts = by_source(batches)
    allowed = budget_seconds * share  # seconds with a request in flight
    # The rule is checked before each request: the last one starts before the share is used.
    assert 1 <= counts["slow"]["page"] <= math.ceil(allowed / each)
    assert counts["slow"]["page"] + counts["slow"][HOST_OUT_OF_TIME] == 20
    assert counts["steady"] == {"page": 5}


def test_past_the_run_budget_no_request_starts_and_nothing_fetched_is_lost() -> None:
    config = settings()
    budget_seconds = 1.5
    with outlets(("slow", 30, slow(0.3))) as (site,):
        source = site.source(max_concurrency=1, host_time_share=1.0)
        started = time.monotonic()
        stream = FetchStream(Fetcher(config), [(source, site.candidates())],
                             Budget.starting_now(budget_seconds))
        batches = fetch_everything(stream)
        elapsed = time.monotonic() - started
        requested = site.requests
    counts = by_source(batches)
    assert counts["slow"]["page"] == requested  # every request started was answered and kept
    assert counts["slow"][RUN_OUT_OF_TIME] == 30 - requested > 0
    assert elapsed <= budget_seconds + config.response_deadline + 1.0


# --- the whole run, under Prefect's harness ------------------------------------------------


def write_sources(path: Path, sources: list[Source]) -> Path:
    data = {"sources": [s.model_dump(mode="json", exclude_defaults=True) | {"id": s.id}
                        for s in sources]}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_a_run_beside_a_stalled_outlet_stores_the_steady_one_and_retries_the_rest_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rasid.storage import open_lake
    from rasid_flows.collect import collect

    monkeypatch.setenv("RASID_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    monkeypatch.setenv("RASID_RESPONSE_DEADLINE", "2")
    monkeypatch.setenv("RASID_BATCH_SECONDS", "0.5")
    state = {"stalled": True}

    def route(handler: Any, n: int, outlet: Outlet) -> None:
        (stalled if state["stalled"] else steady)(handler, n, outlet)

    with outlets(("steady", 8, steady), ("stalled", 10, route)) as (good, bad):
        sources = write_sources(tmp_path / "sources.yaml", [good.source(), bad.source()])
        lake = str(tmp_path / "lake")
        first = collect(sources_file=str(sources), lake=lake)
        tried = bad.requests
        state["stalled"] = False
        second = collect(sources_file=str(sources), lake=lake)

    steady_stats, stalled_stats = first["sources"]["steady"], first["sources"]["stalled"]
    assert steady_stats["stored"] + steady_stats["quarantined"] == 8 and steady_stats["stored"] >= 7
    assert stalled_stats["failure_reasons"] == {"deadline_exceeded": tried,
                                                HOST_UNRESPONSIVE: 10 - tried}
    assert any(f["code"] == "host_set_aside" and f["source"] == "stalled" for f in first["flags"])
    assert tried <= bad.source().host_failure_limit + bad.source().max_concurrency - 1
    # The next run asks for exactly what was left, and stores it now that the host answers.
    again = second["sources"]["stalled"]
    assert again["new"] == 10 and again["stored"] + again["quarantined"] == 10
    assert second["sources"]["steady"]["new"] == 0
    stored = open_lake(lake).dataset("articles").to_table(columns=["source"]).to_pylist()
    assert sum(r["source"] == "steady" for r in stored) == steady_stats["stored"]
