"""Helpers for the lake tests: what a reader sees, a faulty S3 proxy, `rasid` as a process."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import yaml

from rasid import checks, contract, pipeline
from rasid.models import Page
from rasid.storage import Lake
from rasid.urls import url_id

# Columns a rerun legitimately changes: which run wrote the row, when the page was fetched and,
# for quarantine, the day of the run that quarantined it.
RUN_COLUMNS = {"run_id", "fetched_at", "run_date"}


# --- what readers see ---------------------------------------------------------------------------


def visible_files(lake: Lake, kind: str) -> list[str]:
    """The Parquet files a reader globbing ``<kind>/**/*.parquet`` would open."""
    return sorted(key for key in lake.store.list(f"{kind}/") if key.endswith(".parquet"))


def visible_rows(lake: Lake, kind: str) -> list[dict[str, Any]]:
    """Every row pyarrow's own discovery finds under ``<kind>/`` (it skips ``_`` and ``.``
    paths, as DuckDB's glob and Spark do), partition columns included."""
    filesystem, base = lake.fs_and_path()
    schema = contract.arrow_schema(kind, include_partitions=True)
    partitions = pa.schema([schema.field(name) for name in contract.partition_columns(kind)])
    if not visible_files(lake, kind):
        return []
    dataset = ds.dataset(
        f"{base}/{kind}", schema=schema, format="parquet", filesystem=filesystem,
        partitioning=ds.partitioning(partitions, flavor="hive"),
    )
    return dataset.to_table().to_pylist()


