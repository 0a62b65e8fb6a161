"""Shared fixtures: real servers on loopback (the demo site, moto's S3) and Prefect's harness."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

# moto's server logs every request; failures are easier to read without them.
logging.getLogger("werkzeug").setLevel(logging.WARNING)

# A recognisable secret: tests search every output for it.
PLANTED_SECRET = "rasidPLANTEDsecret/9f8e7d6c5b4a3210ZYXWVUT"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Standard AWS variables pointing at the moto server, with the planted secret key."""
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "rasidtestkeyid",
        "AWS_SECRET_ACCESS_KEY": PLANTED_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def s3_lake(s3_env: dict[str, str]) -> str:
    import boto3

    bucket = f"lake-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return f"s3://{bucket}/rasid"


@pytest.fixture(scope="session")
def demo_site() -> Iterator[object]:
    from rasid.demo.server import DemoServer

    with DemoServer(port=0) as server:
        yield server


@pytest.fixture
def demo_sources(demo_site: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sources file for the running demo site, with its loopback hosts allowlisted."""
    monkeypatch.setenv("RASID_ALLOW_PRIVATE_HOSTS", demo_site.allowlist())  # type: ignore[attr-defined]
    path = tmp_path / "sources.yaml"
    path.write_text(demo_site.sources_yaml(), encoding="utf-8")  # type: ignore[attr-defined]
    return path


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
