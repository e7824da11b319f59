"""The recorder's fused kernels against the NumPy definitions of every indicator.

The fused passes sum in a loop where NumPy sums pairwise, so they agree to rounding, not bit for bit: the
tolerance is a relative 1e-12 (sums of a few thousand terms of similar size lose at most a few ulps each;
1e-12 is some 4,500 ulps of float64 and still far below any digit the indicators are read at)."""

from __future__ import annotations

import math

import numpy as np
import pandas.testing as pd_testing
import pytest

from clusterup import Simulation
from clusterup import indicators as ind
from clusterup.compiled import firm_indicators, layer_pass
from clusterup.recorder import compute, compute_numpy

RTOL = 1e-12


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        x, y = a[k], b[k]
        if isinstance(y, float) and math.isnan(y):
            assert math.isnan(x), k
        elif isinstance(y, (int, np.integer)) and not isinstance(y, bool):
            assert x == y, k
        else:
            assert x == pytest.approx(y, rel=RTOL, abs=1e-15), k


@pytest.mark.parametrize(
    ("preset", "firms", "steps", "every"),
    [("baseline", 150, 80, 1), ("policy-institutions", 150, 60, 1), ("lock-in", 200, 60, 5), ("bass", 100, 40, 1)],
)
def test_fused_indicators_equal_the_numpy_definitions_every_step(preset, firms, steps, every):
    sim = Simulation(preset, seed=3, firms=firms, steps=steps)
    prev_fused: dict[str, np.ndarray] = {}
    prev_numpy: dict[str, np.ndarray] = {}
    for _ in range(steps):
        sim.step()
        full = sim.state.step % every == 0
        _same(compute(sim.state, prev_fused, full), compute_numpy(sim.state, prev_numpy, full))
        for layer in prev_numpy:
            np.testing.assert_array_equal(prev_fused[layer], prev_numpy[layer])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 25, 35, 1000])
def test_firm_indicators_at_small_and_degenerate_sizes(n):
    rng = np.random.default_rng(n)
    slots = n + 5  # some slots are not firms
    cap = rng.lognormal(0.0, 1.0, slots)
    gen = rng.integers(0, 4, slots).astype(np.int32)
    rd = rng.random(slots)
    know = rng.dirichlet(np.ones(6), slots)
    firms = np.sort(rng.choice(slots, n, replace=False))
    got = firm_indicators(cap, gen, rd, know, firms)
    a, g, q = cap[firms], gen[firms], know[firms]
    top = int(g.max()) if n else 0
    want = {
        "cap_mean": float(a.mean()) if n else 0.0, "cap_median": float(np.median(a)) if n else 0.0,
        "cap_max": float(a.max()) if n else 0.0, "cap_total": float(a.sum()), "gap_cv": ind.cv(a),
        "gap_gini": ind.gini(a), "gap_top10": ind.top_decile_ratio(a), "gen_max": top,
        "gen_mean": float(g.mean()) if n else 0.0, "gen_top_share": float((g == top).mean()) if n else 0.0,
        "gen_adopted": float((g >= 1).mean()) if n else 0.0, "rd_mean": float(rd[firms].mean()) if n else 0.0,
        "knowledge_diversity": ind.knowledge_heterogeneity(q), "knowledge_breadth": ind.mean_profile_entropy_breadth(q),
    }  # fmt: skip
    _same(got, want)


def test_firm_indicators_of_equal_and_of_zero_capabilities():
    firms = np.arange(4)
    know = np.full((4, 3), 1 / 3)
    gen = np.zeros(4, np.int32)
    equal = firm_indicators(np.full(4, 2.0), gen, np.zeros(4), know, firms)
    assert equal["gap_gini"] == pytest.approx(0.0, abs=1e-15) and equal["gap_cv"] == 0.0 and equal["gap_top10"] == 1.0
    zero = firm_indicators(np.zeros(4), gen, np.zeros(4), know, firms)
    assert zero["gap_gini"] == 0.0 and zero["gap_cv"] == 0.0 and zero["gap_top10"] == 0.0
    assert zero["knowledge_diversity"] == 0.0 and zero["knowledge_breadth"] == pytest.approx(1.0)


def test_layer_pass_sorts_keys_that_arrive_out_of_order():
    ids = np.array([10, 3, 7, 1], dtype=np.int64)  # ids not growing with slots: keys come out of order
    i, j = np.array([0, 0, 1, 2]), np.array([1, 2, 3, 3])
    strength, deg, keys, common, triples = layer_pass(i, j, np.array([0.5, 1.0, 0.25, 2.0]), ids, 4, None)
    np.testing.assert_array_equal(keys, ind.id_keys(ids, i, j))
    np.testing.assert_array_equal(deg, np.bincount(i, minlength=4) + np.bincount(j, minlength=4))
    assert strength == 3.75 and common == 4 and triples == float((deg * (deg - 1)).sum())
    _, _, _, common, _ = layer_pass(i, j, np.ones(4), ids, 4, keys[1:3].copy())
    assert common == 2


