"""Processes whose passes are compiled kernels (economic, social and knowledge ties), against their NumPy
forms kept here as oracles.

A process rewritten as kernels must compute what its NumPy form computed, from the same draws in the same
order: the same ties and strengths bit for bit, and the generator left in the same state. The states are
those of real runs (several presets, sizes and steps), so the kernels meet gaps in the segments, exited
firms and organisations as the model makes them.
"""

import copy

import numpy as np
import pytest

from clusterup import Simulation, compiled
from clusterup.compiled import sorted_member
from clusterup.kernels import random_neighbour, sample_from_groups
from clusterup.state import ORG_KINDS, Mode, edge_keys
from conftest import before_process, copy_ctx


def economic_numpy(proc, state, ctx, rng) -> None:
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


def social_numpy(proc, state, ctx, rng) -> None:
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


def knowledge_ties_numpy(proc, state, ctx, rng) -> None:
    """The knowledge-ties step as NumPy computed its passes before their kernels (forming the ties is
    unchanged; the organisations' capacity from the process's NumPy form)."""
    p = proc.p
    pop = state.pop
    layer = state.net["knowledge"]
    if len(layer):
        boost = np.zeros(state.n)
        for code, amount in ((Mode.LOCAL, p.local_reinforcement), (Mode.INTEGRATED, p.reinforcement)):
            who = ctx.succeeded.get(code)
            if who is not None:
                boost[who] = np.maximum(boost[who], amount)
        used = np.maximum(boost[layer.i], boost[layer.j])
        layer.set_weights(np.where(used > 0, np.minimum(1.0, layer.w + used), layer.w * (1 - p.decay)))
        layer.drop_below(p.floor)
    firms = pop.firms()
    mode = pop.mode[firms]
    integ = firms[mode == Mode.INTEGRATED]
    local = firms[(mode == Mode.LOCAL) & (rng.random(firms.size) < p.local_rate)]
    both = state.net.neighbours(("social", "economic"), state.n) if integ.size or local.size else None
    proc._form(state, integ, p.partners, rng, both, numpy=True)
    proc._form(state, local, 1, rng, both, numpy=True)
    proc._enforce_capacity_numpy(state)


def rd_learning_numpy(proc, state, ctx, rng) -> None:
    """R&D learning's step as NumPy computed it before its kernel."""
    from clusterup.processes.market import per_scale

    pop = state.pop
    firms = pop.firms()
    if firms.size == 0:
        return
    m = proc.p.memory
    pop.profit_avg[firms] = (1 - m) * pop.profit_avg[firms] + m * pop.profit[firms]
    who = firms[rng.random(firms.size) < proc.p.review]
    if who.size == 0:
        return
    k = proc.p.peers
    adj = state.net.combined(state.n)
    rows = np.repeat(who, k)
    peers = random_neighbour(adj, rows, rng.random(rows.size))
    strangers = firms[rng.integers(0, firms.size, rows.size)]
    peers = np.where((peers >= 0) & (pop.kind[np.maximum(peers, 0)] == 0), peers, strangers).reshape(who.size, k)
    earned = pop.profit_avg[: state.n] / per_scale(pop)
    best = np.argmax(earned[peers], axis=1)
    peer = peers[np.arange(who.size), best]
    better = earned[peer] > earned[who]
    rd = pop.rd[who]
    rd = np.where(better, rd + proc.p.imitation * (pop.rd[peer] - rd), rd)
    rd = rd + proc.p.mutation * rng.standard_normal(who.size)
    pop.rd[who] = np.clip(rd, proc.p.minimum, 1.0)


def own_numpy(proc, state, ctx, rng) -> None:
    """The process's own NumPy form, ``step_numpy``, kept beside it as the definition of its compiled passes."""
    proc.step_numpy(state, ctx, rng)


ORACLES = {"economic": economic_numpy, "social": social_numpy, "knowledge_ties": knowledge_ties_numpy,
           "rd_learning": rd_learning_numpy, "market": own_numpy, "demography": own_numpy,
           "imitation": own_numpy, "obsolescence": own_numpy, "pipelines": own_numpy,
           "local": own_numpy, "integrated": own_numpy, "mode_choice": own_numpy,
           "spillover": own_numpy}  # fmt: skip


