"""The editor report as a person sees it: the demo lake's report rendered in headless Chromium
(driven over the DevTools protocol), its numbers checked against the lake with DuckDB, its
direction, its fit on a phone and a desktop, its links — and screenshots kept in test-output/.

Two committed runs: the demo as it is, then the same sources with halab-online's homepage
moved away, so the report has a trend, a source that needs attention and fetch failures.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from rasid import checks, report
from rasid.storage import open_lake

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-output"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTHS = (390, 1280)
# Loopback only, and never through a proxy someone set in the environment.
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))

if CHROMIUM is None and not os.environ.get("RASID_REQUIRE_BROWSER"):
    # CI sets RASID_REQUIRE_BROWSER, so there a missing browser fails instead of skipping.
    pytest.skip("needs Chromium (Debian: apt-get install chromium)", allow_module_level=True)


class Page:
    """One headless Chromium tab over the DevTools protocol: just what these tests need."""

    def __init__(self, profile: Path) -> None:
        from websockets.sync.client import connect

        assert CHROMIUM, "Chromium is not installed: apt-get install chromium"
        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-proxy-server",
                "--hide-scrollbars",
                # Pages may name hosts (GX loads its CSS from CDNs); no name resolves here.
                "--host-resolver-rules=MAP * ~NOTFOUND",
                f"--user-data-dir={profile}",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port = self._devtools_port(profile / "DevToolsActivePort")
        with LOCAL.open(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            targets = json.load(answer)
        url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        self.socket = connect(url, max_size=None, proxy=None, open_timeout=10)
        self.calls = 0
        self.send("Page.enable")

    def _devtools_port(self, marker: Path) -> int:
        for _ in range(300):
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            if self.process.poll() is not None:
                raise RuntimeError(f"Chromium exited with {self.process.returncode}")
            time.sleep(0.1)
        raise TimeoutError("Chromium did not open its DevTools port")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.calls += 1
        self.socket.send(json.dumps({"id": self.calls, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == self.calls:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message["result"])

    def wait_for(self, event: str) -> None:
        while json.loads(self.socket.recv(timeout=30)).get("method") != event:
            pass

    def open(self, url: str, width: int) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=900,
            deviceScaleFactor=1,
            mobile=width < 600,
        )
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        answer = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            raise RuntimeError(answer["exceptionDetails"])
        return answer["result"].get("value")

    def screenshot(self, path: Path) -> None:
        size = self.send("Page.getLayoutMetrics")["cssContentSize"]
        shot = self.send(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with tempfile.TemporaryDirectory(prefix="rasid-chromium-") as profile:
        tab = Page(Path(profile))
        yield tab
        tab.close()


def _moved_halab(sources_yaml: str) -> str:
    """The same sources, with halab-online's homepage gone (a redesign, from our side)."""
    data = yaml.safe_load(sources_yaml)
    for source in data["sources"]:
        if source["id"] == "halab-online":
            source["homepage"] = source["homepage"].rstrip("/") + "/moved-away/"
            source["sections"] = []
    return yaml.safe_dump(data, allow_unicode=True)