def _identical(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])), k


@pytest.mark.parametrize(("preset", "firms", "steps"), [("bass", 120, 30), ("no-integrated", 150, 80), ("lock-in", 150, 80)])
def test_remembered_triangles_and_giant_shares_change_no_number(preset, firms, steps):
    """The recorder reuses a layer's triangles and giant share while its ties and the active nodes stay the
    same, and its whole pass (and the multiplex pass) while its ties and strengths do (a static network): every
    indicator equals the one computed afresh, bit for bit."""
    sim = Simulation(preset, seed=3, firms=firms, steps=steps)
    prev_cached: dict[str, np.ndarray] = {}
    prev_fresh: dict[str, np.ndarray] = {}
    structure: dict = {}
    reused = 0
    for _ in range(steps):
        sim.step()
        before = dict(structure)
        _identical(compute(sim.state, prev_cached, True, structure), compute(sim.state, prev_fresh, True))
        reused += sum(structure[k] is before.get(k) for k in structure if k[0] != "turnover")
    if preset == "bass":  # the network never changes: from the second step on all ten are reused (three layers'
        assert reused == 10 * (steps - 1)  # triangles, giant shares and passes, the multiplex pass)


def test_remembered_giant_share_follows_the_active_nodes():
    sim = Simulation("bass", seed=3, firms=120, steps=10)
    sim.step()
    structure: dict = {}
    compute(sim.state, {}, True, structure)
    pop = sim.state.pop
    pop.deactivate(np.flatnonzero(pop.view("active"))[:5])  # the ties stay, the nodes change
    _identical(compute(sim.state, {}, True, structure), compute(sim.state, {}, True))


@pytest.mark.parametrize(("preset", "firms", "steps", "every"), [("baseline", 150, 60, 1), ("bass", 120, 20, 1),
                                                                ("lock-in", 150, 60, 4)])  # fmt: skip
def test_one_call_per_layer_gives_what_the_separate_calls_give(preset, firms, steps, every, monkeypatch):
    """Below ``PARALLEL_ROWS`` slots the recorder measures each layer in one compiled call
    (``compiled.layer_measures``); from there on it makes the separate calls that can run side by side. The
    two give every indicator bit for bit, with the remembered triangles and giant shares of static layers."""
    import clusterup.recorder as recorder

    sim = Simulation(preset, seed=5, firms=firms, steps=steps)
    prev_one: dict[str, np.ndarray] = {}
    prev_separate: dict[str, np.ndarray] = {}
    structure_one: dict = {}
    structure_separate: dict = {}
    for _ in range(steps):
        sim.step()
        full = sim.state.step % every == 0
        one = compute(sim.state, prev_one, full, structure_one)
        with monkeypatch.context() as m:
            m.setattr(recorder, "APART_FROM", 0)  # the separate calls (one after the other on this thread)
            separate = compute(sim.state, prev_separate, full, structure_separate)
        _identical(one, separate)
        for layer in prev_one:
            np.testing.assert_array_equal(prev_one[layer], prev_separate[layer])


@pytest.mark.parametrize(("preset", "firms", "steps", "every"), [("baseline", 150, 60, 1), ("lock-in", 150, 60, 3)])
def test_triangles_carried_through_changed_ties_change_no_number(preset, firms, steps, every, monkeypatch):
    """From ``PARALLEL_ROWS`` slots on, a layer whose ties change little has its triangles counted from the
    last count through the ties that changed (``compiled.triangles_since``). With every layer let through
    (``CHANGED_SHARE`` 1), every indicator equals the one computed afresh, bit for bit, step after step."""
    import clusterup.compiled as compiled
    import clusterup.recorder as recorder

    carried = []
    since = compiled.triangles_since

    def counting(old, count, new):
        found = since(old, count, new)
        carried.append(found is not None)
        return found

    monkeypatch.setattr(recorder, "APART_FROM", 0)
    monkeypatch.setattr(recorder, "CHANGED_SHARE", 1)
    monkeypatch.setattr(recorder, "triangles_since", counting)
    sim = Simulation(preset, seed=4, firms=firms, steps=steps)
    prev_carried: dict[str, np.ndarray] = {}
    prev_fresh: dict[str, np.ndarray] = {}
    structure: dict = {}
    for _ in range(steps):
        sim.step()
        full = sim.state.step % every == 0
        _identical(compute(sim.state, prev_carried, full, structure), compute(sim.state, prev_fresh, full))
    assert sum(carried) >= steps // every  # most layers' counts were carried (the others counted afresh)


