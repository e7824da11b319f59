"""Random streams: one root seed, one independent ``numpy.random.Generator`` per process.

Streams are keyed by the process *name* (not by its position in the schedule), so inserting,
disabling or replacing another process never shifts this one's random numbers. That is what
makes scenario comparisons use common random numbers.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(name: str) -> int:
    """A stable 32-bit key for a stream name (CRC32, identical on every platform and run)."""
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, name: str) -> np.random.Generator:
    """The generator for stream ``name`` under root ``seed``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(stream_key(name),))))


def replicate_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent replicate seeds spawned from one root seed (for ensembles)."""
    children = np.random.SeedSequence(seed).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def weighted_draws(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """``size`` indices drawn with replacement, each with probability ``weights[k] / weights.sum()``.

    The draws of ``rng.choice(weights.size, size, p=weights / weights.sum())``, the same numbers from the same
    stream (tests/test_rng.py holds it to that): that call's cumulative sum, searched with one uniform per draw,
    without its checks of ``p`` (tens of microseconds a call; the weights here are positive by construction)."""
    cdf = (weights / weights.sum()).cumsum()
    cdf /= cdf[-1]
    return cdf.searchsorted(rng.random(size), side="right").astype(np.int64, copy=False)
