"""Secret hygiene: planted S3 and Prefect keys never appear in what rasid says or writes.

Recognisable keys go into the environment (the AWS key id, secret and session token, and
PREFECT_API_KEY); then every output is searched: stdout and stderr of `rasid` runs, verbose
and failing ones; everything Prefect kept (its database holds the logs, artifacts, parameters
and states of the runs); every object in the lake, reports and manifests included; log
records; and the full text of storage exceptions.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest

from rasid.storage import StorageError, open_lake
from tests.conftest import PLANTED_SECRET

KEY_ID = "AKIARASIDPLANTED7Q2X"
SESSION_TOKEN = "rasidPLANTEDsessionTOKEN/IQoJb3JpZ2luX2VjEJr"
PREFECT_KEY = "pnu_rasidPLANTEDprefectKEY0123456789abcd"
SECRETS = (KEY_ID, PLANTED_SECRET, SESSION_TOKEN, PREFECT_KEY)


@pytest.fixture
def planted(s3_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The moto endpoint with recognisable credentials, and a Prefect API key."""
    env = {**s3_env, "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SESSION_TOKEN": SESSION_TOKEN,
           "PREFECT_API_KEY": PREFECT_KEY, "AWS_EC2_METADATA_DISABLED": "true"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def bucket(planted: dict[str, str]) -> Iterator[str]:
    name = f"secrets-{os.urandom(4).hex()}"
    boto3.client("s3").create_bucket(Bucket=name)
    yield name


def leaks(outputs: Mapping[str, bytes | str]) -> list[tuple[str, str]]:
    """(where, which secret) for every secret found in any output."""
    found = []
    for where, data in outputs.items():
        raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
        found += [(where, secret) for secret in SECRETS if secret.encode() in raw]
    return found


def rasid(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rasid.cli", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300, check=False)


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def bucket_objects(name: str) -> dict[str, bytes]:
    client = boto3.client("s3")
    keys = [obj["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=name)
            for obj in page.get("Contents", [])]
    return {f"s3://{name}/{key}": client.get_object(Bucket=name, Key=key)["Body"].read()
            for key in keys}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_a_verbose_run_into_s3_leaves_no_key_in_any_output(
    planted: dict[str, str], bucket: str, demo_site: Any, tmp_path: Path
) -> None:
    (tmp_path / "sources.yaml").write_text(demo_site.sources_yaml(), encoding="utf-8")
    home = tmp_path / "prefect-home"
    env = {**os.environ, "PREFECT_HOME": str(home),
           "RASID_ALLOW_PRIVATE_HOSTS": demo_site.allowlist(),
           # A loaded CI machine can take longer than the default 20 s to start the server.
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}
    done = rasid(["-v", "run", "--sources", "sources.yaml", "--lake", f"s3://{bucket}/rasid"],
                 env, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    prefect, lake = files_under(home), bucket_objects(bucket)
    # The search covers real outputs: Prefect's database holds the run's report artifact, the
    # lake its manifest and report, stderr the verbose log lines.
    assert any(b"rasid-run-report" in data for data in prefect.values())
    assert any("/_manifests/" in key for key in lake) and any("/reports/" in key for key in lake)
    assert " INFO " in done.stderr
    assert leaks({"stdout": done.stdout, "stderr": done.stderr, **prefect, **lake}) == []


@pytest.mark.parametrize("failure", ["missing-bucket", "unreachable-endpoint", "keys-in-the-uri",
                                     "bad-sources"])
def test_failing_commands_print_no_key(failure: str, planted: dict[str, str], tmp_path: Path) -> None:
    sources = "sources: [{id: x, name: x, homepage: 'http://127.0.0.1:9/'}]\n"
    lake = "s3://no-such-lake/rasid"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home")}
    if failure == "unreachable-endpoint":
        env |= {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}", "AWS_MAX_ATTEMPTS": "1"}
    elif failure == "keys-in-the-uri":
        lake = f"s3://{KEY_ID}:{PLANTED_SECRET.replace('/', '%2F')}@no-such-lake/rasid"
    elif failure == "bad-sources":
        sources = sources.replace("id: x", "id: X X")
    (tmp_path / "sources.yaml").write_text(sources, encoding="utf-8")
    done = rasid(["-v", "run", "--sources", "sources.yaml", "--lake", lake], env, tmp_path)
    # A bad sources file or lake URI is configuration (3); a lake that fails is storage (4).
    assert done.returncode == (3 if failure in ("keys-in-the-uri", "bad-sources") else 4), done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("rasid: error: "), done.stderr
    assert leaks({"stdout": done.stdout, "stderr": done.stderr}) == []
    assert PLANTED_SECRET.replace("/", "%2F") not in done.stderr


def test_storage_errors_and_their_log_records_carry_no_key(
    planted: dict[str, str], bucket: str, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # rasid's own records at every level; other libraries' at the levels `rasid -v` shows.
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="rasid")
    errors: list[BaseException] = []
    lake = open_lake(f"s3://{bucket}/rasid")
    lake.write_bytes("reports/index.html", b"<html></html>")
    boto3.resource("s3").Bucket(bucket).objects.all().delete()
    boto3.client("s3").delete_bucket(Bucket=bucket)
    for action in (lambda: lake.write_bytes("reports/x.html", b"x"), lake.manifests,
                   lambda: open_lake(f"s3://{bucket}/rasid")):
        with pytest.raises(StorageError) as caught:
            action()
        errors.append(caught.value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(StorageError) as caught:
        open_lake(f"s3://{bucket}/rasid")
    errors.append(caught.value)
    texts = {f"error {i}": "".join(traceback.format_exception(e)) for i, e in enumerate(errors)}
    assert all(bucket in text for text in texts.values())  # the errors say where, at least
    records = {f"record {i}": r.getMessage() for i, r in enumerate(caplog.records)}
    assert leaks(texts | records) == []