def _run_record(preset: str, firms: int, steps: int, every: int, resume_at: int | None = None):
    """A run's time series, generations and lifecycles (resumed from its ``state_dict`` at ``resume_at``)."""
    sim = Simulation(preset, seed=6, firms=firms, steps=steps, overrides={"run.network_every": every})
    for _ in range(steps if resume_at is None else resume_at):
        sim.step()
    if resume_at is not None:
        sim = Simulation.from_state_dict(sim.state_dict())
        while not sim.finished:
            sim.step()
    result = sim.result()
    return result.timeseries, result.generations, result.lifecycles


@pytest.mark.parametrize(("preset", "firms", "steps", "every", "apart", "resume_at"),
                         [("baseline", 150, 40, 1, False, None), ("bass", 120, 20, 1, False, None),
                          ("lock-in", 150, 40, 3, True, None), ("baseline", 150, 30, 2, False, 17)])  # fmt: skip
def test_measures_taken_behind_the_next_step_give_the_same_record(preset, firms, steps, every, apart, resume_at,
                                                                     monkeypatch):  # fmt: skip
    """From ``BEHIND_FROM`` slots on (with two threads and on the main thread) the recorder takes each step's
    measures on its own thread while the next step runs, and writes them into their row before anything reads
    the record. Forced on at a small size (and with the layers' separate calls, ``apart``, and a run saved and
    resumed mid-way, whose ``state_dict`` must wait for the last row), it gives the record of the run that
    measures each step at once, bit for bit, and it did take the measures behind."""
    import clusterup.compiled as compiled
    import clusterup.recorder as recorder

    if apart:
        monkeypatch.setattr(recorder, "APART_FROM", 0)
    monkeypatch.setattr(recorder, "BEHIND_FROM", None)
    at_once = _run_record(preset, firms, steps, every, resume_at)
    handed = []
    worker = recorder._worker

    def counting():
        handed.append(1)
        return worker()

    ones = []
    one_call = recorder.step_measures

    def counting_one(*args):
        ones.append(1)
        return one_call(*args)

    monkeypatch.setattr(compiled, "_threads", lambda: 2)
    monkeypatch.setattr(recorder, "BEHIND_FROM", 1)
    monkeypatch.setattr(recorder, "_worker", counting)
    monkeypatch.setattr(recorder, "step_measures", counting_one)
    behind = _run_record(preset, firms, steps, every, resume_at)
    assert len(handed) == steps + 1  # every step and the initial state
    if preset != "bass" and not apart:  # a static layer's pass is given again: the separate calls
        assert ones, "the measures were not taken in one call"
    for a, b in zip(at_once, behind, strict=True):
        pd_testing.assert_frame_equal(b, a, check_exact=True)


def test_measures_stay_on_the_step_without_a_second_thread_or_below_the_threshold(monkeypatch):
    """One thread allowed (a process pool's worker, ``NUMBA_NUM_THREADS=1``), or fewer slots than
    ``BEHIND_FROM``: every row is complete when ``record`` returns, and no measure is handed over."""
    import clusterup.compiled as compiled
    import clusterup.recorder as recorder

    for threads, start in ((1, 1), (2, 10**9)):
        monkeypatch.setattr(compiled, "_threads", lambda threads=threads: threads)
        monkeypatch.setattr(recorder, "BEHIND_FROM", start)
        sim = Simulation("baseline", seed=2, firms=100, steps=5)
        sim.step()
        assert sim.recorder._pending is None


def test_an_error_in_the_measures_taken_behind_is_raised_where_the_record_is_read(monkeypatch):
    """A measure that fails on the recorder's thread raises its error in the run's thread, at the next read of
    the record (here the result); nothing is written for the row."""
    import clusterup.compiled as compiled
    import clusterup.recorder as recorder

    monkeypatch.setattr(compiled, "_threads", lambda: 2)
    monkeypatch.setattr(recorder, "BEHIND_FROM", 1)
    sim = Simulation("baseline", seed=2, firms=100, steps=3)
    sim.step()

    def failing(*args):
        raise RuntimeError("measure failed")

    monkeypatch.setattr(recorder, "step_measures", failing)
    sim.step()
    assert sim.recorder._pending is not None
    with pytest.raises(RuntimeError, match="measure failed"):
        sim.result()


