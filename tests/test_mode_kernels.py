"""The innovation modes' success chances and expected gains, compiled (one pass each), against their NumPy
definitions (``success_chance_numpy``, ``expected_numpy``, ``models_numpy`` on the processes).

These kernels move the last bits: their powers are the C library's ``pow`` or repeated squaring, not
NumPy's vectorised ``pow``, which differ by a unit or two in the last place (checked: about 5% of
``x ** 1.7`` on this machine). So they are compared within a relative tolerance of 1e-12: a power by
repeated squaring of a whole exponent up to 64 is within 6 multiplications' rounding (about 1e-15), and
the products around it add a few more roundings; a wrong operation or a missed term is off by far more
(checked: dropping the pioneering term, the follower exponent or the platform support fails). Everything
that is not a power (which model, which mode is closed, zeros) must be exact. The states are those of real
runs (presets whose networks differ, sizes, early and late), captured as the mode choice met them, and
parameter settings that switch each term off or give exponents with no shortcut.
"""

import copy

import numpy as np
import pytest

from clusterup import Simulation
from clusterup.compiled import _power
from clusterup.processes import InnovationMode
from conftest import before_process, copy_ctx

RTOL = 1e-12


CASES = (
    ("baseline", 1, 300, 3, {}),
    ("baseline", 2, 300, 120, {}),
    ("lock-in", 3, 150, 60, {}),
    ("policy-pipelines", 4, 300, 40, {}),
    ("opportunism", 5, 1000, 30, {}),
    ("bass", 6, None, 20, {}),
    (
        "baseline",
        7,
        300,
        90,
        {
            "integrated.follower_power": 16.0,
            "integrated.capability_half": 0.0,
            "integrated.network_half": 0.0,
            "integrated.pioneer_power": 0.0,
        },
    ),  # fmt: skip
    (
        "baseline",
        8,
        300,
        90,
        {
            "integrated.rd_exponent": 1.7,
            "integrated.mastery_power": 7.3,
            "local.rd_exponent": 0.5,
            "imitation.absorptive_exponent": 1.3,
            "integrated.pioneer_power": 2.5,
            "integrated.pioneer_lead": 1.5,
        },
    ),  # fmt: skip
)


def _states():
    for preset, seed, firms, steps, over in CASES:
        kw = {"firms": firms} if firms else {}
        sim = Simulation(preset, seed=seed, steps=steps + 1, overrides=over, **kw)
        for _ in range(steps - 1):
            sim.step()
        _, state, ctx = before_process(sim, "mode_choice")
        yield f"{preset}-{seed}-{steps}" + ("-set" if over else ""), sim, state, ctx


STATES = list(_states())


def _close(found, want):
    found, want = np.asarray(found), np.asarray(want)
    assert found.shape == want.shape
    np.testing.assert_array_equal(found == 0, want == 0)  # zeros (closed, impossible, no model) are exact
    np.testing.assert_allclose(found, want, rtol=RTOL, atol=0)


@pytest.mark.parametrize("label,sim,state,ctx", STATES, ids=[s[0] for s in STATES])
def test_each_modes_expectation_equals_its_numpy_definition(label, sim, state, ctx):
    modes = [p for p in sim.schedule if isinstance(p, InnovationMode) and p.enabled]
    assert modes
    for mode in modes:
        gain, cost = mode.expected(copy.deepcopy(state), copy_ctx(ctx))
        ref_gain, ref_cost = mode.expected_numpy(copy.deepcopy(state), copy_ctx(ctx))
        _close(gain, ref_gain)
        np.testing.assert_array_equal(cost, ref_cost)
        if hasattr(mode, "success_chance"):
            _close(mode.success_chance(copy.deepcopy(state), copy_ctx(ctx)),
                   mode.success_chance_numpy(copy.deepcopy(state), copy_ctx(ctx)))  # fmt: skip
        if mode.name == "imitation":
            model, phi, absorb = mode._models(copy.deepcopy(state), copy_ctx(ctx))
            ref_model, ref_phi, ref_absorb = mode.models_numpy(copy.deepcopy(state))
            np.testing.assert_array_equal(model, ref_model)
            _close(phi, ref_phi)
            _close(absorb, ref_absorb)


