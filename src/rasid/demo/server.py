"""Serve the demo news site on loopback: one HTTP server per outlet address, one port for all.

Each outlet listens on its own 127.0.0.x address so the pipeline sees three hosts, exactly as
it would on the web. The site is rendered once, when the port is known, and then only read.
"""

from __future__ import annotations

import errno
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import yaml

from rasid.config import Source, parse_sources
from rasid.demo.site import DEMO_HOSTS, DEMO_PORT, Resource, build_site

_NOT_FOUND = Resource(
    404,
    {"Content-Type": "text/html; charset=utf-8"},
    '<!DOCTYPE html>\n<html lang="ar" dir="rtl"><head><meta charset="utf-8">'
    "<title>الصفحة غير موجودة</title></head><body><h1>404</h1>"
    "<p>عذراً، الصفحة التي تبحث عنها غير موجودة أو نُقلت.</p></body></html>\n".encode(),
)
_FREE_PORT_ATTEMPTS = 5
_POLL_SECONDS = 0.05


class _HostServer(ThreadingHTTPServer):
    daemon_threads = True
    responses: dict[str, Resource]  # by path

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks for the host's FQDN, a reverse DNS lookup that can stall
        # for seconds on a machine without network; the address is name enough here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up mid-connection (a reset keep-alive socket, a fetch given up)
        # is ordinary traffic for a web server, not a fault to print a traceback for.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    server: _HostServer
    protocol_version = "HTTP/1.1"  # keep-alive, like a real site: the fetcher reuses connections
    server_version = "rasid-demo"
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for a
    # delayed ACK, 40 ms per response on Linux.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self._respond(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(with_body=False)

    def _respond(self, with_body: bool) -> None:
        resource = self.server.responses.get(urlsplit(self.path).path, _NOT_FOUND)
        self.send_response(resource.status)
        for name, value in resource.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resource.body)))
        self.end_headers()
        if with_body:
            self.wfile.write(resource.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        """Silent: the demo's own progress lines are what the user should read."""


class DemoServer:
    """The three demo outlets on 127.0.0.11-13, all on one port (0: any free port)."""

    def __init__(self, port: int = DEMO_PORT) -> None:
        self._requested = port
        self._servers: list[_HostServer] = []
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if not self._servers:
            raise RuntimeError("the demo server is not running: call start() first")
        return int(self._servers[0].server_address[1])

    def start(self) -> DemoServer:
        if self._servers:
            return self
        servers = self._bind()
        try:
            site = build_site(int(servers[0].server_address[1]))
        except BaseException:
            for server in servers:  # never served, so close only: shutdown() would wait forever
                server.server_close()
            raise
        self._servers = servers
        for server, (source_id, host) in zip(self._servers, DEMO_HOSTS.items(), strict=True):
            server.responses = site[f"{host}:{self.port}"]
            # A short poll keeps stop() quick: shutdown() waits for the loop's next poll.
            thread = threading.Thread(target=server.serve_forever, args=(_POLL_SECONDS,),
                                      name=f"rasid-demo-{source_id}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join()
        self._servers, self._threads = [], []

    def _bind(self) -> list[_HostServer]:
        """Bind every address; with port 0, retry when another process grabbed the number."""
        if self._requested == 0:
            for _ in range(_FREE_PORT_ATTEMPTS - 1):
                try:
                    return _bind_all(0)
                except _PortTaken:
                    continue
        return _bind_all(self._requested)

    def base_url(self, source_id: str) -> str:
        """The outlet's origin without a trailing slash, e.g. "http://127.0.0.11:8471"."""
        return f"http://{DEMO_HOSTS[source_id]}:{self.port}"

    def sources(self) -> list[Source]:
        """The bundled sources.yaml, every URL pointing at the port actually in use."""
        text = resources.files("rasid.demo").joinpath("sources.yaml").read_text(encoding="utf-8")
        return [_on_port(source, self.port)
                for source in parse_sources(text, origin="rasid/demo/sources.yaml")]

    def sources_yaml(self) -> str:
        """``sources()`` as a sources file that ``rasid.config.parse_sources`` accepts."""
        entries = [source.model_dump(mode="json") for source in self.sources()]
        return yaml.safe_dump({"sources": entries}, allow_unicode=True, sort_keys=False)

    @staticmethod
    def watchlists_yaml() -> str:
        """The demo's watchlists, to be written beside its sources file."""
        return resources.files("rasid.demo").joinpath("watchlists.yaml").read_text(encoding="utf-8")

    def allowlist(self) -> str:
        """The value for RASID_ALLOW_PRIVATE_HOSTS that lets the fetcher reach the demo."""
        return ",".join(DEMO_HOSTS.values())


class _PortTaken(OSError):
    """The port is held by another process on one of the outlet addresses."""

    def __init__(self, message: str) -> None:
        super().__init__(message)  # a bare message, so it prints without "[Errno 98]"
        self.errno = errno.EADDRINUSE


def _bind_all(port: int) -> list[_HostServer]:
    """One server per outlet address; with port 0 the first address picks the number."""
    servers: list[_HostServer] = []
    try:
        for host in DEMO_HOSTS.values():
            servers.append(_HostServer((host, port), _Handler))
            port = int(servers[0].server_address[1])
    except OSError as exc:
        for server in servers:
            server.server_close()
        if exc.errno == errno.EADDRINUSE:
            raise _PortTaken(f"port {port} on {host} is in use; pass --port") from None
        hint = ""
        if exc.errno == errno.EADDRNOTAVAIL:  # macOS routes only 127.0.0.1 until aliased
            hint = f" (add the address first, e.g. `sudo ifconfig lo0 alias {host}`)"
        error = OSError(f"cannot listen on {host}:{port}: {exc.strerror}{hint}")
        error.errno = exc.errno
        raise error from None
    return servers


def _on_port(source: Source, port: int) -> Source:
    def move(url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{port}"))

    return source.model_copy(update={
        "homepage": move(source.homepage),
        "feeds": [move(u) for u in source.feeds],
        "sitemaps": [move(u) for u in source.sitemaps],
        "sections": [move(u) for u in source.sections],
    })