def test_the_step_measures_in_one_call_equal_the_separate_calls():
    """``compiled.step_measures`` (what the recorder's thread runs below ``PARALLEL_ROWS`` slots) gives the three
    layers' passes with their triangles and giant shares, the multiplex pass and the firm indicators of the
    separate calls bit for bit, with and without last step's keys, below and above ``RADIX_FROM`` firms (where
    the separate calls sort the capabilities by their bits)."""
    from clusterup.compiled import RADIX_FROM, layer_measures, multiplex_pass, step_measures
    from clusterup.state import LAYERS

    for firms in (300, RADIX_FROM + 500):
        sim = Simulation("baseline", seed=7, firms=firms, steps=3)
        prev: dict[str, np.ndarray] = {}
        for step in range(3):
            sim.step()
            pop = sim.state.pop
            lays = [sim.state.net[L] for L in LAYERS]
            ids, nodes, n = pop.view("id"), pop.nodes(), pop.n
            before = [prev.get(L) for L in LAYERS]
            tri, giant = [True, step != 1, False], [step != 2, True, False]
            layers, multiplex, vals = step_measures([(lay.i, lay.j, lay.w) for lay in lays], ids, n, before, nodes,
                                                    tri, giant, pop.capability, pop.generation, pop.rd,
                                                    pop.knowledge, pop.firms())  # fmt: skip
            separate = [layer_measures(lay.i, lay.j, lay.w, ids, n, p, nodes, t, g)
                        for lay, p, t, g in zip(lays, before, tri, giant, strict=True)]  # fmt: skip
            for one, other in zip(layers, separate, strict=True):
                assert len(one) == len(other) == 7
                for x, y in zip(one, other, strict=True):
                    if isinstance(y, np.ndarray):
                        np.testing.assert_array_equal(x, y)
                    else:
                        assert x == y and type(x) is type(y)
            d = [m[1] for m in separate]
            k = [m[2] for m in separate]
            assert multiplex == multiplex_pass(*d, *k)
            assert vals == firm_indicators(pop.capability, pop.generation, pop.rd, pop.knowledge, pop.firms())
            prev = {L: m[2] for L, m in zip(LAYERS, separate, strict=True)}


@pytest.mark.parametrize("preset", ["baseline", "opportunism", "policy-institutions", "lock-in", "bass"])
def test_no_process_writes_into_a_layers_arrays(preset):
    """What the recorder measures behind the next step (and the caches keyed on a layer's arrays) relies on
    the processes replacing a layer's ``keys`` and ``w`` when ties change, never writing into them: the arrays
    of each step are unchanged after the next step (and the layers did change)."""
    from clusterup.state import LAYERS

    sim = Simulation(preset, seed=8, firms=200, steps=30)
    held = None
    replaced = 0
    for _ in range(30):
        sim.step()
        now = [(lay.keys, lay.w, lay.i, lay.j) for lay in (sim.state.net[L] for L in LAYERS)]
        if held is not None:
            for arrays, copies, current in zip(held[0], held[1], now, strict=True):
                for a, c in zip(arrays, copies, strict=True):
                    np.testing.assert_array_equal(a, c)
                replaced += arrays[0] is not current[0] or arrays[1] is not current[1]
        held = (now, [tuple(a.copy() for a in arrays) for arrays in now])
    assert replaced > 0 or preset == "bass"


def test_a_run_copied_while_measures_are_taken_behind_goes_on_alike(monkeypatch):
    """A simulation copied (``copy.deepcopy``) right after a step whose measures are still being taken on the
    recorder's thread waits for them: the copy's record and its further steps equal the original's."""
    import copy

    import clusterup.compiled as compiled
    import clusterup.recorder as recorder

    monkeypatch.setattr(compiled, "_threads", lambda: 2)
    monkeypatch.setattr(recorder, "BEHIND_FROM", 1)
    sim = Simulation("baseline", seed=3, firms=120, steps=8)
    for _ in range(4):
        sim.step()
    assert sim.recorder._pending is not None
    copies = [copy.deepcopy(sim)]
    for other in (sim, *copies):
        while not other.finished:
            other.step()
    for other in copies:
        pd_testing.assert_frame_equal(other.result().timeseries, sim.result().timeseries, check_exact=True)


def test_the_recorders_thread_runs_calls_in_order_and_hands_back_their_errors():
    """The recorder's thread gives each call's result, or raises its error, through the call's Future."""
    import clusterup.recorder as recorder

    worker = recorder._worker()
    assert worker is recorder._worker()  # one thread a process
    done = [worker.submit(pow, 2, k) for k in range(5)]
    failed = worker.submit(int, "not a number")
    assert [f.result(timeout=10) for f in done] == [1, 2, 4, 8, 16]
    with pytest.raises(ValueError, match="not a number"):
        failed.result(timeout=10)


def test_a_process_does_not_wait_at_its_exit_for_the_recorders_thread():
    """An interrupted command ends without waiting for measures nobody will read: the recorder's thread is a
    daemon, so a process whose thread is still busy (here, asleep for a minute; on a cold kernel cache, compiling
    the measures' kernel) exits at once."""
    import subprocess
    import sys
    import time

    code = "import time\nimport clusterup.recorder as r\nr._worker().submit(time.sleep, 60)\ntime.sleep(0.2)\nprint('left')"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=50)
    assert done.returncode == 0 and done.stdout.strip() == "left", done.stderr
    assert time.perf_counter() - start < 30  # not the minute the thread still had to run