def test_the_cases_reach_every_term():
    """The captured states are not trivial: firms imitate toward higher generations, some are pioneers, some
    follow a knowledge partner a generation ahead, and some reach service platforms."""
    pioneers = follow = up = 0
    for _, sim, state, _ctx in STATES:
        pop = state.pop
        g = pop.view("generation")
        firm = pop.is_firm
        integ = next(p for p in sim.schedule if p.name == "integrated")
        if integ.p.pioneer_power > 0:
            reach = integ.p.pioneer_lead * state.frontier
            pioneers += int((firm & (g + 1 > g[firm].max()) & (state.ceiling(g + 1) > reach)).sum())
        from clusterup.compiled import neighbour_above

        follow += int(neighbour_above(state.net["knowledge"].csr(state.n), g).sum())
        imit = next(p for p in sim.schedule if p.name == "imitation")
        model, _, _ = imit.models_numpy(copy.deepcopy(state))
        has = model >= 0
        up += int((g[model[has]] > g[has]).sum())
    assert pioneers > 0 and follow > 0 and up > 0, (pioneers, follow, up)


@pytest.mark.parametrize("e", [0.0, 0.5, 1.0, 2.0, 3.0, 12.0, 16.0, 64.0, 65.0, 1.7, 7.3, -1.0, -2.5])
def test_power_is_pow_within_a_few_units_in_the_last_place(e):
    x = np.random.default_rng(1).random(2000) * 3.0
    x[:3] = (0.0, 1.0, 2.0)
    found = np.array([_power(v, e) for v in x])
    with np.errstate(divide="ignore"):
        want = x**e
    np.testing.assert_array_equal(np.isfinite(found), np.isfinite(want))
    ok = np.isfinite(want)
    np.testing.assert_allclose(found[ok], want[ok], rtol=2e-15 * max(1.0, np.log2(max(e, 1.0)) + 1), atol=0)


def test_integrated_chance_clips_mastery_and_bounds_pioneers():
    """Mastery is clipped to [0, 1] (a capability above its ceiling, or below 0), organisations have none,
    and a pioneer beyond ``beyond`` has no chance: on a hand-made population, against the formula."""
    from clusterup.compiled import integrated_chance

    cap = np.array([3.0, -1.0, 0.5, 0.5, 0.5])
    g = np.array([0, 0, 0, 1, 1], dtype=np.int32)
    ceil = np.array([2.0, 2.0, 2.0, 4.0, 4.0])
    nxt = 2.0 * ceil
    kind = np.array([0, 0, 1, 0, 0], dtype=np.int8)
    active = np.ones(5, bool)
    novelty = np.full(5, 0.5)
    rd = np.full(5, 1.0)
    kw = dict(success=0.5, rd_half=1.0, rd_exponent=1.0, power=2.0, follower=2.0, novelty_ref=0.25,
              capability_half=0.0, network_half=0.0, pioneer_power=2.0, reach=6.0, beyond=7.0)  # fmt: skip
    out = integrated_chance(novelty, rd, cap, g, ceil, nxt, kind, active, None, None, **kw)
    base = 0.5 * 0.5  # success x R(rd) = 1 / (1 + 1); novelty limit 1
    # slot 0: mastery 1.5 clipped to 1; slot 1: -0.5 clipped to 0; slot 2: an organisation; slots 3 and 4:
    # mastery 0.125 at the top generation, next ceiling 8 beyond reach 6 and beyond 7: no chance
    np.testing.assert_allclose(out, [base, 0.0, 0.0, 0.0, 0.0], rtol=RTOL)
    kw["beyond"] = 9.0  # within one generation of the reach: (6 / 8) ** 2
    out = integrated_chance(novelty, rd, cap, g, ceil, nxt, kind, active, None, None, **kw)
    np.testing.assert_allclose(out[3:], base * 0.125**2 * 0.75**2, rtol=RTOL)
