"""rasid the way an operator runs it: a real Prefect server on loopback (SQLite in a temporary
PREFECT_HOME), `rasid setup-prefect`, `prefect deploy --all` from this repository, a process
worker, and flow runs against the demo site and a loopback site that records its visitors."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
import yaml

from rasid.storage import open_lake

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DONE = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, check: Any, timeout: float, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(every)
    raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")


@dataclass
class Prefect:
    """A running server and the environment every command and worker gets."""

    url: str
    env: dict[str, str]
    logs: Path
    api: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.api = httpx.Client(base_url=self.url, timeout=30)

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(args, cwd=ROOT, env={**self.env, **(env or {})}, text=True, check=False,
                              capture_output=True, timeout=300)
        assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        for attempt in range(5):
            response = self.api.request(method, path, json=body)
            # SQLite behind a busy server answers 503 now and then; Prefect's client retries too.
            if response.status_code != 503:
                break
            time.sleep(1 + attempt)
        response.raise_for_status()
        return response.json() if response.content else None

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.call("POST", path, body)

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    def deployments(self) -> dict[str, dict[str, Any]]:
        flows = {f["id"]: f["name"] for f in self.post("/flows/filter", {})}
        return {f"{flows[d['flow_id']]}/{d['name']}": d for d in self.post("/deployments/filter", {})}

    def wait_done(self, run_id: str, timeout: float = 240) -> dict[str, Any]:
        def finished() -> dict[str, Any] | None:
            run = self.get(f"/flow_runs/{run_id}")
            return run if run["state"] and run["state"]["type"] in DONE else None

        return wait_for(f"flow run {run_id}", finished, timeout, every=1)

    def artifacts(self, run_id: str) -> dict[str, dict[str, Any]]:
        found = self.post("/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run_id]}}})
        return {a["key"]: a for a in found if a["key"]}


@pytest.fixture(scope="module")
def prefect(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prefect]:
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_API_URL=url, PREFECT_SERVER_UI_ENABLED="false",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", GX_ANALYTICS_ENABLED="false")
    log = home / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [BIN / "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    running = Prefect(url, env, home)
    try:
        wait_for("the Prefect server", lambda: _healthy(running), timeout=120)
        yield running
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _healthy(prefect: Prefect) -> bool:
    try:
        return prefect.api.get("/health").status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def operator_sources(demo_site: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's sources, plus one whose feed has moved away (it will yield nothing)."""
    sources = yaml.safe_load(demo_site.sources_yaml())
    base = demo_site.base_url("sham-today")
    sources["sources"].append({"id": "moved-feed", "name": "موقع نقل خلاصته",
                               "homepage": f"{base}/", "feeds": [f"{base}/old-feed.xml"]})
    path = tmp_path_factory.mktemp("operator") / "sources.yaml"
    path.write_text(yaml.safe_dump(sources, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def deployed(prefect: Prefect, demo_site: Any, operator_sources: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Set up, deploy everything, add a test-only every-minute schedule, start a worker."""
    setup = prefect.run(str(BIN / "rasid"), "setup-prefect", "--sources", str(operator_sources))
    prefect.run(str(BIN / "prefect"), "deploy", "--all", "--no-prompt")
    # The real schedules stay out of the way of this test's own runs.
    for deployment in prefect.deployments().values():
        prefect.post(f"/deployments/{deployment['id']}/pause_deployment", {})
    lake = tmp_path_factory.mktemp("operator") / "lake"
    anchor = (datetime.now(UTC) - timedelta(seconds=45)).isoformat()
    prefect.run(str(BIN / "prefect"), "deploy", "rasid_flows.daily_report:daily_report",
                "--name", "every-minute", "--pool", "rasid-process", "--interval", "60",
                "--anchor-date", anchor, "--param", f"lake={lake}",
                "--param", f"sources_file={operator_sources}", "--no-prompt")
    # The deployments name no lake and no sources: the operator sets them once, as Variables;
    # the sources are read over HTTP, so the worker needs no file of this repository.
    # The watchlists beside it, as an operator publishes them: read from the same place.
    sources_site = FileSite({"sources.yaml": operator_sources.read_bytes(),
                             "watchlists.yaml": demo_site.watchlists_yaml().encode("utf-8")})
    prefect.post("/variables/", {"name": "rasid_lake", "value": str(lake)})
    prefect.post("/variables/", {"name": "rasid_sources", "value": sources_site.url})
    worker_env = {**prefect.env, "PREFECT_WORKER_QUERY_SECONDS": "1",
                  "RASID_ALLOW_PRIVATE_HOSTS": demo_site.allowlist(), "RASID_LOG_LEVEL": "DEBUG"}
    elsewhere = tmp_path_factory.mktemp("worker-home")  # not a checkout
    with (prefect.logs / "worker.log").open("wb") as out:
        worker = subprocess.Popen([BIN / "prefect", "worker", "start", "--pool", "rasid-process"],
                                  cwd=elsewhere, env=worker_env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield {"setup": setup, "lake": lake, "deployed_at": datetime.now(UTC),
               "sources_site": sources_site}
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        sources_site.shutdown()
        sources_site.server_close()


class FileSite(ThreadingHTTPServer):
    """A few files over HTTP on loopback (``/rasid/<name>``), counting how often the sources
    file is asked for; any other path answers 404."""

    daemon_threads = True

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _FileHandler)
        self.files, self.hits = files, 0
        self.url = f"http://127.0.0.1:{self.server_address[1]}/rasid/sources.yaml"
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _FileHandler(BaseHTTPRequestHandler):
    server: FileSite

    def do_GET(self) -> None:
        name = self.path.removeprefix("/rasid/")
        body = self.server.files.get(name)
        self.server.hits += name == "sources.yaml"
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/yaml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Inbox(ThreadingHTTPServer):
    """A loopback webhook that keeps what it is sent."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _InboxHandler)
        self.received: list[dict[str, Any]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}/hook"
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _InboxHandler(BaseHTTPRequestHandler):
    server: Inbox

    def do_POST(self) -> None:
        self.server.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def flag_notifications(prefect: Prefect, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Inbox]:
    """The README's recipe: a notification block, and infra/automations/source-flagged.yaml
    with its id filled in."""
    inbox = Inbox()
    block_id = prefect.run(sys.executable, "-c", (
        "import sys; from prefect.blocks.notifications import CustomWebhookNotificationBlock as Hook; "
        "print(Hook(name='editors', url=sys.argv[1], json_data={'subject': '{{subject}}', "
        "'body': '{{body}}'}).save('rasid-flags'))"), inbox.url).split()[-1]
    recipe = (ROOT / "infra/automations/source-flagged.yaml").read_text(encoding="utf-8")
    automation = tmp_path_factory.mktemp("automation") / "source-flagged.yaml"
    automation.write_text(recipe.replace("REPLACE-WITH-YOUR-NOTIFICATION-BLOCK-ID", block_id))
    prefect.run(str(BIN / "prefect"), "automation", "create", "--from-file", str(automation))
    yield inbox
    inbox.shutdown()
    inbox.server_close()


def test_setup_creates_the_pool_and_a_limit_per_host_once(
    prefect: Prefect, deployed: dict[str, Any], demo_site: Any, operator_sources: Path
) -> None:
    assert "created work pool rasid-process" in deployed["setup"]
    assert prefect.get("/work_pools/rasid-process")["type"] == "process"
    limits = {c["name"]: c for c in prefect.post("/v2/concurrency_limits/filter", {})}
    host = demo_site.base_url("sham-today").removeprefix("http://")
    # sham-today allows 4 in flight, moved-feed (same host) the default 2: the stricter holds.
    assert limits[f"rasid-host:{host}"]["limit"] == 2
    assert limits[f"rasid-host:{demo_site.base_url('furat-post').removeprefix('http://')}"]["limit"] == 4
    again = prefect.run(str(BIN / "rasid"), "setup-prefect", "--sources", str(operator_sources))
    assert "nothing to change" in again


def test_deploy_all_declares_the_four_deployments(prefect: Prefect, deployed: dict[str, Any]) -> None:
    found = prefect.deployments()
    assert {"collect/collect", "compact/nightly-compaction", "daily-report/daily-report",
            "backfill/backfill"} <= set(found)
    collect = found["collect/collect"]
    (schedule,) = collect["schedules"]
    assert schedule["schedule"]["cron"] == "*/15 * * * *"
    assert schedule["schedule"]["timezone"] == "Asia/Damascus"
    assert collect["global_concurrency_limit"]["limit"] == 1
    assert collect["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    for name in ("collect/collect", "daily-report/daily-report", "backfill/backfill",
                 "compact/nightly-compaction"):
        assert not {"sources_file", "lake"} & set(found[name]["parameters"]), name
        assert found[name]["work_pool_name"] == "rasid-process"
        assert found[name]["entrypoint"].startswith("rasid_flows."), name


def test_a_triggered_collect_run_fills_the_lake_and_publishes_artifacts(
    prefect: Prefect, deployed: dict[str, Any], operator_sources: Path, flag_notifications: Inbox
) -> None:
    deployment = prefect.deployments()["collect/collect"]
    lake = deployed["lake"]  # from the Variable rasid_lake, the sources from rasid_sources
    run = prefect.post(f"/deployments/{deployment['id']}/create_flow_run", {})
    finished = prefect.wait_done(run["id"])
    assert finished["state"]["type"] == "COMPLETED", (prefect.logs / "worker.log").read_text()[-4000:]
    assert finished["parameters"]["shared_host_limits"] is True
    assert deployed["sources_site"].hits >= 1
    assert_rasid_lines_in_run_logs(prefect, run["id"])

    articles = f"read_parquet('{lake}/articles/**/*.parquet', hive_partitioning=true)"
    ((count, sources),) = duckdb.sql(f"SELECT count(*), count(DISTINCT source) FROM {articles}").fetchall()
    assert count >= 40 and sources == 3

    artifacts = prefect.artifacts(run["id"])
    table = {row["source"]: row for row in json.loads(artifacts["rasid-run-sources"]["data"])}
    assert set(table) == {"sham-today", "furat-post", "halab-online", "moved-feed"}
    assert sum(row["stored"] for row in table.values()) == count
    assert {"discovered", "fetched", "stored", "quarantined", "quarantined by reason",
            "errors"} <= set(table["furat-post"])
    assert "http_404" in table["moved-feed"]["errors"]
    assert "index.html" in artifacts["rasid-run-report"]["data"]
    (flag,) = json.loads(artifacts["rasid-source-flags"]["data"])
    assert (flag["source"], flag["code"]) == ("moved-feed", "yields_nothing")

    def flag_events() -> list[dict[str, Any]]:
        found = prefect.post("/events/filter", {"filter": {"event": {"name": ["rasid.source.flagged"]}}})
        return [e for e in found["events"] if e["resource"]["prefect.resource.id"] == "rasid.source.moved-feed"]

    # The watchlists beside the sources URL were evaluated: the run's matches are an event,
    # with the counts the lake holds for that run.
    rasid_run = [m["run_id"] for m in open_lake(str(lake)).manifests()
                 if m.get("operation") == "collect"][-1]

    def match_events() -> list[dict[str, Any]]:
        found = prefect.post("/events/filter",
                             {"filter": {"event": {"name": ["rasid.watchlist.matched"]}}})
        return [e for e in found["events"] if e["payload"].get("run") == rasid_run]

    (matched,) = wait_for("the watchlists' event", match_events, timeout=60)
    in_lake = dict(duckdb.sql(
        f"SELECT watchlist_id, count(*)::INT FROM read_parquet('{lake}/watchlist_matches/**/"
        f"*.parquet', hive_partitioning=true) WHERE run_id = '{rasid_run}' GROUP BY 1").fetchall())
    assert matched["payload"]["counts"] == in_lake and sum(in_lake.values()) >= 1

    (event,) = wait_for("the flag's event", flag_events, timeout=60)
    assert event["payload"]["code"] == "yields_nothing"
    notes = wait_for("the automation's notification", lambda: flag_notifications.received, timeout=90)
    # Every notification is about the flagged source (other runs on this server may flag it too).
    assert all("moved-feed" in n["subject"] for n in notes), notes
    assert any("yields_nothing" in n["body"] for n in notes), notes


def assert_rasid_lines_in_run_logs(prefect: Prefect, run_id: str) -> None:
    """The worker runs with RASID_LOG_LEVEL=DEBUG: rasid's own lines, even those logged on the
    fetch threads (which carry no Prefect context), are in the run's logs through the API."""

    def rasid_logs(level: dict[str, int]) -> list[dict[str, Any]]:
        found = prefect.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]},
                                                       "level": level}, "limit": 200})
        return [entry for entry in found if entry["name"].startswith("rasid.")]

    info = wait_for("rasid's INFO lines in the run's logs",
                    lambda: [e for e in rasid_logs({"ge_": 20}) if e["name"] == "rasid.progress"],
                    timeout=60)
    assert any("discovered=" in e["message"] for e in info)  # the progress lines
    debug = wait_for("rasid's DEBUG lines in the run's logs", lambda: rasid_logs({"le_": 10}),
                     timeout=60)
    assert any(e["name"].startswith("rasid.fetch") for e in debug)  # from a fetch thread


