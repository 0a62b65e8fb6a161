"""A loopback site whose answers each test sets, recording every request it gets.

A route answers with a fixed status, headers and body; one with an ETag or Last-Modified
answers 304 to a request that sends the same validator back, as a real server does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Seen:
    path: str  # with the query, if any
    headers: dict[str, str]  # names lower-cased


class RulesSite:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.site = self  # type: ignore[attr-defined]
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def page(self, path: str, html: str, **route: Any) -> None:
        self.routes[path] = Route(body=html.encode("utf-8"), **route)

    def text(self, path: str, text: str, content_type: str = "text/plain", **route: Any) -> None:
        self.routes[path] = Route(body=text.encode("utf-8"), content_type=content_type, **route)

    def paths(self) -> list[str]:
        with self._lock:
            return [seen.path for seen in self.seen]

    def requests_for(self, path: str) -> list[Seen]:
        with self._lock:
            return [seen for seen in self.seen if seen.path == path]

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        site: RulesSite = self.server.site  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        site.record(Seen(path, {k.lower(): v for k, v in self.headers.items()}))
        route = site.routes.get(path) or site.routes.get(parts.path)
        if route is None:
            self._reply(404, b"no such page", {"Content-Type": "text/plain"})
            return
        validators = {"ETag": route.etag, "Last-Modified": route.last_modified}
        headers = {"Content-Type": route.content_type, **route.headers}
        headers.update({k: v for k, v in validators.items() if v})
        if self._unchanged(route):
            self._reply(304, b"", {k: v for k, v in validators.items() if v})
            return
        self._reply(route.status, route.body, headers)

    def _unchanged(self, route: Route) -> bool:
        if route.etag and self.headers.get("If-None-Match") == route.etag:
            return True
        # Exact match is enough here: the client sends back what the server gave it.
        sent = self.headers.get("If-Modified-Since")
        return bool(route.last_modified and sent == route.last_modified)

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def running() -> Iterator[RulesSite]:
    site = RulesSite()
    thread = threading.Thread(target=site.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.server.shutdown()
        site.server.server_close()
