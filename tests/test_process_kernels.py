"""Processes whose passes are compiled kernels (economic and social ties), against their NumPy forms kept
here as oracles.

A process rewritten as kernels must compute what its NumPy form computed, from the same draws in the same
order: the same ties and strengths bit for bit, and the generator left in the same state. The states are
those of real runs (several presets, sizes and steps), so the kernels meet gaps in the segments, exited
firms and organisations as the model makes them.
"""

import copy

import numpy as np
import pytest

from clusterup import Simulation
from clusterup.compiled import sorted_member
from clusterup.kernels import random_neighbour, sample_from_groups
from clusterup.state import ORG_KINDS, edge_keys


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


def social_numpy(proc, state, rng) -> None:
    """The social-ties step as NumPy computed it before its kernels (the associations' part is unchanged)."""
    p = proc.p
    pop = state.pop
    layer = state.net["social"]
    if p.crowding > 0 and len(layer):
        economic = state.net["economic"]
        trade = economic.strength(state.n)
        along = sorted_member(layer.keys, economic.keys)
        crowd = p.crowding * 0.5 * (trade[layer.i] + trade[layer.j]) * ~along
        layer.set_weights(layer.w * (1.0 - np.minimum(p.decay * (1.0 + crowd), 1.0)))
    else:
        layer.set_weights(layer.w * (1.0 - p.decay))
    assoc = np.flatnonzero(pop.is_org & (pop.view("kind") == ORG_KINDS["association"]))
    if assoc.size and len(layer):
        member = np.zeros(state.n, bool)
        member[assoc] = True
        member_tie = member[layer.i] | member[layer.j]
        w = layer.w.copy()
        w[member_tie] = 1.0
        layer.set_weights(w)
    layer.drop_below(p.floor)
    firms = pop.firms()
    if firms.size < 2:
        return
    u = rng.random(firms.size)
    who = firms[u < p.proximity]
    if who.size:
        cand = firms[rng.integers(0, firms.size, (who.size, proc.candidates))]
        d = np.hypot(pop.x[cand] - pop.x[who, None], pop.y[cand] - pop.y[who, None])
        d[cand == who[:, None]] = np.inf
        best = np.argmin(d, axis=1)
        near = d[np.arange(who.size), best] < p.radius
        layer.add(who[near], cand[np.arange(who.size), best][near], 1.0)
    who = firms[rng.random(firms.size) < p.triadic]
    if who.size:
        adj = layer.neighbours_csr(state.n)
        j = random_neighbour(adj, who, rng.random(who.size))
        k = random_neighbour(adj, np.maximum(j, 0), rng.random(who.size))
        ok = (j >= 0) & (k >= 0) & (k != who) & (pop.kind[np.maximum(k, 0)] == 0)
        layer.add(who[ok], k[ok], 0.5)
    proc._associations(state, assoc, rng)


ORACLES = {"economic": economic_numpy, "social": social_numpy}


def _states():
    """(label, simulation) after some steps: presets whose networks differ, two sizes, early and late."""
    for preset, seed, firms, steps in (("baseline", 1, 300, 3), ("baseline", 2, 300, 80), ("lock-in", 3, 150, 60),
                                       ("policy-institutions", 4, 300, 40), ("opportunism", 5, 1000, 30)):  # fmt: skip
        sim = Simulation(preset, seed=seed, firms=firms, steps=steps + 1)
        for _ in range(steps):
            sim.step()
        yield f"{preset}-{firms}-{steps}", sim


STATES = list(_states())


@pytest.mark.parametrize("name", sorted(ORACLES))
@pytest.mark.parametrize("label,sim", STATES, ids=[label for label, _ in STATES])
def test_process_kernels_equal_the_numpy_form(name, label, sim):
    proc = next(p for p in sim.schedule if p.name == name)
    for seed in (123, 7):
        a, b = copy.deepcopy(sim.state), copy.deepcopy(sim.state)
        ra, rb = np.random.default_rng(seed), np.random.default_rng(seed)
        proc.step(a, None, ra)
        ORACLES[name](proc, b, rb)
        for layer in ("social", "economic", "knowledge"):
            la, lb = a.net[layer], b.net[layer]
            assert la.keys.tobytes() == lb.keys.tobytes() and la.w.tobytes() == lb.w.tobytes(), (label, layer)
        assert ra.bit_generator.state == rb.bit_generator.state  # the same draws, in the same number
        assert len(a.net[name]) > 0


def test_social_kernels_without_crowding_and_with_associations():
    """Crowding off takes the plain decay; an association's members keep their ties at full strength; equally
    near candidates go to the first drawn, as np.argmin picks it."""
    for preset, overrides, same_place in (("baseline", {"social.crowding": 0.0}, False),
                                          ("policy-institutions", {}, False),
                                          ("baseline", {"social.proximity": 0.5}, True)):  # fmt: skip
        sim = Simulation(preset, seed=8, firms=200, steps=30, overrides=overrides)
        for _ in range(20):
            sim.step()
        assert overrides or np.any(sim.state.pop.view("kind") == ORG_KINDS["association"])
        if same_place:  # every candidate at distance 0: the first one drawn (not the firm itself) wins
            sim.state.pop.x[:] = sim.state.pop.y[:] = 0.5
        proc = next(p for p in sim.schedule if p.name == "social")
        for seed in range(5):
            a, b = copy.deepcopy(sim.state), copy.deepcopy(sim.state)
            ra, rb = np.random.default_rng(seed), np.random.default_rng(seed)
            proc.step(a, None, ra)
            social_numpy(proc, b, rb)
            assert a.net["social"].keys.tobytes() == b.net["social"].keys.tobytes()
            assert a.net["social"].w.tobytes() == b.net["social"].w.tobytes()
            assert ra.bit_generator.state == rb.bit_generator.state


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
