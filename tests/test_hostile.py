"""rasid against the hostile site (tests/hostile_site.py), as one source among others.

The first run is `rasid run` in a process of its own, so its peak memory can be measured; the
second is the collect flow under Prefect's test harness, on the same lake. The site counts the
requests it gets, which says what the second run tried again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html
import pytest
import yaml

from rasid.storage import open_lake
from rasid.urls import normalize_url
from tests.hostile_site import (
    DOCUMENT_FAULTS,
    FAULTS,
    GOOD,
    IN_LYING_FEED,
    LINKED,
    NESTED,
    SECTIONS_SOURCE,
    SHORT_CHAIN,
    SOURCE,
    UNREACHABLE,
    Fault,
    HostileSite,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

# Small budgets, so that each fault costs seconds; all are bounds, none is measured.
SETTINGS = {
    "RASID_CONNECT_TIMEOUT": "1",
    "RASID_READ_TIMEOUT": "1",
    "RASID_RESPONSE_DEADLINE": "3",
    "RASID_MAX_RESPONSE_BYTES": str(2_000_000),
    "RASID_MAX_RETRIES": "1",
    "RASID_MAX_RETRY_AFTER": "2",
    # Extraction in the run's own process: the peak measured below is the process doing it all.
    "RASID_EXTRACT_WORKERS": "1",
}
RUN_TIMEOUT = 300  # seconds; a run that hangs is killed and fails instead of holding CI
# Peak RSS in bytes: one 5 GiB body or inflated bomb held would break it. Measured peaks range
# from about 0.45 to 1.06 GiB between runs (parsing the 100,000-level page with huge_tree while
# fetch threads hold their buffers); the bound is the performance issue's 1.5 GiB ceiling.
MEMORY_BOUND = 3 * 1024**3 // 2
NEIGHBOUR = "sham-today"  # a well-behaved demo outlet in the same runs


@dataclass
class Runs:
    site: HostileSite
    lake: Path
    process: subprocess.CompletedProcess[str]  # the first run, `rasid run`
    peak_rss: int  # bytes, of the first run's largest process
    first: dict[str, Any]  # manifests
    second: dict[str, Any]
    hits_first: Counter[str]  # requests the site answered during each run, by path
    hits_second: Counter[str]


def run_measured(
    args: list[str], env: dict[str, str], logs: Path
) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run a command; its result and the peak RSS (bytes) of it or a child it waited for."""
    out, err = logs / "stdout.txt", logs / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(args, env=env, stdout=stdout, stderr=stderr)
    watchdog = threading.Timer(RUN_TIMEOUT, process.kill)
    watchdog.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)  # not Popen.wait: wait4 gives the usage
    finally:
        watchdog.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    done = subprocess.CompletedProcess(args, process.returncode, out.read_text(), err.read_text())
    return done, usage.ru_maxrss * 1024  # Linux counts kibibytes


def sources_yaml(site: HostileSite, demo_site: Any) -> str:
    neighbour = [s for s in yaml.safe_load(demo_site.sources_yaml())["sources"] if s["id"] == NEIGHBOUR]
    return yaml.safe_dump({"sources": yaml.safe_load(site.sources_yaml())["sources"] + neighbour},
                          allow_unicode=True)


