"""Large runs keep the memory they free for their next step (GNU C library only).

A step of a million-firm run makes and drops arrays of tens of megabytes in every process (a knowledge table
of 80 MB, tables of utilities, tie keys and adjacency). The GNU C library hands out blocks above 32 MB (and,
by its defaults, many smaller ones) as fresh pages from the operating system and gives them back when they
are freed, so each step the kernel zeroes and maps the same memory again: some 250,000 page faults and
seconds of system time in a 10^6-firm run, 14-19% of a step (docs/performance.md).

:func:`reused_memory` asks the library, for the length of a run, to serve every block from its heap and not
to give freed memory back, so the next step's arrays find it already mapped. Afterwards the library's
default values are set again (its dynamic adjustment of the thresholds stays off, as after any ``mallopt``)
and what the run left free is returned to the system (``malloc_trim``). Elsewhere
(macOS, Windows, other C libraries) it does nothing. No number depends on it: only where the bytes live.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

# mallopt's parameters (malloc.h) and the values the library starts with
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_MAX = -1, -2, -4
DEFAULTS = {M_TRIM_THRESHOLD: 128 * 1024, M_TOP_PAD: 128 * 1024, M_MMAP_MAX: 65_536}
# for a large run: no block from mmap, freed memory kept (up to 2 GiB at the heap's top), the heap grown 64 MiB
# at a time
RUN = {M_MMAP_MAX: 0, M_TRIM_THRESHOLD: 2**31 - 1, M_TOP_PAD: 64 * 2**20}
FROM_SLOTS = 50_000  # runs of this many slots or more (where the memory of one step is worth keeping for the next)


@cache
def _glibc() -> ctypes.CDLL | None:
    """The GNU C library, if this process runs on it (it has ``mallopt`` and ``malloc_trim``)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 - only the GNU C library has it
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.mallopt.restype = ctypes.c_int
        libc.malloc_trim.argtypes = (ctypes.c_size_t,)
        return libc
    except (OSError, AttributeError):
        return None


@contextmanager
def reused_memory(slots: int) -> Iterator[bool]:
    """Inside, a run of ``slots`` node slots (from :data:`FROM_SLOTS` on) keeps the memory it frees for reuse;
    the library's defaults come back afterwards, and the free memory goes back to the system. Yields whether
    it applied."""
    libc = _glibc() if slots >= FROM_SLOTS else None
    if libc is None:
        yield False
        return
    for param, value in RUN.items():
        libc.mallopt(param, value)
    try:
        yield True
    finally:
        for param, value in DEFAULTS.items():
            libc.mallopt(param, value)
        libc.malloc_trim(0)
