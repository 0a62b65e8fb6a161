"""``rasid serve``: a lake's reports on localhost, for a browser.

A report is a page with relative links (to the run's other pages, the Data Docs); served from
the lake's ``reports/`` folder, every link works whether the lake is a local folder or an S3
bucket, with no link that expires and nothing made public. Loopback only: the operator's own
browser (or an SSH tunnel) is the audience.
"""

from __future__ import annotations

import contextlib
import mimetypes
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from posixpath import normpath
from typing import Any

from rasid.config import ConfigError
from rasid.report.publishing import REPORTS
from rasid.storage import Lake


class _ReportHandler(BaseHTTPRequestHandler):
    def __init__(self, *args: Any, lake: Lake) -> None:  # the request, address and server
        self.lake = lake
        super().__init__(*args)

    def do_GET(self) -> None:
        path = normpath("/" + self.path.split("?", 1)[0]).lstrip("/")
        if not path or path.endswith("/") or "." not in path.rsplit("/", 1)[-1]:
            path = f"{path}/index.html".lstrip("/")
        try:
            body = self.lake.read_bytes(f"{REPORTS}/{path}")
        except (KeyError, FileNotFoundError, ValueError):
            self.send_error(404, "not in this lake's reports")
            return
        self.send_response(200)
        self.send_header("Content-Type", mimetypes.guess_type(path)[0] or "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # a browser's requests are not worth a line each


def report_server(lake: Lake, port: int) -> ThreadingHTTPServer:
    return ThreadingHTTPServer(("127.0.0.1", port), partial(_ReportHandler, lake=lake))


def serve_reports(lake: Lake, port: int) -> int:
    """Serve until interrupted; prints where to point the browser."""
    try:
        server = report_server(lake, port)
    except OSError as exc:
        raise ConfigError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    with server:
        print(f"serving the reports of {lake.uri} at http://127.0.0.1:{server.server_port}/ "
              "(Ctrl-C stops)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0
