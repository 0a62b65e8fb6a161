"""The `rasid` command as a person runs it: real processes, real output, no tracebacks."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from rasid.cli import EXIT_USAGE
from tests.conftest import PLANTED_SECRET

GOLDEN = Path(__file__).parent / "golden"


def rasid(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rasid.cli", *args],
        capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})}, cwd=cwd,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.11", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def isolated(tmp_path: Path) -> dict[str, str]:
    """Each command gets its own Prefect home, like a fresh machine."""
    return {"PREFECT_HOME": str(tmp_path / "prefect-home")}


def wait_for_http(url: str, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.slow
def test_demo_twice_writes_the_lake_once(tmp_path: Path, isolated: dict[str, str]) -> None:
    lake, port = tmp_path / "lake", str(free_port())
    # --json: the summary alone on stdout; what people read on stderr. The demo site fails one
    # fetch on purpose: with --fail-on failures that is exit status 1.
    first = rasid("demo", "--lake", str(lake), "--port", port, "--json", "--fail-on", "failures",
                  env=isolated)
    assert first.returncode == 1, first.stderr
    assert "Traceback" not in first.stderr + first.stdout
    summary = json.loads(first.stdout)
    assert summary["totals"]["failed"] == 1 and summary["trouble"] is True
    assert summary["report_link"] == (lake / summary["report"]).resolve().as_uri()
    assert "report:" in first.stderr and (lake / "reports" / "index.html").exists()
    assert "sham-today" in first.stderr and "quarantined" in first.stderr
    # Not a terminal: progress as plain log lines, no cursor movement.
    assert "discovered=" in first.stderr and "\x1b[" not in first.stderr
    second = rasid("demo", "--lake", str(lake), "--port", port, env=isolated)
    assert second.returncode == 0, second.stderr
    assert "Traceback" not in second.stderr + second.stdout
    assert ": stored 0, quarantined 0" in second.stdout
    report = rasid("report", "--lake", str(lake), "--out", str(tmp_path / "out"))
    assert report.returncode == 0 and (tmp_path / "out" / "index.html").exists()
    # The lake from RASID_LAKE; a global option after the command's name.
    latest = rasid("report", "--json", "-v", env={"RASID_LAKE": str(lake)})
    assert latest.returncode == 0, latest.stderr
    assert json.loads(latest.stdout)["run_id"] > summary["run_id"]  # the second run's, later
    assert "report:" in latest.stderr
    merged = rasid("compact", "--lake", str(lake), "--json")
    assert merged.returncode == 0, merged.stderr
    assert {"run_id", "files_before", "files_after", "partitions"} <= set(json.loads(merged.stdout))


@pytest.mark.slow
def test_serve_shows_the_reports_with_working_links(tmp_path: Path, isolated: dict[str, str]) -> None:
    lake = tmp_path / "lake"
    done = rasid("demo", "--lake", str(lake), "--port", str(free_port()), env=isolated)
    assert done.returncode == 0, done.stderr
    port = free_port_on("127.0.0.1")
    server = subprocess.Popen([sys.executable, "-m", "rasid.cli", "serve", "--lake", str(lake),
                               "--port", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        page = wait_for_http(f"http://127.0.0.1:{port}/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert page.content == (lake / "reports" / "index.html").read_bytes()
        # The page's relative links resolve against the server: a run's own page, Data Docs.
        links = [href for href in re.findall(r'href="([^"#:]+)"', page.text) if href]
        assert links
        for href in links[:5]:
            assert httpx.get(f"http://127.0.0.1:{port}/{href}").status_code == 200, href
        assert httpx.get(f"http://127.0.0.1:{port}/../_manifests/").status_code == 404
    finally:
        server.terminate()
        server.wait(timeout=30)


def free_port_on(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_demo_into_s3_leaks_no_secret(tmp_path: Path, isolated: dict[str, str], s3_lake: str, s3_env: dict[str, str]) -> None:
    import boto3

    done = rasid("-v", "demo", "--lake", s3_lake, "--port", str(free_port()), "--json",
                 env={**isolated, **s3_env, "RASID_REPORT_LINK_HOURS": "2"})
    assert done.returncode == 0, done.stderr
    assert PLANTED_SECRET not in done.stdout + done.stderr
    bucket = s3_lake.split("/")[2]
    client = boto3.client("s3")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert any(k.startswith("rasid/_manifests/") for k in keys)
    for key in keys:
        assert PLANTED_SECRET.encode() not in client.get_object(Bucket=bucket, Key=key)["Body"].read()
    # The report's link is a presigned URL a browser opens, expiring as configured.
    link = json.loads(done.stdout)["report_link"]
    assert link.startswith(s3_env["AWS_ENDPOINT_URL"])
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in link and "X-Amz-Expires=7200" in link
    assert PLANTED_SECRET not in link and "%2F".join(PLANTED_SECRET.split("/")) not in link
    opened = httpx.get(link)
    key = json.loads(done.stdout)["report"]
    assert opened.status_code == 200
    assert opened.content == client.get_object(Bucket=bucket, Key=f"rasid/{key}")["Body"].read()


def test_a_bad_sources_file_stops_before_any_fetch(tmp_path: Path) -> None:
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - id: Bad Id\n    name: x\n    homepage: https://example.org/\n", encoding="utf-8")
    done = rasid("run", "--sources", str(bad), "--lake", str(tmp_path / "lake"))
    assert done.returncode == 3
    assert "source 'Bad Id': field id" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "lake" / "_manifests").exists()


def test_a_missing_bucket_is_a_clear_error(tmp_path: Path, s3_env: dict[str, str]) -> None:
    good = Path(__file__).resolve().parents[1] / "sources.yaml"
    done = rasid("run", "--sources", str(good), "--lake", "s3://no-such-bucket-rasid/x", env=s3_env)
    assert done.returncode == 4
    assert "no-such-bucket-rasid" in done.stderr and "Traceback" not in done.stderr
    assert PLANTED_SECRET not in done.stderr


def test_extract_prints_one_record_per_page_in_order(tmp_path: Path) -> None:
    pages = sorted(GOLDEN.glob("*.html"))[:3]
    manifest = tmp_path / "pages.jsonl"
    manifest.write_text(
        "".join(json.dumps({"path": str(p), "url": f"https://news.example/{i}"}) + "\n" for i, p in enumerate(pages)),
        encoding="utf-8",
    )
    done = rasid("extract", "--manifest", str(manifest))
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["url"] for r in records] == [f"https://news.example/{i}" for i in range(len(pages))]
    for record in records:
        assert {"url", "title", "published_at", "date_source", "body", "language", "arabic_ratio", "flags"} <= set(record)


def test_extract_one_path_with_its_url() -> None:
    page = sorted(GOLDEN.glob("*.html"))[0]
    done = rasid("extract", str(page), "--url", "https://news.example/a")
    assert done.returncode == 0, done.stderr
    (record,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert record["url"] == "https://news.example/a" and record["body"]


def test_extract_reads_naive_times_in_the_given_timezone(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Harbour reopens after the storm season</title>"
        "<meta name='pubdate' content='2026-11-16 08:00:00'></head><body><article>"
        "<h1>Harbour reopens after the storm season</h1><p>" + "The harbour reopened. " * 20
        + "</p></article></body></html>", encoding="utf-8")
    damascus = json.loads(rasid("extract", str(page)).stdout)
    casablanca = json.loads(rasid("extract", str(page), "--timezone", "Africa/Casablanca").stdout)
    assert damascus["published_at"].startswith("2026-11-16T05:00:00")
    assert casablanca["published_at"].startswith("2026-11-16T07:00:00")
    wrong = rasid("extract", str(page), "--timezone", "Mars/Olympus")
    assert wrong.returncode == EXIT_USAGE and "Mars/Olympus" in wrong.stderr


def test_global_options_work_after_the_command(tmp_path: Path) -> None:
    page = sorted(GOLDEN.glob("*.html"))[0]
    done = rasid("extract", str(page), "--url", "https://news.example/a", "-v", "--log-level", "DEBUG")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["url"] == "https://news.example/a"


def test_extract_dash_reads_the_manifest_from_stdin() -> None:
    pages = sorted(GOLDEN.glob("*.html"))[:2]
    manifest = "".join(json.dumps({"path": str(p), "url": f"https://news.example/{i}"}) + "\n"
                       for i, p in enumerate(pages))
    done = subprocess.run([sys.executable, "-m", "rasid.cli", "extract", "-"], input=manifest,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["url"] for line in done.stdout.splitlines()] == [
        "https://news.example/0", "https://news.example/1"]
    bad = subprocess.run([sys.executable, "-m", "rasid.cli", "extract", "-"], input="{oops\n",
                         capture_output=True, text=True, timeout=300, check=False)
    assert bad.returncode == 3 and bad.stderr.strip() == (
        'rasid: error: stdin:1: expected {"path": ..., "url": ...}')


def test_sources_and_lake_come_from_the_environment(tmp_path: Path) -> None:
    missing = tmp_path / "from-the-environment.yaml"
    done = rasid("run", env={"RASID_SOURCES": str(missing), "RASID_LAKE": str(tmp_path / "lake")})
    assert done.returncode == 3
    assert done.stderr.strip() == f"rasid: error: cannot read sources file {missing}: No such file or directory"
    empty = rasid("report", env={"RASID_LAKE": str(tmp_path / "empty-lake")})
    assert empty.returncode == 3 and str(tmp_path / "empty-lake") in empty.stderr


def test_no_sources_at_all_is_a_usage_error() -> None:
    env = {k: v for k, v in os.environ.items() if k != "RASID_SOURCES"}
    done = subprocess.run([sys.executable, "-m", "rasid.cli", "run"], capture_output=True,
                          text=True, timeout=120, env=env, check=False)
    assert done.returncode == 2 and "run needs --sources (or RASID_SOURCES)" in done.stderr


@pytest.mark.parametrize(("variable", "value"), [("RASID_LOG_LEVEL", "loud"),
                                                  ("RASID_REPORT_LINK_HOURS", "forever"),
                                                  ("RASID_MAX_RETRIES", "-x")])
def test_a_bad_rasid_value_is_one_clear_line(variable: str, value: str, tmp_path: Path) -> None:
    done = rasid("report", "--lake", str(tmp_path / "lake"), env={variable: value})
    assert done.returncode == 3
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"rasid: error: bad setting {variable}: ") and value not in line


def test_exit_statuses_are_documented_in_the_help() -> None:
    done = rasid("--help")
    assert done.returncode == 0
    assert "0 ok, 1 finished with trouble" in done.stdout and "4 storage" in " ".join(done.stdout.split())


def test_a_bad_runner_setting_is_one_clear_line(tmp_path: Path, isolated: dict[str, str]) -> None:
    sources = Path(__file__).resolve().parents[1] / "sources.yaml"
    done = rasid("run", "--sources", str(sources), "--lake", str(tmp_path / "lake"),
                 env={**isolated, "RASID_TASK_RUNNER": "bogus"})
    assert done.returncode == 3
    assert done.stderr.strip() == ("rasid: error: bad setting RASID_TASK_RUNNER: Input should be "
                                   "'threads' or 'dask'")
