"""Processes whose passes are compiled kernels, against their NumPy forms kept here as oracles.

A process rewritten as kernels must compute what its NumPy form computed, from the same draws in the same
order: the same ties and strengths bit for bit, and the generator left in the same state. The states are
those of real runs (several presets, sizes and steps), so the kernels meet gaps in the segments, exited
firms and organisations as the model makes them.
"""

import copy

import numpy as np
import pytest

from clusterup import Simulation
from clusterup.kernels import sample_from_groups
from clusterup.state import edge_keys


def economic_numpy(proc, state, rng) -> None:
    """The economic-ties step as NumPy computed it before its kernels (one array expression per pass)."""
    p = proc.p
    pop = state.pop
    layer = state.net["economic"]
    m = np.clip(state.mastery(), 0.0, 1.0)
    if len(layer):
        trade = np.minimum(m[layer.i], m[layer.j])
        layer.set_weights(layer.w + p.adjustment * (trade - layer.w))
        layer.drop_below(p.floor)
    firms = pop.firms()
    if firms.size < 2:
        return
    deg = layer.degree(state.n)
    target = p.ties_per_mastery * m
    seeking = (deg[firms] < target[firms]) & (rng.random(firms.size) < p.formation)
    who = firms[seeking]
    if who.size == 0:
        return
    segments = state.params.init.segments
    seg = pop.segment[who]
    step_dir = np.where(rng.random(who.size) < 0.5, 1, -1)
    want = seg + step_dir
    want = np.where((want < 0) | (want >= segments), seg - step_dir, want)
    want = np.clip(want, 0, segments - 1)
    pick = sample_from_groups(pop.segment[firms], want, rng.random((who.size, p.candidates)))
    cand = np.where(pick >= 0, firms[np.maximum(pick, 0)], -1)
    valid = (cand >= 0) & (cand != who[:, None])
    c = np.maximum(cand, 0)
    keys = edge_keys(np.repeat(who, c.shape[1]), c.ravel())
    social = state.net["social"].has_keys(keys).reshape(c.shape)
    tied = layer.has_keys(keys).reshape(c.shape)
    score = np.where(valid & ~tied, m[c] * (1.0 + p.embeddedness * social), 0.0)
    best = np.argmax(score, axis=1)
    rows = np.arange(who.size)
    ok = score[rows, best] > 0
    partner = c[rows, best][ok]
    layer.add(who[ok], partner, np.minimum(m[who[ok]], m[partner]))


def _states():
    """(label, simulation) after some steps: presets whose networks differ, two sizes, early and late."""
    for preset, seed, firms, steps in (("baseline", 1, 300, 3), ("baseline", 2, 300, 80), ("lock-in", 3, 150, 60),
                                       ("policy-institutions", 4, 300, 40), ("opportunism", 5, 1000, 30)):  # fmt: skip
        sim = Simulation(preset, seed=seed, firms=firms, steps=steps + 1)
        for _ in range(steps):
            sim.step()
        yield f"{preset}-{firms}-{steps}", sim


@pytest.mark.parametrize("label,sim", list(_states()), ids=lambda x: x if isinstance(x, str) else "")
def test_economic_kernels_equal_the_numpy_form(label, sim):
    proc = next(p for p in sim.schedule if p.name == "economic")
    a, b = copy.deepcopy(sim.state), copy.deepcopy(sim.state)
    ra, rb = np.random.default_rng(123), np.random.default_rng(123)
    proc.step(a, None, ra)
    economic_numpy(proc, b, rb)
    la, lb = a.net["economic"], b.net["economic"]
    assert la.keys.tobytes() == lb.keys.tobytes() and la.w.tobytes() == lb.w.tobytes(), label
    assert ra.bit_generator.state == rb.bit_generator.state  # the same draws, in the same number
    assert len(la) > 0


@pytest.mark.parametrize("mastered", [False, True])
def test_economic_kernels_with_a_segment_empty_and_equal_scores(mastered):
    """Seekers whose adjacent segment has no firm find no candidate there (sample_from_groups gives -1); with
    every firm at full mastery, candidates score the same and the first one wins, as np.argmax picks it."""
    sim = Simulation("baseline", seed=6, firms=40, steps=10)
    for _ in range(5):
        sim.step()
    state = sim.state
    state.pop.segment[: state.n][state.pop.segment[: state.n] == 1] = 2  # segment 1 emptied
    if mastered:
        firms = state.pop.firms()
        state.pop.capability[firms] = 2.0 * state.ceiling(state.pop.generation[firms])  # mastery clipped to 1
    proc = next(p for p in sim.schedule if p.name == "economic")
    for seed in range(20):
        a, b = copy.deepcopy(state), copy.deepcopy(state)
        ra, rb = np.random.default_rng(seed), np.random.default_rng(seed)
        proc.step(a, None, ra)
        economic_numpy(proc, b, rb)
        assert a.net["economic"].keys.tobytes() == b.net["economic"].keys.tobytes()
        assert a.net["economic"].w.tobytes() == b.net["economic"].w.tobytes()
        assert ra.bit_generator.state == rb.bit_generator.state
