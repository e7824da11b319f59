"""External check: Bass diffusion from the model's own rules (the ``bass`` preset).

Ensemble: 8 runs of 10,000 firms and 250 steps (ten per unit of Bass time; seeds spawned from 2011).
The sampling error of the ensemble mean adoption share is at most sqrt(0.25 / 80,000) = 0.0018, so the
tolerance 0.02 is more than ten standard errors: a real mismatch of the rule fails, noise does not.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from clusterup import simulate
from clusterup.analysis import bass
from clusterup.params import load_scenario
from clusterup.rng import replicate_seeds

P, Q = 0.03, 0.38


@pytest.fixture(scope="module")
def result():
    runs = [simulate("bass", seed=s).timeseries for s in replicate_seeds(2011, 8)]
    return bass.check(runs, P, Q)


def test_preset_carries_p_and_q_in_the_documented_keys():
    prm = load_scenario("bass")
    k = bass.STEPS_PER_UNIT
    assert k * prm.integrated.success / 2 == pytest.approx(P)  # two open modes, each chosen with chance 1/2
    assert k * prm.imitation.success * prm.imitation.generation_transfer / 2 == pytest.approx(Q)
    assert prm.run.firms == 10_000 and not prm.market.enabled and not prm.demography.enabled


def test_adoption_follows_the_bass_closed_form(result):
    """F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t}) at t = step / 10: within 0.02 at every step,
    adoption peak within one time unit of ln(q/p)/(p+q) = 6.19."""
    assert result["max_abs_vs_closed_form"] < 0.02, result
    assert abs(result["peak_time"] - bass.peak_time(P, Q)) <= 1.0, result
    assert result["mean"][-1] > 0.99  # everyone adopts


def test_adoption_follows_the_per_step_hazard(result):
    """The rule itself: F_{t+1} = F_t + (1 - F_t)(p + q F_t) / K, within 0.02 at every step (its own
    distance to the closed form, 0.0072 at K = 10, is the discretisation left)."""
    assert result["max_abs_vs_discrete"] < 0.02, result
    # the adoption curve is flat at its top (within 3% over about a time unit) and the sampling error of a
    # step's mean adoptions is about 3% there, so the peak step is located to a few steps: 5 = 0.5 units
    assert abs(result["peak_step"] - result["peak_step_discrete"]) <= 5, result
    assert result["reference_gap"] == pytest.approx(0.0072, abs=0.0005)


def test_references():
    f = bass.discrete(200, P, Q)
    t = np.linspace(0, 60, 601)
    c = bass.closed_form(t, P, Q)
    assert f[-1] == pytest.approx(1.0) and c[0] == 0.0 and c[-1] == pytest.approx(1.0, abs=1e-6)
    # the density of the closed form peaks at ln(q/p)/(p+q)
    assert t[np.argmax(np.diff(c))] == pytest.approx(math.log(Q / P) / (P + Q), abs=0.1)
    # one step per time unit leaves a gap of 0.071; ten steps, 0.0072
    assert np.max(np.abs(f[:41] - bass.closed_form(np.arange(41), P, Q))) == pytest.approx(0.0714, abs=0.001)
    g10 = bass.discrete(400, P, Q, steps_per_unit=10)
    assert np.max(np.abs(g10 - bass.closed_form(np.arange(401) / 10, P, Q))) == pytest.approx(0.0072, abs=0.0005)
    # with short steps (dt = 1/50) the discrete model converges to the closed form
    dt = 0.02
    g = np.zeros(3001)
    for k in range(3000):
        g[k + 1] = g[k] + (1 - g[k]) * (P + Q * g[k]) * dt
    assert np.max(np.abs(g[::50] - bass.closed_form(np.arange(61), P, Q))) < 0.005