def duckdb_rows(lake_path: Path, kind: str) -> list[dict[str, Any]]:
    """What DuckDB reads from a local lake with the README's glob."""
    glob = f"{lake_path}/{kind}/**/*.parquet"
    relation = duckdb.sql(f"SELECT * FROM read_parquet('{glob}', hive_partitioning=true)")
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def comparable(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rows keyed by article_id, without the columns a rerun changes; fails on duplicates."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        assert row["article_id"] not in out, f"article {row['url']} is in the lake twice"
        out[row["article_id"]] = {
            k: str(v) if k.endswith("_date") else v for k, v in row.items() if k not in RUN_COLUMNS
        }
    return out


def assert_lake_consistent(lake: Lake) -> None:
    """Readers who glob and readers who follow the manifests see the very same files."""
    for kind in contract.CONTRACTS:
        assert visible_files(lake, kind) == sorted(lake.committed_files(kind)), kind
    assert lake.publish_pending() == []


# --- `rasid` as a person runs it ------------------------------------------------------------------


def rasid_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", **(extra or {})}


def run_rasid(
    *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rasid.cli", *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


@contextmanager
def rasid_process(*args: str, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`rasid` in its own process group, so kill -9 takes its worker processes along."""
    process = subprocess.Popen(
        [sys.executable, "-m", "rasid.cli", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)


def kill_hard(process: subprocess.Popen[bytes]) -> bool:
    """kill -9 the process and its workers; False if it had already finished."""
    finished = process.poll() is not None
    if not finished:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    return not finished


# --- a faulty S3 endpoint ------------------------------------------------------------------------

SLOWDOWN = b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"
INTERNAL = b"<Error><Code>InternalError</Code><Message>Internal error.</Message></Error>"
DENIED = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
ANSWERS = {"slowdown": (503, SLOWDOWN), "internal": (500, INTERNAL), "denied": (403, DENIED)}
# How a request can fail, besides an error answer. "lost-reply" forwards the request (the write
# happens) and then hangs up: the client sees a failure for a write that succeeded.
FAULTS = ("slowdown", "internal", "drop", "lost-reply", "stall")


class FaultProxy:
    """A loopback HTTP proxy in front of an S3 endpoint that fails every ``every``-th request,
    cycling through ``faults``; ``every=1`` fails them all."""

    def __init__(self, upstream: str, every: int, faults: Sequence[str], stall: float = 2.0,
                 methods: Sequence[str] = ()) -> None:
        self.upstream = urlsplit(upstream).netloc
        self.every, self.faults, self.stall = every, list(faults), stall
        self.methods = set(methods)  # only these methods fail (all when empty)
        self.requests = 0
        self.injected: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_fault(self, method: str) -> str | None:
        with self._lock:
            if self.methods and method not in self.methods:
                return None
            self.requests += 1
            if self.requests % self.every:
                return None
            fault = self.faults[(self.requests // self.every - 1) % len(self.faults)]
            self.injected[fault] = self.injected.get(fault, 0) + 1
            return fault

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                fault = proxy._next_fault(self.command)
                if fault == "drop":  # hang up in the middle of the upload
                    self.rfile.read(length // 2)
                    self._hang_up()
                    return
                body = self.rfile.read(length)
                if fault in ANSWERS:
                    status, text = ANSWERS[fault]
                    self._answer(status, [("Content-Type", "application/xml")], text)
                    return
                if fault == "stall":  # longer than the client waits for an answer
                    time.sleep(proxy.stall)
                    self._hang_up()
                    return
                status, headers, answer = self._forward(body)
                if fault == "lost-reply":
                    self._hang_up()
                    return
                self._answer(status, headers, answer)

            def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                upstream = HTTPConnection(proxy.upstream, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
                    response = upstream.getresponse()
                    answer = response.read()
                    skip = {"transfer-encoding", "connection"}
                    if self.command != "HEAD":  # a HEAD answer keeps the object's length
                        skip.add("content-length")
                    headers = [(k, v) for k, v in response.getheaders() if k.lower() not in skip]
                    return response.status, headers, answer
                finally:
                    upstream.close()

            def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                # A HEAD answer announces the object's length but carries no body.
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _hang_up(self) -> None:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay  # noqa: N815

        return Handler


# --- a collection run without the network: the pipeline's own write and commit steps ------------


def article(source: str, day: date, n: int) -> dict[str, Any]:
    """One valid article row (every contract column)."""
    url = f"https://{source}.example/news/{day:%Y/%m/%d}/{n}"
    published = datetime(day.year, day.month, day.day, 8, 15, n % 60, tzinfo=UTC)
    # Columns this helper does not know of yet stay empty; a required one fails loudly.
    return dict.fromkeys(contract.columns("articles")) | {
        "article_id": url_id(url),
        "url": url,
        "canonical_url": url,
        "source": source,
        "published_date": day,
        "title": f"خبر رقم {n} من {source}",
        "author": None,
        "published_at": published,
        "date_source": "meta",
        "body": f"نص الخبر رقم {n} عن افتتاح سوق جديد في المدينة.",
        "language": "ar",
        "word_count": 9,
        "arabic_ratio": 1.0,
        "body_hash": hashlib.sha256(f"{url} body".encode()).hexdigest(),
        "repeated_share": 0.0,
        "flags": [],
        "discovered_via": "feed",
        "http_status": 200,
        "encoding": "utf-8",
        "fetched_at": published + timedelta(hours=1),
        "run_id": "unset",
    }


def quarantined(source: str, day: date, n: int) -> dict[str, Any]:
    """One row that a blocking check sent to quarantine."""
    row = article(source, day, n) | {"published_at": None, "date_source": None}
    fields = {k: v for k, v in row.items() if k != "published_date"}
    return dict.fromkeys(contract.columns("quarantine")) | fields | {
        "reasons": ["no_date"], "run_date": day,
    }


def page_of(row: dict[str, Any]) -> Page:
    html = f"<html><body><h1>{row['title']}</h1><p>{row['body']}</p></body></html>"
    return Page(
        url=row["url"], final_url=row["url"], source_id=row["source"], status=200,
        headers={"Content-Type": "text/html; charset=utf-8"}, content=html.encode(),
        encoding="utf-8", encoding_source="http", fetched_at=row["fetched_at"],
    )


def checked(rows: list[dict[str, Any]], run_id: str) -> pipeline.CheckedBatch:
    """Dict rows (as the storage tests write them) as the check step's typed batch: rows with
    ``reasons`` go to quarantine, the others are stored articles of the run."""
    articles = [pipeline.ArticleRow(**row | {"run_id": run_id}, run_date=row["fetched_at"].date())
                for row in rows if "reasons" not in row]
    quarantine = [pipeline.QuarantineRow(**row | {"run_id": run_id})
                  for row in rows if "reasons" in row]
    return pipeline.CheckedBatch(articles, quarantine, checks.CheckOutcome())


def collect_rows(lake: Lake, rows: list[dict[str, Any]], batch_size: int = 4,
                 signatures: dict[str, str] | None = None) -> str:
    """A collection run over already-extracted rows: incremental state, batches written with
    ``pipeline.write_batch``, committed with ``pipeline.commit_run``; ``signatures``: encoded
    MinHash signatures by article id, as the check step gives them. Returns the run id."""
    state = pipeline.load_state(lake)
    summary = pipeline.RunSummary(run_id=pipeline.new_run_id(), started_at=datetime.now(UTC))
    fresh = [dict(row) for row in rows if row["article_id"] not in state.known_ids]
    for part, start in enumerate(range(0, len(fresh), batch_size)):
        chunk = fresh[start : start + batch_size]
        batch = checked(chunk, summary.run_id)
        batch.signatures = {r["article_id"]: signatures[r["article_id"]] for r in chunk
                            if signatures and r["article_id"] in signatures}
        files = pipeline.write_batch(lake, summary.run_id, part, batch, [page_of(r) for r in chunk])
        for record in summary.add_batch(batch, files):
            state.remember(record)
    pipeline.commit_run(lake, summary)
    return summary.run_id


class Killed(BaseException):
    """Stands for kill -9: not an Exception, so no handler on the way can swallow it."""


class DyingStore:
    """A store that dies before its ``die_at``-th write, delete or copy (None: never), and
    counts those operations."""

    def __init__(self, inner: Any, die_at: int | None = None) -> None:
        self.inner, self.die_at = inner, die_at
        self.operations: list[tuple[str, str]] = []  # (operation, key), in order

    def _tick(self, operation: str, key: str) -> None:
        if len(self.operations) == self.die_at:
            raise Killed(f"killed before storage operation {self.die_at}")
        self.operations.append((operation, key))

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        self._tick("put", key)
        return bool(self.inner.put(key, data, if_absent=if_absent))

    def copy(self, source: str, target: str) -> None:
        self._tick("copy", target)
        self.inner.copy(source, target)

    def delete(self, key: str) -> None:
        self._tick("delete", key)
        self.inner.delete(key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


# Golden articles of a few events told by several outlets (tests/golden/enrich/stories.yaml)
# and a watchlist that some of them match: the enrich stage's tables, written for real.
STORY_ARTICLES = yaml.safe_load((Path(__file__).parent / "golden" / "enrich" / "stories.yaml")
                                .read_text(encoding="utf-8"))["articles"]
FIRES_WATCHLIST = "watchlists:\n  - {id: fires, name: حرائق, query: 'حريق OR fire'}\n"


def story_rows() -> dict[str, dict[str, Any]]:
    """The golden story articles as stored rows, by their golden id."""
    rows = {}
    for n, golden in enumerate(STORY_ARTICLES):
        row = article(golden["source"], golden["day"], n) | {
            "title": golden["title"], "body": golden["body"]}
        row["near_duplicate_cluster"] = row["article_id"]
        rows[golden["id"]] = row
    copy = rows["daraa-aid-copy"]
    copy["near_duplicate_cluster"] = copy["near_duplicate_of"] = rows["daraa-aid-a"]["article_id"]
    return rows


def enrich_run(lake: Lake, rows: list[dict[str, Any]], today: date, watchlists: Path) -> str:
    """A run that enriches ``rows`` (stories, mentions, watchlist matches) and commits them."""
    summary = pipeline.RunSummary(run_id=pipeline.new_run_id(), started_at=datetime.now(UTC))
    enricher = pipeline.load_enricher(lake, summary.run_id, today, watchlists=watchlists)
    batch = checked(rows, summary.run_id)
    batch.mentions, batch.matches = enricher.enrich(batch.articles)
    files = pipeline.write_batch(lake, summary.run_id, 0, batch, [page_of(r) for r in rows])
    summary.add_batch(batch, files)
    pipeline.commit_run(lake, summary, enricher)
    return summary.run_id
