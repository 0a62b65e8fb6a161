"""A private Prefect API server for one ``rasid run``, started as the command's first step.

With no PREFECT_API_URL, Prefect starts a temporary local server the first time a flow needs
its API: after the command has imported everything, importing the server's own code into the
command to do so (≈3.5 s of CPU), and then waiting for the server to boot (≈4 s more). This
module starts the same server — Prefect's API app in uvicorn on loopback, UI and background
services off, the same database — before the command imports anything else, so it boots on
the second core while the command gets ready, and the command never imports server code.

The server stops with the command. If the command is killed outright, the server notices
that its parent is gone and stops too; Prefect's own temporary server would be left running.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from rasid import startup

_PARENT = "RASID_LOCAL_API_PARENT"  # the command's pid, for the server to watch
_PR_SET_PDEATHSIG = 1  # from linux/prctl.h
_BIND_ATTEMPTS = 3


class LocalAPIError(RuntimeError):
    pass


def app() -> Any:
    """uvicorn's factory in the server process: Prefect's API as its temporary server runs it."""
    _stop_with_parent()
    with startup.start_up_objects():  # what importing the server makes lives as long as it
        from prefect.server.api.server import create_app

        created = create_app(ephemeral=True, final=True)
        startup.keep_start_up_objects()
    return created


def _stop_with_parent() -> None:
    parent = os.environ.get(_PARENT)
    if not parent:
        return
    # SIGKILL, not SIGTERM: uvicorn already holds SIGTERM when it calls this factory, and on a
    # busy machine it would first finish Prefect's start-up (migrating a new database can take
    # a minute) before it stopped. With its command gone, nobody waits for a clean goodbye, and
    # SQLite's journal keeps the database whole.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if str(os.getppid()) != parent:  # the command died before the line above took effect
        os._exit(0)


def needed() -> bool:
    """True when Prefect would start a temporary server: no API URL, temporary servers allowed."""
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    return not settings.api.url and bool(settings.server.ephemeral.enabled)


class LocalAPI:
    """One uvicorn process serving Prefect's API on a free loopback port."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> None:
        from prefect.settings import get_current_settings

        self.port = _free_port()
        env = {**os.environ,
               **get_current_settings().to_environment_variables(exclude_unset=True),
               "PREFECT_UI_ENABLED": "0", _PARENT: str(os.getpid())}
        env.pop("PREFECT_API_URL", None)  # this server's own, after a restart
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", f"{__name__}:app",
             "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "error", "--lifespan", "on"],
            env=env, stdin=subprocess.DEVNULL)
        self._point_prefect_here(self.url)

    @staticmethod
    def _point_prefect_here(url: str | None) -> None:
        from prefect.context import refresh_global_settings_context

        if url:
            os.environ["PREFECT_API_URL"] = url
        else:
            os.environ.pop("PREFECT_API_URL", None)
        refresh_global_settings_context()  # Prefect's public way to re-read the environment

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until the API answers its health check; restart on a port taken meanwhile."""
        if timeout is None:
            from prefect.settings import get_current_settings

            timeout = get_current_settings().server.ephemeral.startup_timeout_seconds
        deadline = time.monotonic() + timeout
        attempts = 1
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                if attempts >= _BIND_ATTEMPTS:
                    raise LocalAPIError(f"Prefect's local API server exited with status "
                                        f"{self.process.returncode} (see its messages above)")
                attempts += 1
                self.start()
                continue
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise LocalAPIError(f"Prefect's local API server did not answer within {timeout:.0f} s "
                            "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)")

    def stop(self) -> None:
        if self.process is None:
            return
        _send_what_is_queued()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        self._point_prefect_here(None)


def _send_what_is_queued(timeout: float = 10) -> None:
    """Let Prefect's background senders deliver queued log lines and events to this server
    before it stops; otherwise they try at exit, find nothing listening and print errors."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with contextlib.suppress(Exception):  # stopping the server must not fail on this
            worker.drain_all(timeout=timeout)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def local_api() -> Iterator[LocalAPI | None]:
    """Start a private API server if Prefect would start a temporary one, and point this
    process's Prefect settings at it; yields None when an API URL is configured. Call
    ``wait_ready`` on it before the first flow."""
    if not needed():
        yield None
        return
    server = LocalAPI()
    server.start()
    try:
        yield server
    finally:
        server.stop()
