"""Bad configuration through the `rasid` command: one clear line, exit status 3 (4 for a lake
that cannot be reached), no traceback, and nothing started — no Prefect server, no fetch, no
run in the lake."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

# A source that is never fetched: every case fails before the first request (and were one
# sent, it would go to a closed loopback port that the address guard refuses anyway).
GOOD = """\
sources:
  - id: sham-today
    name: الشام اليوم
    homepage: http://127.0.0.1:9/
    feeds: [http://127.0.0.1:9/feed/]
  - id: halab-online
    name: حلب اليوم
    homepage: http://127.0.0.1:9/halab/
"""

SOURCE_ERRORS = {
    "unknown-key": (GOOD.replace("    feeds:", "    feedz:"),
                    "source 'sham-today': field feedz: unknown field"),
    "unknown-top-level-key": (GOOD + "schedule: daily\n", "field schedule: unknown field"),
    "bad-slug": (GOOD.replace("id: sham-today", "id: Sham_Today"), "source 'Sham_Today': field id"),
    "duplicate-ids": (GOOD.replace("id: halab-online", "id: sham-today"),
                      "duplicate source id 'sham-today'"),
    "key-twice": (GOOD.replace("    name: الشام اليوم", "    name: الشام اليوم\n    name: الشام"),
                  "line 4, column 5: key 'name' appears twice"),
    "not-yaml": ("sources: [\n  - id: x\n", "not valid YAML: line"),
    "not-a-url": (GOOD.replace("feeds: [http", "feeds: [ftp"), "field feeds: must be an http(s) URL"),
}


def rasid(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # Bounded, so a command that hangs fails the test instead of stalling the suite.
    return subprocess.run([sys.executable, "-m", "rasid.cli", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120, check=False)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: no AWS settings from the machine, no instance metadata lookups
    (they would leave loopback), a Prefect home of its own to tell whether Prefect started."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RASID_", "PREFECT_"))}
    return {**base, "PREFECT_HOME": str(tmp_path / "prefect-home"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials")}


def assert_fails_clearly(done: subprocess.CompletedProcess[str], expected: str, tmp_path: Path,
                         status: int = 3) -> None:
    assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rasid: error: "), done.stderr
    assert expected in lines[0]
    # Failed fast: before Prefect started and before anything was written.
    assert not (tmp_path / "prefect-home").exists()
    assert not (tmp_path / "lake" / "_manifests").exists()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("case", sorted(SOURCE_ERRORS))
def test_a_bad_sources_file_is_one_clear_line(case: str, env: dict[str, str], tmp_path: Path) -> None:
    text, expected = SOURCE_ERRORS[case]
    (tmp_path / "sources.yaml").write_text(text, encoding="utf-8")
    done = rasid(["run", "--sources", "sources.yaml", "--lake", "lake"], env, tmp_path)
    assert_fails_clearly(done, expected, tmp_path)


def test_a_missing_sources_file_is_one_clear_line(env: dict[str, str], tmp_path: Path) -> None:
    done = rasid(["run", "--sources", "nope.yaml", "--lake", "lake"], env, tmp_path)
    assert_fails_clearly(done, "cannot read sources file nope.yaml", tmp_path)


def test_a_bad_setting_is_named_without_its_value(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_text(GOOD, encoding="utf-8")
    env |= {"RASID_CONNECT_TIMEOUT": "soon-ish", "RASID_MAX_RETRIES": "3"}
    done = rasid(["run", "--sources", "sources.yaml", "--lake", "lake"], env, tmp_path)
    assert_fails_clearly(done, "RASID_CONNECT_TIMEOUT", tmp_path)
    assert "soon-ish" not in done.stderr and "RASID_MAX_RETRIES" not in done.stderr


@pytest.mark.parametrize(("lake", "expected"), [
    ("ftp://lake.example/x", "unsupported lake URI 'ftp://lake.example/x'"),
    ("s3:///rasid", "names no bucket"),
])
def test_a_lake_uri_of_the_wrong_kind(
    lake: str, expected: str, env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "sources.yaml").write_text(GOOD, encoding="utf-8")
    done = rasid(["run", "--sources", "sources.yaml", "--lake", lake], env, tmp_path)
    assert_fails_clearly(done, expected, tmp_path)


def test_an_unreachable_lake(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_text(GOOD, encoding="utf-8")
    env |= {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}", "AWS_ACCESS_KEY_ID": "rasidkey",
            "AWS_SECRET_ACCESS_KEY": "rasidsecretvalue", "AWS_DEFAULT_REGION": "us-east-1",
            # boto3 retries a refused connection 8 times by default, with backoff (10-70 s).
            "AWS_MAX_ATTEMPTS": "2"}
    done = rasid(["run", "--sources", "sources.yaml", "--lake", "s3://news-lake/rasid"], env, tmp_path)
    assert_fails_clearly(done, "cannot reach the S3 endpoint for bucket 'news-lake'", tmp_path, status=4)


def test_missing_credentials(env: dict[str, str], tmp_path: Path, moto_endpoint: str) -> None:
    (tmp_path / "sources.yaml").write_text(GOOD, encoding="utf-8")
    env |= {"AWS_ENDPOINT_URL": moto_endpoint, "AWS_DEFAULT_REGION": "us-east-1"}
    done = rasid(["run", "--sources", "sources.yaml", "--lake", "s3://news-lake/rasid"], env, tmp_path)
    assert_fails_clearly(done, "no AWS credentials found for bucket 'news-lake'", tmp_path, status=4)


def test_a_bucket_that_does_not_exist(env: dict[str, str], tmp_path: Path, moto_endpoint: str) -> None:
    (tmp_path / "sources.yaml").write_text(GOOD, encoding="utf-8")
    env |= {"AWS_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": "rasidkey",
            "AWS_SECRET_ACCESS_KEY": "rasidsecretvalue", "AWS_DEFAULT_REGION": "us-east-1"}
    done = rasid(["run", "--sources", "sources.yaml", "--lake", "s3://no-such-lake/rasid"], env, tmp_path)
    assert_fails_clearly(done, "S3 bucket 'no-such-lake' does not exist", tmp_path, status=4)
