"""The statements of docs/validation.md on a CI-sized ensemble, and the long-run bound.

Ensemble: the first 8 of the 128 published validation seeds (spawned from ``validation.BASE_SEED``, never used
in tuning) at the presets' own size (300 initial firms); every arm of a comparison runs the same seeds.
The full tables (128 seeds at 150, 300 and 1,000 firms) come from ``clusterup validate`` (docs/validation.md).

Tolerance: a per-seed statement must pass in at least 7 of the 8 seeds (the published rule, a Wilson 95%
lower bound of 0.7, needs 100 of 128; 7 of 8 is the closest bar on 8 seeds that a statement holding in 90% of
seeds meets with probability 0.81 and one holding in 60% with probability 0.11). A comparison must reach the
published p < 0.01 on these 8 seeds (the smallest one-sided Mann-Whitney p-value of 8 against 8 is 8e-5).
"""

from concurrent.futures import ProcessPoolExecutor

import pytest

from clusterup import simulate, validation

SEEDS = 8


@pytest.fixture(scope="module")
def rows():
    with ProcessPoolExecutor(2) as ex:
        ens = validation.run_ensemble(SEEDS, validation.BASE_SEED, executor=ex)
    return {r["id"]: r for r in validation.evaluate(ens, seed=validation.BASE_SEED)}


@pytest.mark.parametrize("pid", ["1", "2", "3a", "3b", "4", "5a", "5b", "5c", "6"])
def test_per_seed_statements_pass_in_seven_of_eight_seeds(rows, pid):
    r = rows[pid]
    assert r["n"] == SEEDS
    assert r["passes"] >= 7, r


@pytest.mark.parametrize("pid", ["7", "8a", "8b", "8c"])
def test_comparisons_hold(rows, pid):
    r = rows[pid]
    assert r["holds"], r
    assert all(c["p"] < validation.P_MAX and c["effect"] > 0.5 for c in r["comparisons"]), r


def test_bass_row_of_the_validation(rows):
    assert rows["4a"]["holds"], rows["4a"]


def test_the_ip_instrument_is_not_the_baseline():
    """policy-ip-protection is opportunism plus patents: its parameters differ from the baseline's and from
    opportunism's in more than names."""
    from clusterup.params import load_scenario

    def flat(name):
        d = load_scenario(name).model_dump()
        d.pop("name"), d.pop("description")
        return d

    ip, opp, base = flat("policy-ip-protection"), flat("opportunism"), flat("baseline")
    assert ip != base and ip != opp
    assert ip["patents"]["enabled"] and not opp["patents"]["enabled"]
    assert ip["technology"] == opp["technology"]


def _long_run_bound(preset: str, firms: int, lives: bool = True) -> None:
    from clusterup.params import load_scenario

    params = load_scenario(preset)
    ts = simulate(preset, seed=validation.BASE_SEED, steps=2000, firms=firms).timeseries
    alive = ts["n_firms"].to_numpy() > 0
    assert alive[:1000].all() or not lives
    assert float(ts["cap_rel_frontier"].max()) < 5.0
    ceiling = params.technology.ceiling_base * params.technology.ceiling_growth ** ts["gen_max"].to_numpy()
    reach = params.technology.ceiling_growth * params.integrated.pioneer_lead * ts["frontier"].to_numpy()
    assert (ceiling[alive] <= reach[alive]).all()  # no generation beyond what the world's frontier allows
    assert int(ts["gen_max"].max()) >= 10  # ... while new generations keep coming


def test_long_baseline_stays_within_reach_of_the_world():
    """2,000 steps of the baseline at 300 firms (the issue's bound): mean capability stays below 5x the world
    frontier at every step and the top generation's ceiling within ceiling_growth x pioneer_lead x the frontier
    (the full check, every preset at 300 and 20,000 firms, is in docs/validation.md)."""
    _long_run_bound("baseline", 300)


@pytest.mark.slow
@pytest.mark.parametrize("preset", [p for p in validation.PRESETS if p not in ("baseline", "bass")])
def test_long_runs_of_every_preset_stay_within_reach(preset):
    _long_run_bound(preset, 300, lives=False)


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["baseline", "policy-ip-protection"])
def test_long_runs_of_20000_firms_stay_within_reach(preset):
    """At 20,000 firms many firms try to pioneer each step: policy-ip-protection broke the generation bound
    (8.37x the frontier at step 859) before a generation more than one step past the pioneering reach was
    made impossible (docs/validation.md, "Long runs"). 1.5-3.5 min each on 2 cores."""
    _long_run_bound(preset, 20_000, lives=False)
