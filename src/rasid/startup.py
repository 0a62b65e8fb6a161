"""Process tuning for a rasid command, in one place: malloc arenas, the cyclic garbage
collector around start-up, and the last collection at exit.

Each measure is here because a measured run needed it (the README's Performance section);
none changes what a run computes.
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

_M_ARENA_MAX = -8  # from glibc's malloc.h


def tune_process() -> None:
    """Call first thing in a command's process, before any thread starts; safe to repeat."""
    _fewer_malloc_arenas()
    atexit.unregister(_skip_collection_at_exit)  # once, however often a command runs
    atexit.register(_skip_collection_at_exit)


def _fewer_malloc_arenas() -> None:
    """Cap glibc's malloc arenas at two, here and in the processes a run starts.

    glibc gives each thread that allocates its own arena, up to eight per core; the fetch
    threads allocate page bodies, and every arena keeps freed memory for reuse. With two, a
    10,000-page run's peak memory is about a tenth lower (benchmarks/memory.py) for no
    measurable loss of speed. A no-op where the C library is not glibc.
    """
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")  # the Prefect server, the workers
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_ARENA_MAX, int(os.environ["MALLOC_ARENA_MAX"]))
    except (OSError, AttributeError, ValueError):
        pass


@contextmanager
def start_up_objects() -> Iterator[None]:
    """Hold the cyclic collector while start-up imports; call ``keep_start_up_objects`` when
    done (the collector is back on at the latest when the block ends)."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def keep_start_up_objects() -> None:
    """Exempt what start-up made from the cyclic garbage collector, and turn it back on.

    Start-up is imports (Prefect, pyarrow, pandas, trafilatura, GX): hundreds of thousands of
    objects that live until the process ends. Left to the collector, they set off full
    collections while they are made and are walked again by every later one — about a second
    of a short run's start. Frozen, they are never walked.
    """
    gc.freeze()
    gc.enable()


def _skip_collection_at_exit() -> None:
    # At exit the interpreter walks every object still alive in one last full collection —
    # over a second after a run of a few hundred pages — only for the process to end. Frozen
    # objects are not walked; finalisers and buffered files are unaffected.
    gc.freeze()
