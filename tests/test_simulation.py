"""Whole runs: invariants, determinism, the schedule, extinction."""

import numpy as np
import pandas as pd
import pytest

import clusterup
from clusterup import Simulation, simulate
from clusterup.errors import ConfigError
from clusterup.params import load_scenario
from clusterup.processes import Process
from clusterup.rng import replicate_seeds, stream
from clusterup.state.build import build_state

SMALL = {"steps": 60, "firms": 120}


@pytest.fixture(scope="module")
def runs():
    """One short run per preset (shared by the invariant tests)."""
    return {name: Simulation(name, seed=3, **SMALL) for name in clusterup.preset_names()}


def _run_checking(sim: Simulation) -> pd.DataFrame:
    while not sim.finished:
        sim.step()
        s = sim.state
        pop = s.pop
        firms = pop.firms()
        a = pop.capability[firms]
        assert np.isfinite(a).all() and (a > 0).all()
        assert (a <= s.ceiling(pop.generation[firms]) * (1 + 1e-9)).all()
        active = pop.view("active")
        assert (np.diff(pop.view("id")) > 0).all()  # ids grow with slots (the turnover keys rely on it for speed)
        for layer in s.net:
            adj = layer.adjacency(s.n)
            assert (adj != adj.T).nnz == 0  # symmetric
            assert (layer.i < layer.j).all()  # stored once, no self-ties
            assert active[layer.i].all() and active[layer.j].all()  # no ties to exited firms
            assert np.isfinite(layer.w).all() and (layer.w > 0).all()
        q = pop.knowledge[firms]
        assert np.allclose(q.sum(axis=1), 1.0) and (q >= -1e-12).all()
        assert ((pop.rd[firms] >= 0) & (pop.rd[firms] <= 1)).all()
    return sim.result().timeseries


def test_invariants_hold_every_step_in_every_preset(runs):
    for name, sim in runs.items():
        ts = _run_checking(sim)
        assert list(ts.columns) == list(clusterup.timeseries_columns()), name
        assert len(ts) == SMALL["steps"] + 1
        num = ts.to_numpy(dtype=float)
        assert np.isfinite(num).all(), name
        shares = ts[["share_imitation", "share_local", "share_integrated"]].sum(axis=1)
        attempts = ts[["attempts_imitation", "attempts_local", "attempts_integrated"]].sum(axis=1)
        assert np.allclose(shares[attempts > 0], 1.0) and (shares[attempts == 0] == 0).all()
        layer_shares = ts[["social_share", "economic_share", "knowledge_share"]].sum(axis=1)
        assert np.allclose(layer_shares, 1.0)
        for m in ("imitation", "local", "integrated"):
            assert (ts[f"success_{m}"] <= ts[f"attempts_{m}"]).all()
        assert (ts.gap_gini.between(0, 1)).all() and (ts.gen_top_share.between(0, 1)).all()


def test_same_seed_is_bit_identical_and_seeds_differ():
    a = simulate("baseline", seed=11, **SMALL).timeseries
    b = simulate("baseline", seed=11, **SMALL).timeseries
    c = simulate("baseline", seed=12, **SMALL).timeseries
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert not a.equals(c)


def test_stepping_equals_running():
    sim = Simulation("baseline", seed=5, steps=30, firms=80)
    for _ in range(30):
        sim.step()
    with pytest.raises(RuntimeError):
        sim.step()
    pd.testing.assert_frame_equal(sim.result().timeseries, simulate("baseline", seed=5, steps=30, firms=80).timeseries)


def test_streams_are_keyed_by_name_not_order():
    x = stream(7, "imitation").random(3)
    assert np.array_equal(x, stream(7, "imitation").random(3))
    assert not np.array_equal(x, stream(7, "local").random(3))
    assert not np.array_equal(x, stream(8, "imitation").random(3))
    assert len(set(replicate_seeds(1, 50))) == 50


def test_disabling_a_process_changes_only_what_it_drives():
    base = simulate("baseline", seed=2, **SMALL).timeseries
    off = simulate("baseline", seed=2, overrides={"pipelines.enabled": False}, **SMALL).timeseries
    assert (off.n_pipelines == 0).all() and base.n_pipelines.max() > 0
    noint = simulate("no-integrated", seed=2, **SMALL).timeseries
    assert (noint.attempts_integrated == 0).all() and (noint.gen_max == 0).all()


class Tax(Process):
    """A user process: takes a flat tax from every firm each step."""

    name = "tax"

    def step(self, state, ctx, rng):
        state.pop.wealth[state.pop.firms()] -= 0.01


class NoImitation(Process):
    name = "imitation"

    def step(self, state, ctx, rng):
        pass

    def expected(self, state):  # not an InnovationMode, so mode choice never offers it
        raise AssertionError


def test_schedule_insert_replace_disable():
    sim = Simulation("baseline", seed=1, steps=5, firms=50)
    sched = sim.schedule
    assert sched.names[:3] == ["market", "mode_choice", "imitation"]
    sched.insert(Tax(sim.params), after="market")
    assert sched.names[1] == "tax"
    with pytest.raises(ConfigError):
        sched.insert(Tax(sim.params), before="market")  # names are unique
    sched.disable("spillover")
    assert "spillover" not in [p.name for p in sched.active()]
    with pytest.raises(ConfigError, match="no process"):
        sched.disable("nope")
    sim.run()
    assert (sim.result().timeseries.spillover_volume == 0).all()


