"""Large runs keep the memory they free (clusterup.allocator): fewer page faults inside, the C library's
defaults back afterwards, nothing at all for small runs or elsewhere than on the GNU C library."""

from __future__ import annotations

import resource
from contextlib import contextmanager

import numpy as np
import pytest

from clusterup import Simulation, allocator

GLIBC = allocator._glibc() is not None


def _faults_of_churn() -> float:
    """Minor page faults per round of making and dropping a 80 MB and a 40 MB array (blocks above the C
    library's largest threshold for mmap: fresh pages from the system each time, by its defaults)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(6):
        a = np.ones(10_000_000)
        b = np.ones(5_000_000)
        del a, b
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 6


def test_small_runs_leave_the_allocator_alone(monkeypatch):
    calls = []
    if GLIBC:
        monkeypatch.setattr(allocator._glibc(), "mallopt", lambda *a: calls.append(a))
    with allocator.reused_memory(allocator.FROM_SLOTS - 1) as applied:
        assert applied is False
    assert calls == []


@pytest.mark.skipif(not GLIBC, reason="the GNU C library's allocator")
def test_large_runs_reuse_freed_memory_and_restore_the_defaults():
    """Inside, the arrays of a round find memory already mapped (a fifth of the faults at most; some 1,200 a
    round by default on the benchmarks' machine, some 70 inside); afterwards the defaults are back: as many
    faults as before."""
    default = _faults_of_churn()
    assert default > 300  # the C library's defaults: fresh pages each round, the premise of the module
    with allocator.reused_memory(allocator.FROM_SLOTS) as applied:
        assert applied is True
        _faults_of_churn()  # the heap grows once
        inside = _faults_of_churn()
    after = _faults_of_churn()
    assert inside < default / 5, (default, inside)
    assert after > default / 2, (default, after)


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