def _same(proc, state, ctx, oracle, seed) -> None:
    a, b = (copy.deepcopy(state), copy_ctx(ctx)), (copy.deepcopy(state), copy_ctx(ctx))
    ra, rb = np.random.default_rng(seed), np.random.default_rng(seed)
    proc.step(a[0], a[1], ra)
    oracle(proc, b[0], b[1], rb)
    for layer in ("social", "economic", "knowledge"):
        la, lb = a[0].net[layer], b[0].net[layer]
        assert la.keys.tobytes() == lb.keys.tobytes() and la.w.tobytes() == lb.w.tobytes(), layer
    for name in a[0].pop.fields:  # every firm field (R&D and profit averages among them), bit for bit
        assert a[0].pop.view(name).tobytes() == b[0].pop.view(name).tobytes(), name
    assert ra.bit_generator.state == rb.bit_generator.state  # the same draws, in the same number
    if "successes" in a[1].names:  # the successes counted per mode, and who succeeded
        assert a[1].successes.tobytes() == b[1].successes.tobytes()
        assert a[1].succeeded.keys() == b[1].succeeded.keys()
        for mode, who in a[1].succeeded.items():
            assert who.dtype == b[1].succeeded[mode].dtype and who.tobytes() == b[1].succeeded[mode].tobytes()
    if "spillover_volume" in a[1].names:  # the spillovers' sum (its column)
        assert np.float64(a[1].spillover_volume).tobytes() == np.float64(b[1].spillover_volume).tobytes()
    if "attempts" in a[1].names:  # the attempts chosen per mode (the mode choice)
        assert a[1].attempts.tobytes() == b[1].attempts.tobytes()
    if "exited" in a[1].names:  # who left, why, and how many came (demography)
        for x, y in zip(a[1].exited or (), b[1].exited or (), strict=True):
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes()
        assert (a[1].exits, a[1].entries) == (b[1].exits, b[1].entries)


def _found(name, seed, firms, steps, done, overrides=None):
    """The process ``name`` with copies of the state and step context it finds after ``done`` steps of a baseline
    run (``firms`` firms, ``steps`` planned, ``overrides``)."""
    sim = Simulation("baseline", seed=seed, firms=firms, steps=steps, overrides=overrides or {})
    for _ in range(done):
        sim.step()
    return before_process(sim, name)


def _states():
    """(label, simulation) after some steps: presets whose networks differ, two sizes, early and late."""
    for preset, seed, firms, steps in (("baseline", 1, 300, 3), ("baseline", 2, 300, 80), ("lock-in", 3, 150, 60),
                                       ("policy-institutions", 4, 300, 40), ("opportunism", 5, 1000, 30)):  # fmt: skip
        sim = Simulation(preset, seed=seed, firms=firms, steps=steps + 1)
        for _ in range(steps - 1):
            sim.step()
        yield f"{preset}-{firms}-{steps}", sim


STATES = list(_states())


@pytest.mark.parametrize("name", sorted(ORACLES))
@pytest.mark.parametrize("label,sim", STATES, ids=[label for label, _ in STATES])
def test_process_kernels_equal_the_numpy_form(name, label, sim):
    if not sim.schedule.runs(next(p for p in sim.schedule if p.name == name)):
        pytest.skip(f"{label} runs no {name}")  # pipelines: off in lock-in (the other states run it)
    proc, state, ctx = before_process(copy.deepcopy(sim), name)
    for seed in (123, 7):
        _same(proc, state, ctx, ORACLES[name], seed)
    layer = {"knowledge_ties": "knowledge", "economic": "economic", "social": "social"}.get(name, "social")
    assert len(state.net[layer]) > 0