def test_replacing_a_process_from_the_api():
    from clusterup.schedule import Schedule

    params = clusterup.load_scenario("baseline", {"run.steps": 20, "run.firms": 60})
    sched = Schedule.default(params)
    sched.replace("imitation", NoImitation(params))
    ts = Simulation(params, schedule=sched).run().timeseries
    assert (ts.attempts_imitation == 0).all()


def test_extinction_ends_cleanly():
    res = simulate("baseline", seed=1, steps=50, firms=30, overrides={"market.fixed_cost": 1e6})
    assert res.metadata["extinct"] and "every firm exited" in res.metadata["message"]
    ts = res.timeseries
    assert ts.n_firms.iloc[-1] == 0 and len(ts) < 51
    assert np.isfinite(ts.to_numpy(dtype=float)).all()


def test_firms_sets_the_scale_of_the_population():
    small = simulate("baseline", seed=4, steps=40, firms=100).timeseries
    large = simulate("baseline", seed=4, steps=40, firms=400).timeseries
    ratio = large.n_firms.iloc[-1] / small.n_firms.iloc[-1]
    assert 2.5 < ratio < 6.5  # demand scales with --firms, so the population stays of that order


def test_same_seed_is_identical_in_another_process():
    """Bit-identical across processes (no dependence on memory layout, hashing or import order)."""
    import hashlib
    import subprocess
    import sys

    code = (
        "import clusterup, hashlib;"
        "ts = clusterup.simulate('baseline', seed=21, steps=60, firms=120).timeseries;"
        "print(hashlib.sha256(ts.to_numpy().tobytes()).hexdigest())"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    ts = simulate("baseline", seed=21, steps=60, firms=120).timeseries
    assert hashlib.sha256(ts.to_numpy().tobytes()).hexdigest() == other


def test_network_every_skips_only_the_costly_indicators_explicitly():
    """run.network_every = 5: clustering and giant every 5th step and at the end, NaN between; the
    model itself (every other column) is unchanged."""
    import numpy as np

    from clusterup import simulate

    full = simulate("baseline", seed=2, steps=12, firms=60).timeseries
    sparse = simulate("baseline", seed=2, steps=12, firms=60, overrides={"run.network_every": 5}).timeseries
    costly = [c for c in full.columns if c.endswith(("_clustering", "_giant"))]
    assert len(costly) == 6
    kept = sparse["step"].isin([0, 5, 10, 12])
    assert sparse.loc[kept, costly].equals(full.loc[kept, costly])
    assert np.isnan(sparse.loc[~kept, costly].to_numpy()).all()
    others = [c for c in full.columns if c not in costly]
    assert sparse[others].equals(full[others])


def test_path2_pioneer_starts_a_generation_ahead_with_its_backing():
    params = load_scenario("path2-early-technology")
    state, _ = build_state(params, np.random.default_rng(3))
    pop = state.pop
    firms = pop.firms()
    pioneer = firms[pop.generation[firms] == 1]
    assert pioneer.size == params.init.early_technology_firms == 1
    others = np.setdiff1d(firms, pioneer)
    assert pop.capability[pioneer[0]] == pytest.approx(
        params.init.early_technology_capability * np.median(pop.capability[firms]), rel=0.05
    )
    assert pop.wealth[pioneer[0]] == pytest.approx(params.init.early_technology_wealth * params.init.wealth)
    assert np.all(pop.wealth[others] == params.init.wealth)


def test_ceiling_table_gives_the_powers_and_follows_a_parameter_change():
    """State.ceiling looks integer generations up in a table of powers: with the default growth of 2 the very
    numbers ``base * growth ** g`` gives (exact powers of two); with another growth within one rounding; a
    change of the parameters (an intervention) rebuilds the table; other inputs take the powers directly."""
    sim = Simulation("baseline", seed=1, firms=30, steps=5)
    state = sim.state
    g = np.array([0, 1, 5, 3, 70, 0], dtype=np.int32)
    t = state.params.technology
    np.testing.assert_array_equal(state.ceiling(g), t.ceiling_base * t.ceiling_growth ** g.astype(float))
    np.testing.assert_array_equal(state.ceiling(np.arange(300)), t.ceiling_base * 2.0 ** np.arange(300.0))
    state.params = state.params.with_overrides({"technology.ceiling_growth": 1.7, "technology.ceiling_base": 3.0})
    np.testing.assert_allclose(state.ceiling(g), 3.0 * 1.7 ** g.astype(float), rtol=4e-16)
    halves = np.array([0.5, 2.0])
    np.testing.assert_array_equal(state.ceiling(halves), 3.0 * 1.7**halves)
    np.testing.assert_array_equal(state.ceiling(np.array([], dtype=np.int64)), np.array([]))
    out = state.ceiling(g)
    out[:] = 0.0  # callers get their own array
    assert state.ceiling(g)[1] == pytest.approx(5.1)
