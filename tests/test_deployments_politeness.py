"""Per-host limits shared across processes: which limits the sources need, the setup command
that creates them, the fetcher's seam that holds them, and a run that refuses to go without."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from rasid.config import ConfigError, Settings, parse_sources
from rasid.fetch import Fetcher
from rasid.fetch.hosts import host_key
from rasid.models import Candidate
from rasid_flows.politeness import HostLimits


def sources_yaml(*entries: dict[str, Any]) -> str:
    base = {"name": "موقع", "language": "ar"}
    return yaml.safe_dump({"sources": [{**base, **e} for e in entries]}, allow_unicode=True)


def test_each_host_gets_the_strictest_terms_of_the_sources_on_it() -> None:
    sources = parse_sources(sources_yaml(
        {"id": "a", "homepage": "https://www.news.example/", "max_concurrency": 4,
         "min_delay_seconds": 1, "feeds": ["https://feeds.example:8443/a.xml"]},
        {"id": "b", "homepage": "https://news.example/sport/", "max_concurrency": 2,
         "min_delay_seconds": 5},
    ))
    limits = {h.host: h for h in HostLimits.of(sources).hosts}
    assert set(limits) == {"news.example", "feeds.example:8443"}  # www. folded in
    news = limits["news.example"]
    assert (news.max_concurrency, news.min_delay_seconds) == (2, 5)
    assert news.concurrency_name == "rasid-host:news.example"
    assert news.rate_name == "rasid-rate:news.example"
    wanted = {w.name: w for w in news.wanted()}
    assert wanted["rasid-host:news.example"].limit == 2
    assert wanted["rasid-rate:news.example"].slot_decay_per_second == pytest.approx(0.2)
    assert host_key("https://www.news.example/a/b?c=1") == "news.example"


def test_no_delay_means_no_rate_limit() -> None:
    (source,) = parse_sources(sources_yaml(
        {"id": "a", "homepage": "http://127.0.0.1:8080/", "min_delay_seconds": 0}))
    (host,) = HostLimits.of([source]).hosts
    assert host.rate_name is None and [w.name for w in host.wanted()] == ["rasid-host:127.0.0.1:8080"]


def test_the_fetcher_holds_the_shared_gate_around_every_request(demo_site: Any) -> None:
    held: list[str] = []
    inside: list[str] = []

    @contextmanager
    def gate(url: str) -> Iterator[None]:
        held.append(url)
        yield
        inside.append(url)

    source = next(s for s in demo_site.sources() if s.id == "sham-today")
    settings = Settings(allow_private_hosts=demo_site.allowlist())
    fetcher = Fetcher(settings, shared_gate=gate)
    feed = fetcher.fetch_document(source.feeds[0], source)
    assert feed and held == inside  # each request entered and left the gate
    page = Candidate(f"{demo_site.base_url('sham-today')}/archives/700101", source.id, "feed")
    pages, failures = fetcher.fetch_all([(source, [page])])
    assert len(pages) == 1 and not failures
    assert held == [f"{source.homepage}robots.txt", source.feeds[0], page.url]


@pytest.mark.usefixtures("prefect_harness")
class TestOnAPrefectServer:
    def test_setup_creates_then_updates_the_limits_and_the_pool(self, tmp_path: Path) -> None:
        from prefect.client.orchestration import get_client

        from rasid_flows.setup_prefect import setup_prefect

        path = tmp_path / "sources.yaml"
        path.write_text(sources_yaml({"id": "a", "homepage": "https://setup.example/",
                                      "max_concurrency": 3, "min_delay_seconds": 2}))
        first = setup_prefect(str(path), pool="rasid-test-pool")
        assert first == ["created work pool rasid-test-pool (process)",
                         "created limit rasid-host:setup.example: 3 request(s) in flight",
                         "created limit rasid-rate:setup.example: one request per 2 s"]
        assert setup_prefect(str(path), pool="rasid-test-pool") == []
        path.write_text(sources_yaml({"id": "a", "homepage": "https://setup.example/",
                                      "max_concurrency": 1, "min_delay_seconds": 2}))
        assert setup_prefect(str(path), pool="rasid-test-pool") == [
            "updated limit rasid-host:setup.example: 1 request(s) in flight"]
        with get_client(sync_client=True) as client:
            assert client.read_work_pool("rasid-test-pool").type == "process"
            assert client.read_global_concurrency_limit_by_name("rasid-host:setup.example").limit == 1

    def test_the_gate_occupies_the_hosts_slot_while_a_request_runs(self, tmp_path: Path) -> None:
        from prefect.client.orchestration import get_client

        from rasid_flows.politeness import provision

        (source,) = parse_sources(sources_yaml({"id": "a", "homepage": "https://gate.example/"}))
        limits = HostLimits.of([source])
        provision(limits)

        def active() -> int:
            with get_client(sync_client=True) as client:
                return client.read_global_concurrency_limit_by_name("rasid-host:gate.example").active_slots

        with limits.gate("https://gate.example/news/1"):
            assert active() == 1
        assert active() == 0

    def test_a_run_with_a_missing_limit_stops_before_fetching(self, demo_sources: Path, tmp_path: Path) -> None:
        from rasid_flows.collect import collect

        with pytest.raises(ConfigError, match="rasid setup-prefect --sources"):
            collect(sources_file=str(demo_sources), lake=str(tmp_path / "lake"), shared_host_limits=True)
        assert not (tmp_path / "lake").exists()