@pytest.mark.parametrize("one_call", [False, True])
def test_spillover_in_one_call_and_call_by_call(monkeypatch, one_call):
    """Below PARALLEL_ROWS nodes the spillovers are one compiled call (compiled.spillover); on larger networks the
    layers' passes run apart: both give the NumPy form's gains and sum, with protected sources, a layer whose rate
    is 0, firms at their ceiling, and a closed technology (nothing flows)."""
    import clusterup.processes.spillover as spillover

    monkeypatch.setattr(spillover, "_one_call", lambda n: one_call)
    proc, state, ctx = _found("spillover", 13, 300, 40, 25)
    pop = state.pop
    firms = pop.firms()
    pop.protection[firms[::3]] = 0.7
    pop.capability[firms[1::7]] = state.ceiling(pop.generation[firms[1::7]])
    kept = proc.p
    for update in ({}, {"economic": 0.0}, {"social": 0.0, "knowledge": 0.0, "cross_generation": 1.0}):
        proc.p = kept.model_copy(update=update)
        for seed in range(2):
            _same(proc, state, ctx, own_numpy, seed)
    proc.p = kept
    state.params = state.params.model_copy(
        update={"technology": state.params.technology.model_copy(update={"appropriability": 1.0})})
    _same(proc, state, ctx, own_numpy, 3)


@pytest.mark.parametrize("capacity", [0, 1, 3])
def test_capacity_kernel_drops_the_weakest_the_earlier_among_equals(capacity):
    """Organisations over their capacity drop their weakest knowledge ties, the earlier tie first among equal
    strengths (many equal here), ties between two of them counted for both: the compiled pass drops what the
    NumPy form's stable sorts drop."""
    sim = Simulation("policy-institutions", seed=6, firms=300, steps=30)
    for _ in range(20):
        sim.step()
    proc = next(p for p in sim.schedule._processes if p.name == "knowledge_ties")
    a, b = copy.deepcopy(sim.state), copy.deepcopy(sim.state)
    for state in (a, b):
        pop, layer = state.pop, state.net["knowledge"]
        orgs = pop.orgs()
        pop.capacity[orgs] = capacity
        layer.add(orgs[:2], orgs[1:3], 0.5)  # ties between organisations
        layer.set_weights(np.round(np.random.default_rng(2).random(len(layer)) * 4) / 4)  # many equal strengths
    proc._enforce_capacity(a)
    proc._enforce_capacity_numpy(b)
    assert a.net["knowledge"].keys.tobytes() == b.net["knowledge"].keys.tobytes()
    assert a.net["knowledge"].w.tobytes() == b.net["knowledge"].w.tobytes()
    assert (a.net["knowledge"].degree(a.n)[a.pop.orgs()] <= capacity).all()


@pytest.mark.parametrize("preset", ["baseline", "policy-institutions"])
def test_knowledge_ties_call_by_call_where_the_choice_is_parallel(monkeypatch, preset):
    """Where the partners' choice takes its parallel form (many seekers), the knowledge ties are formed call by
    call instead of in one compiled call (compiled.knowledge_form, and compiled.knowledge_step for the whole step
    below PARALLEL_ROWS nodes): the same ties, strengths and draws (each path held to the NumPy form), with and
    without knowledge organisations."""
    import clusterup.processes.knowledge_ties as knowledge_ties

    sim = Simulation(preset, seed=9, firms=300, steps=40)
    for _ in range(25):
        sim.step()
    proc, state, ctx = before_process(sim, "knowledge_ties")
    assert preset == "baseline" or state.pop.orgs().size
    for parallel in (False, True):
        monkeypatch.setattr(knowledge_ties, "parallel_choice", lambda *args, _p=parallel: _p)
        for one_call in (False, True):  # below PARALLEL_ROWS nodes: one compiled call (compiled.knowledge_step)
            monkeypatch.setattr(knowledge_ties, "_one_call", lambda n, _o=one_call: _o)
            for seed in range(3):
                _same(proc, state, ctx, knowledge_ties_numpy, seed)
    # in one call, a choice that would be parallel (from PARALLEL_ITEMS scores on) stops the call after the seekers
    monkeypatch.setattr(compiled, "PARALLEL_ITEMS", 1)
    monkeypatch.setattr(compiled, "_threads", lambda: 2)
    stopped = []
    real = knowledge_ties.KnowledgeTies._seek
    monkeypatch.setattr(knowledge_ties.KnowledgeTies, "_seek", lambda *a: stopped.append(1) or real(*a))
    for seed in range(3):
        _same(proc, state, ctx, knowledge_ties_numpy, seed)
    assert stopped


