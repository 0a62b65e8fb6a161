"""Real pages on loopback, for the benchmarks: the shared corpus served as several news hosts.

The pages are read from the corpus folder at start-up (never copied into the repository) and
cycled under distinct URLs, so N can exceed the ~1,170 pages there are. Each loopback address
127.0.0.x is one host with its own sitemap, as separate sites would be on the web; all share
one port. Pages stored gzipped are sent gzipped (``Content-Encoding: gzip``), as servers do.
"""

from __future__ import annotations

import gzip
import os
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

CORPUS = Path(os.environ.get("RASID_BENCH_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
HOSTS = ("127.0.0.21", "127.0.0.22", "127.0.0.23", "127.0.0.24")


@dataclass(frozen=True)
class CorpusPage:
    name: str
    body: bytes  # as sent on the wire
    gzipped: bool

    def html(self) -> bytes:
        """The page as a browser (or a plain trafilatura loop) would have it."""
        return gzip.decompress(self.body) if self.gzipped else self.body


def load_corpus(root: Path = CORPUS) -> list[CorpusPage]:
    """Every page of the corpus, in a fixed order (so two runs serve the same page at a URL).

    The shared corpus's two sets, or else any folder of saved pages: every ``*.html``,
    ``*.htm`` and ``*.html.gz`` under ``root``.
    """
    pages = [CorpusPage(p.name, p.read_bytes(), False)
             for p in sorted((root / "trafilatura-eval" / "html").glob("*.html"))]
    pages += [CorpusPage(p.name, p.read_bytes(), True)
              for p in sorted((root / "zyte" / "html").glob("*.html.gz"))]
    if not pages:
        found = sorted(p for p in root.rglob("*") if p.is_file()
                       and p.name.lower().endswith((".html", ".htm", ".html.gz")))
        pages = [CorpusPage(p.name, p.read_bytes(), p.name.lower().endswith(".gz")) for p in found]
    if not pages:
        raise SystemExit(f"no pages under {root}: set RASID_BENCH_CORPUS to the corpus folder")
    return pages


def page_path(n: int) -> str:
    return f"/news/{n:07d}.html"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: CorpusSite

    def server_bind(self) -> None:
        # Skip the reverse DNS lookup HTTPServer.server_bind does for the server name.
        socketserver.TCPServer.server_bind(self)

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet: a client closing a kept-alive connection at exit is not news."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive: the fetcher reuses connections, as on the web
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        host = self.server.server_address[0]
        status, headers, body = self.server.site.respond(str(host), urlsplit(self.path).path)
        self.server.site.count(urlsplit(self.path).path)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silent."""


class CorpusSite:
    """``pages`` article URLs spread round-robin over ``hosts``, each host with a sitemap."""

    def __init__(self, corpus: list[CorpusPage], pages: int, hosts: tuple[str, ...] = HOSTS) -> None:
        self.corpus, self.pages, self.hosts = corpus, pages, hosts
        self.requests = {"pages": 0, "other": 0}
        self._lock = threading.Lock()
        self._servers: list[_Server] = []

    def __enter__(self) -> CorpusSite:
        first = self._bind(self.hosts[0], 0)
        self._servers = [first] + [self._bind(h, first.server_address[1]) for h in self.hosts[1:]]
        for server in self._servers:
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def _bind(self, host: str, port: int) -> _Server:
        server = _Server((host, port), _Handler)
        server.site = self
        return server

    @property
    def port(self) -> int:
        return int(self._servers[0].server_address[1])

    def origin(self, host: str) -> str:
        return f"http://{host}:{self.port}"

    def numbers(self, host: str) -> range:
        """The article numbers ``host`` serves."""
        return range(self.hosts.index(host), self.pages, len(self.hosts))

    def urls(self) -> Iterator[tuple[str, CorpusPage]]:
        """Every article URL with the corpus page it serves, in sitemap order."""
        for host in self.hosts:
            for n in self.numbers(host):
                yield self.origin(host) + page_path(n), self.corpus[n % len(self.corpus)]

    def respond(self, host: str, path: str) -> tuple[int, dict[str, str], bytes]:
        if path == "/sitemap.xml":
            locs = "".join(f"<url><loc>{self.origin(host)}{page_path(n)}</loc></url>"
                           for n in self.numbers(host))
            body = ('<?xml version="1.0" encoding="UTF-8"?>'
                    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"{locs}</urlset>").encode()
            return 200, {"Content-Type": "application/xml"}, body
        if path.startswith("/news/") and path.endswith(".html"):
            n = int(path.removeprefix("/news/").removesuffix(".html"))
            if n < self.pages and n % len(self.hosts) == self.hosts.index(host):
                page = self.corpus[n % len(self.corpus)]
                headers = {"Content-Type": "text/html"}  # no charset: pages differ; rasid detects
                if page.gzipped:
                    headers["Content-Encoding"] = "gzip"
                return 200, headers, page.body
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def count(self, path: str) -> None:
        with self._lock:
            self.requests["pages" if path.startswith("/news/") else "other"] += 1

    def allowlist(self) -> str:
        return ",".join(self.hosts)

    def sources_yaml(self) -> str:
        """One source per host: no politeness delay (loopback), no per-run cap below N."""
        entries = []
        for i, host in enumerate(self.hosts):
            entries.append(
                f"  - id: corpus-{i + 1}\n"
                f"    name: corpus host {i + 1}\n"
                f"    homepage: {self.origin(host)}/\n"
                f"    sitemaps: [{self.origin(host)}/sitemap.xml]\n"
                f"    language: en\n"
                f"    timezone: UTC\n"
                f"    min_delay_seconds: 0\n"
                f"    max_concurrency: 4\n"
                f"    min_arabic_ratio: 0\n"
                f"    max_articles_per_run: {self.pages}\n"
            )
        return "sources:\n" + "".join(entries)