def test_a_scheduled_run_starts_by_itself(prefect: Prefect, deployed: dict[str, Any]) -> None:
    deployment = prefect.deployments()["daily-report/every-minute"]

    def scheduled_runs() -> list[dict[str, Any]]:
        runs = prefect.post("/flow_runs/filter", {"flow_runs": {
            "deployment_id": {"any_": [deployment["id"]]}, "state": {"type": {"any_": sorted(DONE)}}}})
        return [r for r in runs if r["auto_scheduled"]]

    first = wait_for("a scheduled run to finish", scheduled_runs, timeout=150, every=2)[0]
    prefect.post(f"/deployments/{deployment['id']}/pause_deployment", {})  # proven; stop it
    assert first["state"]["type"] == "COMPLETED"
    assert datetime.fromisoformat(first["expected_start_time"]) >= deployed["deployed_at"] - timedelta(seconds=60)


# --- politeness across processes ---------------------------------------------------------------


class RecordingSite(ThreadingHTTPServer):
    """A news site that counts requests in flight. Its sitemap answers once two visitors have
    asked for it (or after a while), so two runs then fetch its articles at the same time."""

    daemon_threads = True
    articles = 20

    def __init__(self, host: str) -> None:
        super().__init__((host, 0), _RecordingHandler)
        self.lock = threading.Lock()
        self.in_flight = self.peak = 0
        self.both_arrived = threading.Barrier(2)
        self.base = f"http://{host}:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def page(self, path: str) -> bytes:
        if path == "/robots.txt":
            return b"User-agent: *\nAllow: /\n"
        if path == "/sitemap.xml":
            with contextlib.suppress(threading.BrokenBarrierError):
                self.both_arrived.wait(timeout=60)
            urls = "".join(f"<url><loc>{self.base}/news/{n}.html</loc><lastmod>2026-01-{n % 27 + 1:02d}</lastmod></url>"
                           for n in range(self.articles))
            return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()
        time.sleep(0.4)  # a page that takes a while, so requests overlap when allowed to
        body = "".join(f"<p>هذا نص الخبر رقم {path} في فقرته {n} عن أحوال المدينة والناس فيها.</p>" for n in range(6))
        return (f'<html lang="ar"><head><meta charset="utf-8"><title>خبر {path}</title>'
                f'<meta property="article:published_time" content="2026-01-05T10:00:00+02:00"></head>'
                f"<body><article><h1>خبر {path}</h1>{body}</article></body></html>").encode()