@pytest.mark.parametrize("mastered", [False, True])
def test_economic_kernels_with_a_segment_empty_and_equal_scores(mastered):
    """Seekers whose adjacent segment has no firm find no candidate there (sample_from_groups gives -1); with
    every firm at full mastery, candidates score the same and the first one wins, as np.argmax picks it."""
    proc, state, ctx = _found("economic", 6, 40, 10, 4)
    state.pop.segment[: state.n][state.pop.segment[: state.n] == 1] = 2  # segment 1 emptied
    if mastered:
        firms = state.pop.firms()
        state.pop.capability[firms] = 2.0 * state.ceiling(state.pop.generation[firms])  # mastery clipped to 1
    for seed in range(20):
        _same(proc, state, ctx, economic_numpy, seed)


@pytest.mark.parametrize("one_call", [False, True])
def test_economic_ties_in_one_call_and_call_by_call(monkeypatch, one_call):
    """Below PARALLEL_ROWS nodes the economic step is one compiled call (compiled.economic_step); on larger
    networks its passes run one by one: both give the NumPy form's ties, strengths and draws, also where every
    tie falls below the floor and where no firm seeks a partner."""
    import clusterup.processes.economic as economic

    monkeypatch.setattr(economic, "_one_call", lambda n: one_call)
    proc, state, ctx = _found("economic", 8, 300, 40, 20)
    for seed in range(4):
        _same(proc, state, ctx, economic_numpy, seed)
    kept = proc.p
    proc.p = kept.model_copy(update={"floor": 1.0})  # every tie dropped
    _same(proc, state, ctx, economic_numpy, 5)
    proc.p = kept.model_copy(update={"formation": 0.0})  # nobody seeks
    _same(proc, state, ctx, economic_numpy, 6)
    proc.p = kept


@pytest.mark.parametrize("one_call", [False, True])
def test_social_kernels_without_crowding_and_with_associations(monkeypatch, one_call):
    """Crowding off takes the plain decay; an association's members keep their ties at full strength, below
    and at its capacity, with pairs of members linked; equally near candidates go to the first drawn, as
    np.argmin picks it. Both as one compiled call (compiled.social_step, below PARALLEL_ROWS nodes) and call
    by call."""
    import clusterup.processes.social as social

    monkeypatch.setattr(social, "_one_call", lambda n: one_call)
    for preset, overrides, same_place in (("baseline", {"social.crowding": 0.0}, False),
                                          ("policy-institutions", {}, False),
                                          ("baseline", {"social.proximity": 0.5}, True)):  # fmt: skip
        sim = Simulation(preset, seed=8, firms=200, steps=30, overrides=overrides)
        for _ in range(19):
            sim.step()
        proc, state, ctx = before_process(sim, "social")
        assert overrides or np.any(state.pop.view("kind") == ORG_KINDS["association"])
        if same_place:  # every candidate at distance 0: the first one drawn (not the firm itself) wins
            state.pop.x[:] = state.pop.y[:] = 0.5
        for seed in range(5):
            _same(proc, state, ctx, social_numpy, seed)
        assoc = np.flatnonzero(state.pop.is_org & (state.pop.view("kind") == ORG_KINDS["association"]))
        if assoc.size:  # full (no recruits) and linking many pairs
            state.pop.capacity[assoc] = 1
            proc.p = proc.p.model_copy(update={"association": 1.0})
            for seed in range(3):
                _same(proc, state, ctx, social_numpy, seed)


@pytest.mark.parametrize("overrides", [{}, {"market.scale_shock": 0.0, "market.entrant_scale": 1.0},
                                       {"market.scale_shock": 0.0}, {"market.rent_shield": 0.0}])  # fmt: skip