@pytest.fixture(scope="module")
def runs(demo_site: Any, request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    root = tmp_path_factory.mktemp("hostile")
    with HostileSite() as site:
        sources, lake = root / "sources.yaml", root / "lake"
        sources.write_text(sources_yaml(site, demo_site), encoding="utf-8")
        env = {**SETTINGS, "RASID_ALLOW_PRIVATE_HOSTS": f"127.0.0.1,{demo_site.allowlist()}"}
        process, peak = run_measured(
            # Hostile sites are flagged as they should be; the status asked for is "finished".
            [sys.executable, "-m", "rasid.cli", "run", "--sources", str(sources), "--lake", str(lake),
             "--fail-on", "never"],
            {**os.environ, **env, "PREFECT_HOME": str(root / "prefect"),
             # A loaded CI machine can take longer than the default 20 s to start the server.
             "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}, root,
        )
        assert process.returncode == 0, process.stderr[-3000:]
        hits_first = site.hits.copy()

        request.getfixturevalue("prefect_harness")
        from rasid_flows.collect import collect

        with pytest.MonkeyPatch.context() as monkeypatch:
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            collect(sources_file=str(sources), lake=str(lake))
        first, second = open_lake(str(lake)).manifests()
        yield Runs(site, lake, process, peak, first, second, hits_first, site.hits - hits_first)


def url(runs: Runs, path: str) -> str:
    return normalize_url(runs.site.url(path))


def failures(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["url"]: f for f in manifest["failures"]}


def stored(runs: Runs) -> dict[str, str]:
    table = open_lake(str(runs.lake)).dataset("articles").to_table(columns=["url", "body"])
    return dict(zip(table.column("url").to_pylist(), table.column("body").to_pylist(), strict=True))


def quarantined(runs: Runs) -> set[str]:
    table = open_lake(str(runs.lake)).dataset("quarantine").to_table(columns=["url"])
    return set(table.column("url").to_pylist())


# --- the first run -------------------------------------------------------------------------


def test_the_run_completes_without_a_traceback(runs: Runs) -> None:
    assert runs.process.returncode == 0
    output = runs.process.stdout + runs.process.stderr
    assert "Traceback" not in output
    assert SOURCE in runs.process.stdout and NEIGHBOUR in runs.process.stdout


def test_memory_stays_bounded(runs: Runs) -> None:
    assert 0 < runs.peak_rss < MEMORY_BOUND


def test_good_articles_of_the_hostile_source_are_stored_with_their_text(runs: Runs) -> None:
    bodies = stored(runs)
    for article in (*GOOD, IN_LYING_FEED):
        # Whatever the charset label said, the Arabic text arrives intact.
        assert article.phrase in bodies[url(runs, article.path)], article.path
    first_run = {r["url"] for r in runs.first["records"] if r["kind"] == "article"}
    assert {url(runs, a.path) for a in GOOD if a.stored_in_run == 1} <= first_run
    assert url(runs, IN_LYING_FEED.path) in first_run  # its feed lies about its charset
    assert url(runs, SHORT_CHAIN) in first_run  # followed three redirects to the article


def test_the_neighbouring_source_is_unharmed(runs: Runs) -> None:
    stats = runs.first["sources"][NEIGHBOUR]
    assert stats["stored"] > 0 and stats["failed"] <= 1  # the demo outlet's own missing page


def test_a_links_only_source_reads_its_undecodable_deeply_nested_section_page(runs: Runs) -> None:
    assert runs.first["sources"][SECTIONS_SOURCE]["stored"] == 1
    assert LINKED.phrase in stored(runs)[url(runs, LINKED.path)]
    memo = failures(runs.first)[url(runs, "/private/2026/11/28/memo")]
    assert (memo["source_id"], memo["reason"]) == (SECTIONS_SOURCE, "robots_disallowed")


def test_the_page_nested_100000_deep_is_kept_not_failed(runs: Runs) -> None:
    nested = url(runs, NESTED.path)
    assert nested not in failures(runs.first)
    assert nested in set(stored(runs)) | quarantined(runs)


@pytest.mark.parametrize("fault", FAULTS + DOCUMENT_FAULTS, ids=lambda f: f.path)
def test_each_fault_is_recorded_with_its_reason(runs: Runs, fault: Fault) -> None:
    failure = failures(runs.first)[url(runs, fault.path)]
    assert failure["source_id"] == SOURCE
    assert failure["reason"] in fault.reasons, failure
    assert failure["transient"] is fault.retryable, failure
    assert failure["detail"]


def test_an_unreachable_source_is_a_timeout_not_a_hang(runs: Runs) -> None:
    # Its robots.txt is the first thing asked for; a host that cannot answer it gets nothing
    # more asked in this run (RFC 9309), and the failure says why.
    (failure,) = [f for f in runs.first["failures"] if f["source_id"] == UNREACHABLE]
    assert failure["reason"] == "robots_unavailable" and failure["transient"]
    assert "timeout" in failure["detail"]


def test_every_candidate_is_stored_quarantined_or_failed(runs: Runs) -> None:
    stats = runs.first["sources"][SOURCE]
    documents = len(DOCUMENT_FAULTS)
    # Besides GOOD and FAULTS: the short chain, the nested page, the lying feed's article.
    assert stats["new"] == len(GOOD) + 3 + len(FAULTS)
    assert stats["failed"] - documents == stats["new"] - stats["fetched"]
    assert stats["fetched"] == stats["stored"] + stats["quarantined"]


def test_failures_appear_in_the_report(runs: Runs) -> None:
    page = lxml.html.parse(str(runs.lake / runs.first["report"])).getroot()
    listed = {li.get("data-url"): li.get("data-reason") for li in page.find_class("failure")}
    for fault in FAULTS + DOCUMENT_FAULTS:
        reason = failures(runs.first)[url(runs, fault.path)]["reason"]
        assert listed[url(runs, fault.path)] == reason, fault.path


def test_nothing_is_sent_outside_the_allowlist_or_past_robots(runs: Runs) -> None:
    # The redirect to 127.0.0.2 and the external entity pointing there were refused unsent.
    assert runs.site.outside_connections == 0
    assert not any(path.startswith("/private/") for path in runs.hits_first + runs.hits_second)


def test_a_sitemap_index_listing_itself_is_read_once(runs: Runs) -> None:
    for path in ("/sitemap.xml", "/sitemaps/cycle-a.xml", "/sitemaps/cycle-b.xml"):
        assert runs.hits_first[path] == 1, path


# --- the next run -----------------------------------------------------------------------------


def test_the_next_run_retries_what_is_retryable_and_nothing_permanent(runs: Runs) -> None:
    for fault in FAULTS:
        assert (runs.hits_second[fault.path] > 0) is fault.retryable, fault.path
    retried = {url(runs, f.path) for f in FAULTS if f.retryable}
    assert set(failures(runs.second)) & {url(runs, f.path) for f in FAULTS} == retried


def test_the_next_run_stores_what_a_burst_of_errors_kept_out(runs: Runs) -> None:
    late = {url(runs, a.path) for a in GOOD if a.stored_in_run == 2}
    assert late <= set(failures(runs.first))
    assert late <= {r["url"] for r in runs.second["records"] if r["kind"] == "article"}


def test_the_next_run_does_not_fetch_stored_articles_again(runs: Runs) -> None:
    for article in GOOD:
        if article.stored_in_run == 1:
            assert runs.hits_second[article.path] == 0, article.path
