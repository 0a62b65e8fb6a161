"""Where sources and the lake come from when a command or a deployment does not say: a path,
an http(s) URL, an object in S3, the environment or a Prefect Variable."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rasid.config import ConfigError, load_sources, read_beside
from rasid.storage import open_lake

SOURCES = (Path(__file__).resolve().parents[1] / "sources.yaml").read_bytes()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        found = self.path == "/sources.yaml"
        self.send_response(200 if found else 404)
        self.send_header("Content-Length", str(len(SOURCES) if found else 0))
        self.end_headers()
        if found:
            self.wfile.write(SOURCES)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def config_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_sources_from_a_url(config_site: str, tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_bytes(SOURCES)
    assert load_sources(f"{config_site}/sources.yaml") == load_sources(tmp_path / "sources.yaml")
    with pytest.raises(ConfigError, match="404"):
        load_sources(f"{config_site}/moved.yaml")


def test_sources_from_the_lake_in_s3(s3_lake: str, tmp_path: Path) -> None:
    open_lake(s3_lake).store.put("sources.yaml", SOURCES)
    (tmp_path / "sources.yaml").write_bytes(SOURCES)
    assert load_sources(f"{s3_lake}/sources.yaml") == load_sources(tmp_path / "sources.yaml")
    with pytest.raises(ConfigError, match="no such object"):
        load_sources(f"{s3_lake}/nope.yaml")


def test_the_file_beside_the_sources_is_found_wherever_they_are(
        config_site: str, s3_lake: str, tmp_path: Path) -> None:
    # watchlists.yaml goes with the sources file: beside it on disk, at the URL's folder, in
    # the same S3 prefix; its absence is no error (the URL's answers 404).
    (tmp_path / "watchlists.yaml").write_text("watchlists: []\n", encoding="utf-8")
    assert read_beside(tmp_path / "sources.yaml", "watchlists.yaml") == (
        str(tmp_path / "watchlists.yaml"), "watchlists: []\n")
    assert read_beside(tmp_path / "sub" / "sources.yaml", "watchlists.yaml") is None
    assert read_beside(f"{config_site}/a/sources.yaml", "watchlists.yaml") is None
    assert read_beside(f"{config_site}/x.yaml", "sources.yaml") == (
        f"{config_site}/sources.yaml", SOURCES.decode("utf-8"))
    open_lake(s3_lake).store.put("watchlists.yaml", b"watchlists: []\n")
    assert read_beside(f"{s3_lake}/sources.yaml", "watchlists.yaml") == (
        f"{s3_lake}/watchlists.yaml", "watchlists: []\n")
    assert read_beside(f"{s3_lake}/deeper/sources.yaml", "watchlists.yaml") is None


@pytest.mark.usefixtures("prefect_harness")
def test_flows_find_the_lake_and_sources_in_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from prefect.variables import Variable

    from rasid_flows import where

    monkeypatch.delenv("RASID_LAKE", raising=False)
    monkeypatch.delenv("RASID_SOURCES", raising=False)
    with pytest.raises(ConfigError, match="no lake: .*RASID_LAKE.*rasid_lake"):
        where.lake(None)
    Variable.set(where.LAKE_VARIABLE, str(tmp_path / "lake"), overwrite=True)
    assert where.lake(None) == str(tmp_path / "lake")
    assert where.sources(None, where.lake(None)) == f"{tmp_path / 'lake'}/sources.yaml"
    Variable.set(where.SOURCES_VARIABLE, "https://config.example/sources.yaml", overwrite=True)
    assert where.sources(None, "s3://b/p") == "https://config.example/sources.yaml"
    # The environment comes before a Variable, and a parameter before both.
    monkeypatch.setenv("RASID_LAKE", "s3://from-the-environment/rasid")
    assert where.lake(None) == "s3://from-the-environment/rasid"
    assert where.lake("s3://given/rasid") == "s3://given/rasid"