@pytest.mark.parametrize("lag", [0.5, 1.0, 3.0])
def test_market_kernel_with_and_without_scales_and_shield(overrides, lag):
    """Scales that play no part (every firm 1), scales without growth, no rent shield; a cluster behind the
    frontier (the shield acts), at parity and ahead of it (demand saturates); entrants (scale 0) among the
    firms, all firms new, and firms with no weight at all (revenue shared equally)."""
    proc, state, ctx = _found("market", 10, 200, 30, 19, overrides)
    pop = state.pop
    firms = pop.firms()
    state.frontier = float(pop.capability[firms].mean() / lag)
    pop.scale[firms[::7]] = 0.0  # entrants
    pop.rent[firms[::3]] = 20.0 * np.arange(firms[::3].size) / firms.size  # shields from 0 to above 2
    for seed in (1, 2):
        _same(proc, state, ctx, own_numpy, seed)
    pop.scale[firms] = 0.0  # every firm new: all at scale 1
    _same(proc, state, ctx, own_numpy, 3)
    pop.capability[firms] = 0.0  # no weight anywhere: the demand is shared equally
    _same(proc, state, ctx, own_numpy, 4)


def test_demography_kernels_with_both_causes_clipped_places_and_no_entrants():
    """Exits for losses and for lagging in one step, entrants placed at the square's edges (clipped), spin-offs
    and newcomers, with none to five inherited ties (compiled.entries); and a step without entrants."""
    sim = Simulation("baseline", seed=11, firms=200, steps=30, overrides={"demography.entry_rate": 2.0})
    for _ in range(19):
        sim.step()
    proc, state, ctx = before_process(sim, "demography")
    pop = state.pop
    firms = pop.firms()
    pop.wealth[firms[::11]] = -1.0  # losses
    pop.capability[firms[5::13]] = 1e-6  # lagging (some also losing: the cause is losses)
    pop.x[firms[::2]], pop.y[firms[1::2]] = 0.0, 1.0  # entrants beside them cross the edges
    for seed in range(6):
        _same(proc, state, ctx, own_numpy, seed)
    kept = proc.p
    for ties in (0, 1, 2, 6):  # no inherited tie, the tie to the model only, one and five of its neighbours'
        proc.p = kept.model_copy(update={"entrant_ties": ties})
        _same(proc, state, ctx, own_numpy, 7 + ties)
    proc.p = kept
    found = copy.deepcopy(state), copy_ctx(ctx)
    proc.step(found[0], found[1], np.random.default_rng(0))
    assert set(found[1].exited[1].tolist()) == {0, 1} and found[1].entries > 0
    pop.profit[: state.n] = -1.0  # no margin: entry only at the newcomer rate, here none
    proc.p = proc.p.model_copy(update={"newcomer_rate": 0.0})
    _same(proc, state, ctx, own_numpy, 1)


@pytest.mark.parametrize("preset", ["baseline", "bass", "policy-ip-protection"])
def test_imitation_kernels_with_models_ahead_imitated_imitators_and_licences(preset):
    """Imitators whose models are generations ahead (transfers), imitators that are also models (every model is
    read before any imitator is written), capabilities at the ceiling and licence fees; the well-mixed
    population of the bass preset."""
    sim = Simulation(preset, seed=12, firms=300, steps=40)
    for _ in range(24):
        sim.step()
    proc, state, ctx = before_process(sim, "imitation")
    pop = state.pop
    firms = pop.firms()
    pop.generation[firms[::5]] += 2  # models ahead
    pop.capability[firms[1::9]] = 0.999 * state.ceiling(pop.generation[firms[1::9]])  # at the cap
    pop.licence_fee[firms[::4]] = 0.01
    pop.mode[firms] = int(Mode.IMITATION)  # everyone imitates: imitators are models too
    for seed in range(4):
        _same(proc, state, ctx, own_numpy, seed)


def test_knowledge_kernels_where_both_modes_succeed():
    """A firm whose local and integrated attempts both count gives its ties the larger boost."""
    proc, state, ctx = _found("knowledge_ties", 9, 300, 60, 49)
    firms = state.pop.firms()
    ctx.succeeded[Mode.LOCAL] = firms[::3]
    ctx.succeeded[Mode.INTEGRATED] = firms[::5]  # every fifteenth firm in both
    for seed in range(5):
        _same(proc, state, ctx, knowledge_ties_numpy, seed)