class _RecordingHandler(BaseHTTPRequestHandler):
    server: RecordingSite
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        site = self.server
        with site.lock:
            site.in_flight += 1
            site.peak = max(site.peak, site.in_flight)
        try:
            body = site.page(self.path)
        finally:
            with site.lock:
                site.in_flight -= 1
        kind = "text/plain" if self.path.endswith(".txt") else "application/xml" if self.path.endswith(".xml") else "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def busy_site_sources(site: RecordingSite, path: Path) -> Path:
    path.write_text(yaml.safe_dump({"sources": [{
        "id": "busy-site", "name": "موقع مزدحم", "homepage": f"{site.base}/",
        "sitemaps": [f"{site.base}/sitemap.xml"], "min_delay_seconds": 0, "max_concurrency": 2,
    }]}, allow_unicode=True), encoding="utf-8")
    return path


def test_two_concurrent_runs_keep_the_per_host_limit(prefect: Prefect, tmp_path: Path) -> None:
    """Two collect runs in two processes against one site allowing 2 requests in flight: with
    the shared limits the site never sees more than 2; without them (a second site, at the
    same time) each process allows 2 and together they exceed it."""
    sites = {True: RecordingSite("127.0.0.21"), False: RecordingSite("127.0.0.22")}
    script = ("import sys; from rasid_flows.collect import collect; "
              "collect(sources_file=sys.argv[1], lake=sys.argv[2], shared_host_limits=sys.argv[3] == '1')")
    env = {**prefect.env, "RASID_ALLOW_PRIVATE_HOSTS": "127.0.0.21,127.0.0.22"}
    runs = []
    try:
        for shared, site in sites.items():
            sources = busy_site_sources(site, tmp_path / f"sources-{shared}.yaml")
            if shared:
                prefect.run(str(BIN / "rasid"), "setup-prefect", "--sources", str(sources))
            runs += [subprocess.Popen(
                [sys.executable, "-c", script, str(sources), str(tmp_path / f"lake-{shared}-{n}"),
                 "1" if shared else "0"],
                env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for n in range(2)]
        for run in runs:
            output, _ = run.communicate(timeout=240)
            assert run.returncode == 0, output[-4000:]
    finally:
        for site in sites.values():
            site.shutdown()
            site.server_close()
    assert sites[True].peak <= 2 < sites[False].peak, {k: s.peak for k, s in sites.items()}
