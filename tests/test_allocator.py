"""Large runs keep the memory they free (clusterup.allocator): freed blocks stay with the process inside,
the C library's defaults back afterwards, nothing at all for small runs or elsewhere than on the GNU C
library."""

from __future__ import annotations

import resource
from contextlib import contextmanager

import numpy as np
import pytest

from clusterup import Simulation, allocator

GLIBC = allocator._glibc() is not None


def _resident() -> int:
    """This process's resident memory in bytes (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def _given_back_on_free() -> int:
    """Bytes of resident memory that dropping a freshly written 160 MB array gives back to the system."""
    a = np.ones(20_000_000)
    before = _resident()
    del a
    return before - _resident()


def test_small_runs_leave_the_allocator_alone(monkeypatch):
    calls = []
    if GLIBC:
        monkeypatch.setattr(allocator._glibc(), "mallopt", lambda *a: calls.append(a))
    with allocator.reused_memory(allocator.FROM_SLOTS - 1) as applied:
        assert applied is False
    assert calls == []


@pytest.mark.skipif(not GLIBC, reason="the GNU C library's allocator")
def test_large_runs_keep_freed_memory_and_give_it_back_after():
    """By the C library's defaults a block this large is mapped for itself and unmapped when freed (the next
    step faults it in again); inside, a freed block stays with the process for reuse; after the run, the
    defaults are back and what was kept goes back to the system. Resident memory shows each, whatever the
    page sizes (the count of page faults depends on the kernel's huge pages and is not used here)."""
    assert _given_back_on_free() > 120 * 2**20  # the premise of the module
    with allocator.reused_memory(allocator.FROM_SLOTS) as applied:
        assert applied is True
        kept = _given_back_on_free()
        assert kept < 20 * 2**20, kept
        before_end = _resident()
    assert before_end - _resident() > 120 * 2**20  # malloc_trim at the end: the kept block is given back
    assert _given_back_on_free() > 120 * 2**20  # the defaults again


def test_a_run_asks_for_it_with_its_number_of_slots(monkeypatch):
    """Simulation.iterate wraps the whole run (a run's numbers do not depend on it: only where bytes live)."""
    import clusterup.simulation as simulation

    seen = []

    @contextmanager
    def spy(slots):
        seen.append(slots)
        yield False

    monkeypatch.setattr(simulation, "reused_memory", spy)
    sim = Simulation("baseline", seed=1, firms=60, steps=3)
    sim.run()
    assert len(seen) == 1 and seen[0] >= 60  # the slots at the start: firms and organisations