@pytest.mark.parametrize("peers,review", [(3, 0.5), (2, 0.0)])
def test_rd_learning_kernel_with_several_peers_and_partial_review(peers, review):
    """Several peers per reviewing firm (the most profitable wins, the first of equals), some firms not
    reviewing, or none at all (only the profit averages move)."""
    sim = Simulation("baseline", seed=9, firms=200, steps=40,
                     overrides={"rd_learning.peers": peers, "rd_learning.review": review})  # fmt: skip
    for _ in range(30):
        sim.step()
    proc, state, ctx = before_process(sim, "rd_learning")
    for seed in (1, 2):
        _same(proc, state, ctx, rd_learning_numpy, seed)


def test_rd_learning_kernel_breaks_ties_as_argmax():
    """Peers that earn the same: the first one drawn is copied (np.argmax), and a firm that earns as much as
    its best peer does not move toward it (only a strictly better peer is copied)."""
    sim = Simulation("baseline", seed=10, firms=200, steps=40, overrides={"rd_learning.peers": 3})
    for _ in range(20):
        sim.step()
    proc, state, ctx = before_process(sim, "rd_learning")
    pop = state.pop
    level = np.where(np.arange(pop.n) % 3 == 0, 0.5, 1.0)  # two levels of earnings: many equal peers and equals
    pop.profit_avg[: pop.n] = pop.profit[: pop.n] = level * np.where(pop.scale[: pop.n] > 0, pop.scale[: pop.n], 1.0)
    for seed in (1, 2, 3):
        _same(proc, state, ctx, rd_learning_numpy, seed)


@pytest.mark.parametrize("overrides", [{"obsolescence.rd_maintenance": 0.0}, {"obsolescence.rd_exponent": 1.6},
                                       {"obsolescence.rd_exponent": 3.0},
                                       {"obsolescence.rd_exponent": 0.5, "obsolescence.rate": 0.9},
                                       {"obsolescence.rd_exponent": 1.0, "obsolescence.generation_lag": 0.0}])  # fmt: skip
def test_obsolescence_kernel_without_maintenance_with_odd_exponents_and_at_the_cap(overrides):
    """No R&D maintenance, exponents NumPy's power treats apart (0.5, 1) or not (1.6), rates above the 0.99 cap
    (rate 0.9 with the generation lag), no generation lag; firms at zero R&D and all in one generation."""
    proc, state, ctx = _found("obsolescence", 11, 200, 30, 14, overrides)
    _same(proc, state, ctx, own_numpy, 1)
    firms = state.pop.firms()
    state.pop.rd[firms[::5]] = 0.0
    _same(proc, state, ctx, own_numpy, 2)
    state.pop.generation[firms] = 3
    _same(proc, state, ctx, own_numpy, 3)


@pytest.mark.parametrize("overrides", [{"pipelines.capability_power": 3.0, "pipelines.subsidy": 200.0},
                                       {"pipelines.capability_power": 0.5, "pipelines.rate": 1.0},
                                       {"pipelines.capability_power": 1.7, "pipelines.floor": 0.9},
                                       {"pipelines.capability_power": 0.0, "pipelines.decay": 1.0}])  # fmt: skip
def test_pipelines_kernel_with_odd_exponents_certain_chances_and_high_floors(overrides):
    """Exponents NumPy's power treats apart (0, 0.5) or not (3, 1.7); chances above 1 (a large subsidy, rate 1);
    a floor that closes most pipelines, a decay that closes every one; firms beyond their ceiling (mastery
    clipped to 1) and at zero capability."""
    proc, state, ctx = _found("pipelines", 12, 200, 30, 14, overrides)
    _same(proc, state, ctx, own_numpy, 1)
    firms = state.pop.firms()
    state.pop.capability[firms[::4]] *= 3.0
    state.pop.capability[firms[1::4]] = 0.0
    _same(proc, state, ctx, own_numpy, 2)


