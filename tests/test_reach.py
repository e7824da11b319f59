"""The reachable pool is computed again only when what it is computed from changed (processes/reach.py)."""

import numpy as np
import pytest

from clusterup import Simulation
from clusterup.compiled import reach_pool
from clusterup.processes.reach import reachable


def _fresh(state):
    omega = state.params.integrated.neighbour_reach
    adj = state.net.reach_sum(state.n, omega) if omega > 0 else state.net["knowledge"].csr(state.n)
    return reach_pool(adj, state.pop.view("knowledge"), state.pop.view("pipeline"), state.external_knowledge)


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_a_static_network_hands_on_the_last_pool_with_the_same_numbers():
    sim = Simulation("bass", seed=3, firms=400, steps=10)
    for _ in range(4):
        sim.step()
    state = sim.state
    first = reachable(state)
    assert state._reach[2] is first  # kept: the ties stayed the same for a step
    assert reachable(state) is first  # nothing changed: the same arrays, not computed again
    assert _same(first, _fresh(state))
    assert not first[0].flags.writeable and not first[1].flags.writeable
    with pytest.raises(ValueError):
        first[1][0] = 0.5


@pytest.mark.parametrize("change", ["profile", "pipeline", "outside", "tie"])
def test_any_change_to_what_the_pool_reads_computes_it_again(change):
    sim = Simulation("bass", seed=4, firms=300, steps=10)
    for _ in range(3):
        sim.step()
    state = sim.state
    before = reachable(state)
    assert reachable(state) is before
    if change == "profile":  # in place, the same array object: only the bits tell
        q = state.pop.view("knowledge")
        q[7] = q[7][::-1].copy()
    elif change == "pipeline":
        state.pop.view("pipeline")[11] = 1.0
    elif change == "outside":
        state.external_knowledge = state.external_knowledge + np.arange(state.external_knowledge.size) * 0.01
    else:
        state.net["social"].add(np.array([0]), np.array([299]), 1.0)
    after = reachable(state)
    assert after is not before
    assert _same(after, _fresh(state))
    if change != "outside":  # no firm has a pipeline in bass: the outside profile reaches nobody
        assert not _same(after, before)


def test_a_changing_network_keeps_nothing():
    # the baseline's ties change every step: neither the pool nor copies of its inputs are kept past a step
    # (no memory held for it), each step computes its own pool
    sim = Simulation("baseline", seed=1, firms=150, steps=6)
    for _ in range(5):
        sim.step()
        assert sim.state._reach is not None and sim.state._reach[1:] == (None, None)
    assert _same(reachable(sim.state), _fresh(sim.state))


def test_bass_runs_are_the_same_with_and_without_the_reuse(monkeypatch):
    # the whole series, bit for bit, against runs where the pool is forgotten before every use
    import clusterup.processes.reach as reach

    kept = Simulation("bass", seed=2, firms=600, steps=40).run().timeseries
    original = reach.reachable

    def forgetful(state, ctx=None):
        state._reach = None
        return original(state, ctx)

    for module in ("clusterup.processes.integrated", "clusterup.processes.local"):
        monkeypatch.setattr(f"{module}.reachable", forgetful)
    fresh = Simulation("bass", seed=2, firms=600, steps=40).run().timeseries
    assert kept.equals(fresh)


def test_same_bits_compares_bits_not_values():
    """The reuse check compares bits: -0.0 is not 0.0, NaN is NaN, shapes and types must agree; arrays of
    eight-byte items (compared a word at a time) and others (byte by byte) alike."""
    from clusterup.processes.reach import _same_bits

    q = np.random.default_rng(1).random((50, 10))
    assert _same_bits(q, q.copy()) and _same_bits(np.full(3, np.nan), np.full(3, np.nan))
    assert not _same_bits(np.zeros(4), -np.zeros(4))
    moved = q.copy()
    moved[49, 9] = np.nextafter(moved[49, 9], 2.0)  # the last bit of the last entry
    assert not _same_bits(q, moved)
    assert not _same_bits(q, q[:, :9].copy()) and not _same_bits(q, q.astype(np.float32))
    small = np.arange(7, dtype=np.int8)
    assert _same_bits(small, small.copy()) and not _same_bits(small, small[::-1].copy())
    assert _same_bits(q.T, q.T.copy())  # not contiguous: compared as laid out in order
