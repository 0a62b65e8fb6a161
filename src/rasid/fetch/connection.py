"""The connection-level guard and deadline: what holds below requests' API.

Every connection is checked against the SSRF guard on the socket's real peer before a byte of
the request is sent, and a response's headers must arrive before its deadline.
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from rasid.netguard import AddressGuard, BlockedAddress

# When the response this thread waits for must be complete (time.monotonic()). A read timeout
# bounds each wait for a byte, not the whole answer: a server sending one header byte a second
# would hold a worker for hours. So while a connection waits for the status line and headers,
# a timer shuts its socket at this deadline; the body loop checks the deadline itself.
response_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "rasid_response_deadline", default=None
)


class _Watchdog:
    """One thread that shuts sockets whose response deadline has passed.

    A timer thread per request would cost a thread start (and its scheduling) on every fetch;
    here arming is a heap push under a lock, and the thread wakes only at the earliest
    deadline. Disarmed entries are dropped when they reach the top of the heap.
    """

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._armed: dict[int, socket.socket] = {}
        self._keys = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, sock: socket.socket, deadline: float) -> int:
        with self._wake:
            key = next(self._keys)
            self._armed[key] = sock
            heapq.heappush(self._heap, (deadline, key))
            if self._thread is None or not self._thread.is_alive():  # first use, or after fork
                self._thread = threading.Thread(target=self._watch, name="rasid-deadlines",
                                                daemon=True)
                self._thread.start()
            elif self._heap[0][1] == key:  # earlier than what the thread sleeps towards
                self._wake.notify()
            return key

    def disarm(self, key: int) -> None:
        with self._wake:
            self._armed.pop(key, None)

    def _watch(self) -> None:
        with self._wake:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][1] not in self._armed or self._heap[0][0] <= now):
                    _, key = heapq.heappop(self._heap)
                    if (sock := self._armed.pop(key, None)) is not None:
                        _shutdown(sock)
                self._wake.wait(self._heap[0][0] - now if self._heap else None)


_WATCHDOG = _Watchdog()


@contextmanager
def _shutdown_at(sock: socket.socket, deadline: float) -> Iterator[None]:
    key = _WATCHDOG.arm(sock, deadline)
    try:
        yield
    finally:
        _WATCHDOG.disarm(key)


def _shutdown(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for a TLS socket: it ends the blocked read without
    # touching the TLS state the reading thread is using. An OSError: it is already closed.
    with suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _guarded(connection_cls: type[HTTPConnection], guard: AddressGuard) -> type[HTTPConnection]:
    class GuardedConnection(connection_cls):  # type: ignore[valid-type,misc]
        def _new_conn(self) -> socket.socket:
            sock: socket.socket = super()._new_conn()
            peer = sock.getpeername()[0]
            if not guard.allows(self.host, peer):
                sock.close()
                raise BlockedAddress(f"{self.host} connected to {peer}, which is not public")
            return sock

        def getresponse(self) -> Any:
            deadline = response_deadline.get()
            if deadline is None or self.sock is None:
                return super().getresponse()
            with _shutdown_at(self.sock, deadline):
                response = super().getresponse()
            if time.monotonic() >= deadline:  # headers cut short by the shutdown look complete
                raise TimeoutError("no complete headers before the response deadline")
            return response

    return GuardedConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections refuse to stay connected to a blocked address.

    The check runs on the socket's peer before any byte of the request is sent, so a host
    name that passed ``check_url`` and then re-resolves to a private address gets nothing.
    """

    def __init__(self, guard: AddressGuard, **kwargs: Any) -> None:
        self._guard = guard  # set first: HTTPAdapter.__init__ builds the pool manager
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        http_conn = _guarded(HTTPConnection, self._guard)
        https_conn = _guarded(HTTPSConnection, self._guard)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("GuardedTLSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }
