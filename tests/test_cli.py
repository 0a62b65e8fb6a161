"""The `rasid` command as a person runs it: real processes, real output, no tracebacks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.slow
def test_demo_twice_writes_the_lake_once(tmp_path: Path, isolated: dict[str, str]) -> None:
    lake, port = tmp_path / "lake", str(free_port())
    first = rasid("demo", "--lake", str(lake), "--port", port, env=isolated)
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr + first.stdout
    assert "report:" in first.stdout and (lake / "reports" / "index.html").exists()
    assert "sham-today" in first.stdout and "quarantined" in first.stdout
    second = rasid("demo", "--lake", str(lake), "--port", port, env=isolated)
    assert second.returncode == 0, second.stderr
    assert "Traceback" not in second.stderr + second.stdout
    assert ": stored 0, quarantined 0" in second.stdout
    report = rasid("report", "--lake", str(lake), "--out", str(tmp_path / "out"))
    assert report.returncode == 0 and (tmp_path / "out" / "index.html").exists()


@pytest.mark.slow
def test_demo_into_s3_leaks_no_secret(tmp_path: Path, isolated: dict[str, str], s3_lake: str, s3_env: dict[str, str]) -> None:
    import boto3

    done = rasid("-v", "demo", "--lake", s3_lake, "--port", str(free_port()), env={**isolated, **s3_env})
    assert done.returncode == 0, done.stderr
    assert PLANTED_SECRET not in done.stdout + done.stderr
    bucket = s3_lake.split("/")[2]
    client = boto3.client("s3")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert any(k.startswith("rasid/_manifests/") for k in keys)
    for key in keys:
        assert PLANTED_SECRET.encode() not in client.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_a_bad_sources_file_stops_before_any_fetch(tmp_path: Path) -> None:
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - id: Bad Id\n    name: x\n    homepage: https://example.org/\n", encoding="utf-8")
    done = rasid("run", "--sources", str(bad), "--lake", str(tmp_path / "lake"))
    assert done.returncode == 2
    assert "source 'Bad Id': field id" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "lake" / "_manifests").exists()


def test_a_missing_bucket_is_a_clear_error(tmp_path: Path, s3_env: dict[str, str]) -> None:
    good = Path(__file__).resolve().parents[1] / "sources.yaml"
    done = rasid("run", "--sources", str(good), "--lake", "s3://no-such-bucket-rasid/x", env=s3_env)
    assert done.returncode == 2
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
    assert wrong.returncode == 2 and "Mars/Olympus" in wrong.stderr