@pytest.fixture(scope="module")
def lake(demo_site: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rasid_flows.collect import collect

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("RASID_ALLOW_PRIVATE_HOSTS", demo_site.allowlist())
    root = tmp_path_factory.mktemp("report")
    first, second = root / "sources.yaml", root / "sources-moved.yaml"
    first.write_text(demo_site.sources_yaml(), encoding="utf-8")
    second.write_text(_moved_halab(demo_site.sources_yaml()), encoding="utf-8")
    collect(sources_file=str(first), lake=str(root / "lake"))
    collect(sources_file=str(second), lake=str(root / "lake"))
    monkeypatch.undo()
    return root / "lake"


@pytest.fixture(scope="module")
def manifests(lake: Path) -> list[dict[str, Any]]:
    return open_lake(str(lake)).manifests()


@pytest.fixture(scope="module")
def shown(page: Page, lake: Path) -> dict[str, Any]:
    """What the latest report shows at desktop width, read from the rendered DOM."""
    page.open((lake / "reports" / "index.html").as_uri(), 1280)
    return dict(
        page.js("""(() => {
      const text = (e) => e.textContent.trim();
      return {
        metrics: [...document.querySelectorAll('#overview [data-metric], header [data-metric]')]
          .map(e => [e.dataset.source, e.dataset.metric, text(e)]),
        history: [...document.querySelectorAll('#history tr[data-run]')]
          .map(r => [r.dataset.run, [...r.querySelectorAll('td.n')].map(text)]),
        problems: [...document.querySelectorAll('li.problem')].map(li => ({
          source: li.dataset.source, check: li.dataset.check, url: li.dataset.url,
          href: li.querySelector('a.title').href, title: text(li.querySelector('a.title')),
          reasons: [...li.querySelectorAll('.reasons li')].map(text)})),
        failures: [...document.querySelectorAll('li.failure')].map(li => ({
          source: li.dataset.source, url: li.dataset.url, reason: li.dataset.reason,
          href: li.querySelector('a').href, words: text(li.querySelector('.reasons'))})),
        attention: [...document.querySelectorAll('#attention li')]
          .map(li => [li.dataset.source, text(li)]),
        links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
      };
    })()""")
    )


def lake_sql(lake: Path, sql: str) -> list[tuple[Any, ...]]:
    for kind in ("articles", "quarantine"):
        rel = f"read_parquet('{lake}/{kind}/**/*.parquet', hive_partitioning=true)"
        sql = sql.replace(kind.upper(), rel)
    return duckdb.sql(sql).fetchall()


def test_the_numbers_shown_are_the_lakes(
    shown: dict[str, Any], lake: Path, manifests: list[dict[str, Any]]
) -> None:
    latest = manifests[-1]
    metrics = {(s, m): int(v) for s, m, v in shown["metrics"]}
    for source, stats in latest["sources"].items():
        for key, _, _ in report.COUNT_LABELS:
            assert metrics[(source, key)] == stats[key], (source, key)
    for key, _, _ in report.COUNT_LABELS:
        assert metrics[("*", key)] == latest["totals"][key]
    # Stored and quarantined, run by run, are exactly the rows DuckDB reads in the lake.
    stored = dict(lake_sql(lake, "SELECT run_id, count(*) FROM ARTICLES GROUP BY 1"))
    quarantined = dict(lake_sql(lake, "SELECT run_id, count(*) FROM QUARANTINE GROUP BY 1"))
    columns = [key for key, _, _ in report.COUNT_LABELS]
    history = {
        run: dict(zip(columns, map(int, cells), strict=True)) for run, cells in shown["history"]
    }
    assert set(history) == {m["run_id"] for m in manifests}
    for run, counts in history.items():
        assert counts["stored"] == stored.get(run, 0)
        assert counts["quarantined"] == quarantined.get(run, 0)
    assert sum(stored.values()) > 40 and sum(quarantined.values()) >= 3  # the demo's traps


def test_every_failing_article_is_listed_with_its_reason_and_a_working_link(
    shown: dict[str, Any], lake: Path
) -> None:
    expected = set(lake_sql(lake, "SELECT source, unnest(reasons), url FROM QUARANTINE"))
    warnings = {r.reason for r in checks.rules() if not r.blocking}
    flagged = (
        "SELECT source, unnest(flags), url FROM ARTICLES UNION ALL "
        "SELECT source, unnest(flags), url FROM QUARANTINE"
    )
    expected |= {
        (source, flag, url) for source, flag, url in lake_sql(lake, flagged) if flag in warnings
    }
    listed = {(p["source"], p["check"], p["url"]) for p in shown["problems"]}
    assert listed == expected and len(expected) >= 5
    titles = dict(
        lake_sql(
            lake, "SELECT url, title FROM QUARANTINE UNION ALL SELECT url, title FROM ARTICLES"
        )
    )
    for problem in shown["problems"]:
        arabic, english = report.REASONS[problem["check"]]
        assert f"{arabic} {english}" in problem["reasons"]
        assert problem["href"] == problem["url"] and problem["title"] == titles[problem["url"]]
        with LOCAL.open(problem["href"], timeout=10) as answer:  # the demo site, on loopback
            assert answer.status == 200
            assert problem["title"].split(":")[0] in answer.read().decode("utf-8", "replace")
    reasons = " ".join(r for p in shown["problems"] for r in p["reasons"])
    for words in (
        "لم يُعثر على تاريخ النشر",
        "no publication date found",
        "النص مكرر",
        "the text is repeated",
        "النص ليس بالعربية",
        "the text is not Arabic",
    ):
        assert words in reasons


def test_pages_that_could_not_be_fetched_are_listed_with_the_reason(
    shown: dict[str, Any], manifests: list[dict[str, Any]]
) -> None:
    failed = {(f["source_id"], f["url"], f["reason"]) for m in manifests for f in m["failures"]}
    assert {(f["source"], f["url"], f["reason"]) for f in shown["failures"]} == failed
    assert {f["source"] for f in shown["failures"]} == {"sham-today", "halab-online"}
    for failure in shown["failures"]:
        assert failure["href"] == failure["url"]
        assert "الصفحة غير موجودة" in failure["words"] and "page not found" in failure["words"]


def test_the_summary_on_top_names_the_source_that_broke(shown: dict[str, Any]) -> None:
    attention = dict(shown["attention"])
    assert set(attention) == {"halab-online"}
    assert "حلب أونلاين" in attention["halab-online"]
    assert "المصدر لم يُعطِ أي مقال" in attention["halab-online"]


def test_arabic_runs_right_to_left_and_english_left_to_right(page: Page, lake: Path) -> None:
    page.open((lake / "reports" / "index.html").as_uri(), 1280)
    direction = page.js("""(() => {
      const dir = (sel) => [...document.querySelectorAll(sel)]
        .map(e => getComputedStyle(e).direction);
      return {html: document.documentElement.lang, body: dir('body'), headings: dir('h1, h2, h3'),
              reasons: dir('.reasons li'), english: dir('.en'), urls: dir('.url')};
    })()""")
    assert direction["html"] == "ar" and direction["body"] == ["rtl"]
    for key in ("headings", "reasons"):
        assert direction[key] and set(direction[key]) == {"rtl"}, key
    for key in ("english", "urls"):
        assert direction[key] and set(direction[key]) == {"ltr"}, key
    # The one English article keeps its own direction inside the Arabic page.
    titles = page.js("""[...document.querySelectorAll('a.title')].map(a => [a.textContent,
        getComputedStyle(a).direction, a.getBoundingClientRect().right])""")
    assert any(t.startswith("Autumn on the Euphrates") and d == "ltr" for t, d, _ in titles)
    assert any(not t.isascii() and d == "rtl" for t, d, _ in titles)


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_overflows_sideways(page: Page, lake: Path, width: int) -> None:
    page.open((lake / "reports" / "index.html").as_uri(), width)
    page.screenshot(SCREENSHOTS / f"report-{width}.png")
    fit = page.js("""(() => {
      const root = document.documentElement;
      const wide = [...document.querySelectorAll('body *')]
        .filter(e => { const r = e.getBoundingClientRect();
                       return r.width && (r.left < -1 || r.right > root.clientWidth + 1); })
        .map(e => e.tagName + '.' + e.className);
      return {scroll: root.scrollWidth, client: root.clientWidth, wide: wide.slice(0, 5)};
    })()""")
    assert fit["client"] == width
    assert fit["scroll"] <= fit["client"] and fit["wide"] == [], fit
    if width < 600:  # on a phone the tables are cards: no header row, one label per value
        layout = page.js("""[getComputedStyle(document.querySelector('#overview thead')).display,
            getComputedStyle(document.querySelector('#overview td'), '::before').content]""")
        assert layout[0] == "none" and "discovered" in layout[1]


def test_data_docs_are_published_beside_the_report_and_linked(
    shown: dict[str, Any], lake: Path, manifests: list[dict[str, Any]], page: Page
) -> None:
    reports = lake / "reports"
    local = [href for href in shown["links"] if not href.startswith(("http", "#"))]
    for href in local:
        assert (reports / href).is_file(), href
    docs = [href for href in local if href.startswith("data-docs/validations/")]
    assert {h.split("/")[3] for h in docs} == {
        m["run_id"] for m in manifests if m["files"].get("validations")
    }
    assert "data-docs/index.html" in local
    for earlier in manifests[:-1]:
        assert f"{earlier['run_id']}/index.html" in local
    # GX's own page for the first run, as rendered: its checks, and no call home for a logo.
    page.open((reports / docs[-1]).as_uri(), 1280)
    text = page.js("document.body.innerText")
    assert manifests[0]["run_id"] in text and "values must never be null" in text
    for path in (reports / "data-docs").rglob("*.html"):
        assert "great-expectations-web-assets" not in path.read_text(encoding="utf-8")
    page.screenshot(SCREENSHOTS / "data-docs-run.png")


def test_the_prefect_artifact_links_to_the_report(
    lake: Path, manifests: list[dict[str, Any]]
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["rasid-run-report"]))
        )
    latest = manifests[-1]["run_id"]
    (mine,) = [a for a in artifacts if latest in str(a.data)]
    target = (lake / "reports" / latest / "index.html").as_uri()
    assert f"]({target})" in str(mine.data)
    assert f"]({target}#source-halab-online)" in str(mine.data)
    halab = next(line for line in str(mine.data).splitlines() if "[halab-online]" in line)
    assert not halab.endswith("| — |")  # it says why the source needs attention


def test_rasid_report_out_writes_a_browsable_copy(
    lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rasid.cli import main

    out = tmp_path / "out"
    assert main(["report", "--lake", str(lake), "--out", str(out)]) == 0
    # A file:// link, which terminals open with a click (as `rasid run` prints it).
    assert f"report: {(out / 'index.html').as_uri()}" in capsys.readouterr().out
    html = (out / "index.html").read_text(encoding="utf-8")
    local = [h for h in re.findall(r'href="([^"#][^"]*)"', html) if not h.startswith("http")]
    assert "data-docs/index.html" in local
    for href in local:  # the copy stands alone: no link into the lake it came from
        assert (out / href).is_file(), href