@pytest.mark.parametrize("overrides", [{}, {"local.specialisation": 0.0}, {"local.specialisation": 1.0, "local.rate": 0.9}])
def test_local_kernels_with_firms_beyond_their_ceiling_and_every_attempt_a_success(overrides):
    """No or complete specialisation, a fast rate; firms beyond their ceiling (no gain, not a loss), at zero
    capability, and every attempt a success (chance 1) or none (chance 0)."""
    proc, state, ctx = _found("local", 13, 300, 40, 24, overrides)
    _same(proc, state, ctx, own_numpy, 1)
    pop = state.pop
    firms = pop.firms()
    pop.capability[firms[::3]] *= 5.0
    pop.capability[firms[1::5]] = 0.0
    for chance, seed in ((1.0, 2), (0.0, 3)):
        ctx.local_chance = np.full(state.n, chance)
        _same(proc, state, ctx, own_numpy, seed)


def test_integrated_kernels_where_every_attempt_succeeds():
    """Every attempt a success (the chance set to 1 for both forms): each attempting firm moves up a generation,
    with its dip and its knowledge drawn toward its pool, in both forms alike."""
    proc, state, ctx = _found("integrated", 14, 300, 60, 39)
    assert proc.attempting(state).size > 0
    proc.success_chance = lambda state, ctx: np.ones(state.n)
    try:
        _same(proc, state, ctx, own_numpy, 1)
    finally:
        del proc.success_chance


@pytest.mark.parametrize("exponent", [1.6, 3.0, 2.4, 2.0, 0.5, 1.0, 0.0])
def test_erode_and_pipelines_give_numpys_powers_for_any_exponent(exponent):
    """NumPy's vectorised pow and the C library's (a kernel's) differ in the last bit for about one value in
    twenty: over 10^5 values a kernel computing ``x ** 1.6`` itself differs from the NumPy form dozens of times
    after rounding (a small state's test rarely shows it). The passes hand such powers over from NumPy and
    compute only NumPy's shortcut exponents themselves: the same numbers as the NumPy forms, for every
    exponent."""
    from clusterup.compiled import erode, pipelines
    from clusterup.kernels import rd_effect

    rng = np.random.default_rng(8)
    n = 100_000
    firms = np.arange(n)
    gen = rng.integers(0, 3, n).astype(np.int32)
    rd, start = rng.random(n), 1.0 + rng.random(n)
    cap = start.copy()
    erode(firms, gen, rd, cap, rate=0.015, generation_lag=1.5, rd_maintenance=1.0, rd_half=0.3, rd_exponent=exponent)
    counts = np.bincount(gen)
    above = (counts.sum() - np.cumsum(counts)) / n
    rate = np.full(n, 0.015) * (1.0 - 1.0 * rd_effect(rd, 0.3, exponent)) + 0.015 * 1.5 * above[gen]
    assert cap.tobytes() == (start * (1.0 - np.minimum(rate, 0.99))).tobytes()
    mastery, pipe, u = 1.2 * rng.random(n), rng.random(n), rng.random(n)
    want = pipe * (1.0 - 0.02)
    want[u < np.minimum(1.0, 0.4 * np.clip(mastery, 0.0, 1.0) ** exponent * (1.0 + 0.5))] = 1.0
    want[want < 0.05] = 0.0
    pipelines(firms, pipe, mastery, u, decay=0.02, rate=0.4, capability_power=exponent, subsidy=0.5, floor=0.05)
    assert pipe.tobytes() == want.tobytes()


@pytest.mark.parametrize("label,sim", STATES, ids=[label for label, _ in STATES])
def test_a_nodes_neighbours_are_numpys_concatenation(label, sim):
    """``Layer.neighbours`` (compiled.tied_to) lists what ``np.concatenate([i[j == node], j[i == node]])``
    lists, in its order (as int64 slots: the ends are the keys' int32 halves), for organisations, firms with many
    ties and nodes without any."""
    state = sim.state
    for layer in state.net:
        deg = layer.degree(state.n)
        nodes = {*state.pop.orgs()[:5].tolist(), *np.argsort(-deg, kind="stable")[:5].tolist(),
                 *np.flatnonzero(deg == 0)[:3].tolist()}  # fmt: skip
        for node in nodes:
            want = np.concatenate([layer.i[layer.j == node], layer.j[layer.i == node]])
            got = layer.neighbours(node)
            assert got.dtype == np.int64 and got.tobytes() == want.astype(np.int64).tobytes(), (layer.name, node)
