"""What a compiled rewrite of a process would gain: the mode choice as one Numba loop over the firms.

    python benchmarks/compiled_mode_choice.py 2000 30000

A measurement for issue 5, not part of the package. The mode choice (the three modes' expected gains and
the logit) is the largest process at 2,000 firms. Here it is written the way a whole-model compiled
rewrite would write it: one pass over the firms, each visiting its neighbours in the three layers (their
union for the imitation model, a weighted pool of their knowledge), with the scalar powers and
exponentials per firm. The script checks that its expected gains equal the package's (printing the
largest relative difference; only the order of floating-point operations differs) and times both on the
same state, step 30 of the baseline, with every cache cleared, as in a run.
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
from numba import njit

from clusterup import Simulation
from clusterup.state import ORG_KINDS


@njit(cache=True)
def _visit_union(ptr, idx, acc, a, ar, r, best, top, strength):  # pragma: no cover - compiled
    """The imitation model over one layer's neighbours of row r, each neighbour once (acc < 0: seen)."""
    for p in range(ptr[r], ptr[r + 1]):
        c = idx[p]
        w = acc[c]
        if w < 0:
            continue
        gap = a[c] - ar
        capped = min(w, 1.0)
        score = capped * gap if gap > 0 else 0.0
        if score > 0 and (score > top or (score == top and c > best)):  # the last of equal scores by column
            top, best, strength = score, c, capped
        acc[c] = -1.0
    return best, top, strength


@njit(cache=True)
def _pool(ptr, idx, w_of, factor, q, r, pool):  # pragma: no cover - compiled
    """Add row r's neighbours' profiles, weighted by factor x strength, to pool; return the weights' sum
    and the strengths' sum."""
    total = raw = 0.0
    for p in range(ptr[r], ptr[r + 1]):
        w = factor * w_of[p]
        total += w
        raw += w_of[p]
        for x in range(q.shape[1]):
            pool[x] += w * q[idx[p], x]
    return total, raw


@njit(cache=True)
def _mode_choice(
    sp, si, sw, ep, ei, ew, kp, ki, kw, a, g, rd, revenue, wealth, kind, pipe, q, ext, firms, u, par, mode, gains
):  # pragma: no cover - compiled
    (ceiling_base, growth, openness, im_rate, im_psi, im_transfer, im_dip, im_success, im_cost, lo_success, lo_rate,
     lo_rd_half, lo_rd_exp, lo_base, lo_half, lo_ks, lo_nw, lo_cost, in_success, in_rd_half, in_rd_exp, in_power,
     in_follower, in_ref, in_nh, in_ch, in_cost, omega, share_exp, horizon, intensity, platform) = par  # fmt: skip
    d = q.shape[1]
    acc = np.zeros(a.size)
    pool = np.zeros(d)
    utility = np.empty(4)
    lo_h = lo_rd_half**lo_rd_exp
    in_h = in_rd_half**in_rd_exp
    total = 0.0
    for f in range(firms.size):
        total += revenue[firms[f]]
    scale = total / firms.size if total > 0 else 1.0
    for f in range(firms.size):
        r = firms[f]
        ar = a[r]
        ceiling = ceiling_base * growth ** g[r]
        # imitation: the neighbour maximising min(1, summed strength) x gap
        for p in range(sp[r], sp[r + 1]):
            acc[si[p]] += sw[p]
        for p in range(ep[r], ep[r + 1]):
            acc[ei[p]] += ew[p]
        for p in range(kp[r], kp[r + 1]):
            acc[ki[p]] += kw[p]
        best, top, strength = _visit_union(sp, si, acc, a, ar, r, -1, 0.0, 0.0)
        best, top, strength = _visit_union(ep, ei, acc, a, ar, r, best, top, strength)
        best, top, strength = _visit_union(kp, ki, acc, a, ar, r, best, top, strength)
        for p in range(sp[r], sp[r + 1]):
            acc[si[p]] = 0.0
        for p in range(ep[r], ep[r + 1]):
            acc[ei[p]] = 0.0
        for p in range(kp[r], kp[r + 1]):
            acc[ki[p]] = 0.0
        gain_im = 0.0
        if best >= 0 and kind[best] == 0:
            absorb = (ar / a[best]) ** im_psi
            phi = im_rate * openness * absorb * strength
            gain_im = phi * (a[best] - ar) / ar
            dg = g[best] - g[r]
            if dg > 0:
                gain_im += im_transfer * openness * absorb * max(growth**dg * im_dip - 1.0, 0.0)
            gain_im *= im_success
        # reachable knowledge: knowledge ties + omega x (social + economic) + pipelines
        pool[:] = 0.0
        weight, know = _pool(kp, ki, kw, 1.0, q, r, pool)
        weight += _pool(sp, si, sw, omega, q, r, pool)[0]
        reach_econ, econ = _pool(ep, ei, ew, omega, q, r, pool)
        weight += reach_econ + pipe[r]
        to_platforms = 0.0
        ahead = False
        for p in range(kp[r], kp[r + 1]):
            if kind[ki[p]] == platform:
                to_platforms += kw[p]
            ahead = ahead or g[ki[p]] > g[r]
        distance = 0.0
        for x in range(d):
            v = (pool[x] + pipe[r] * ext[x]) / weight if weight > 0 else q[r, x]
            distance += abs(q[r, x] - v)
        novelty = 0.5 * distance * weight / (weight + 1.0)
        # local innovation
        ties = econ + lo_ks * know + to_platforms
        support = lo_base + (1 - lo_base) * ties / (ties + lo_half)
        rigidity = (1 - lo_nw) + lo_nw * min(1.0, novelty / in_ref)
        rn = rd[r] ** lo_rd_exp
        chance = lo_success * (rn / (rn + lo_h) if rn + lo_h > 0 else 0.0) * support * rigidity
        gain_lo = chance * lo_rate * ar * max(1.0 - ar / ceiling, 0.0) / (ar if ar > 0 else 1.0)
        # integrated innovation
        m = min(max(ar / ceiling, 0.0), 1.0)
        rn = rd[r] ** in_rd_exp
        chance = in_success * (rn / (rn + in_h) if rn + in_h > 0 else 0.0) * (m**in_follower if ahead else m**in_power)
        chance *= min(1.0, novelty / in_ref)
        if in_ch > 0:
            chance *= ar / (ar + in_ch)
        if in_nh > 0:
            chance *= know / (know + in_nh)
        gain_in = chance * (growth - 1.0)
        # the logit over none / imitation / local / integrated
        value = revenue[r] * share_exp * horizon
        cash = max(wealth[r], 0.0)
        utility[0] = 0.0
        utility[1] = intensity * (value * gain_im - im_cost) / scale if im_cost <= cash else -np.inf
        utility[2] = intensity * (value * gain_lo - lo_cost) / scale if lo_cost <= cash else -np.inf
        utility[3] = intensity * (value * gain_in - in_cost) / scale if in_cost <= cash else -np.inf
        top_u = utility.max()
        cum = 0.0
        for k in range(4):
            cum += np.exp(utility[k] - top_u)
            utility[k] = cum
        chosen = 0
        for k in range(4):
            if u[f] > utility[k] / cum:
                chosen += 1
        mode[r] = chosen
        gains[r, 0], gains[r, 1], gains[r, 2] = gain_im, gain_lo, gain_in


def compiled_mode_choice(sim: Simulation, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    st, p = sim.state, sim.params
    n, pop, t = st.n, st.pop, p.technology
    s, e, k = (st.net[name].csr(n) for name in ("social", "economic", "knowledge"))
    im, lo, it = p.imitation, p.local, p.integrated
    par = (t.ceiling_base, t.ceiling_growth, 1 - t.appropriability, im.rate, im.absorptive_exponent, im.generation_transfer,
           im.switch_dip, im.success, im.cost, lo.success, lo.rate, lo.rd_half, lo.rd_exponent, lo.support_base,
           lo.support_half, lo.knowledge_support, lo.novelty_weight, lo.cost, it.success, it.rd_half, it.rd_exponent,
           it.mastery_power, it.follower_power, it.novelty_ref, it.network_half, it.capability_half, it.cost,
           it.neighbour_reach, p.market.share_exponent, p.choice.horizon, p.choice.intensity, ORG_KINDS["platform"])  # fmt: skip
    mode = np.zeros(n, dtype=np.int64)
    gains = np.zeros((n, 3))
    view = pop.view
    _mode_choice(s.indptr, s.indices, s.data, e.indptr, e.indices, e.data, k.indptr, k.indices, k.data, view("capability"),
                 view("generation"), view("rd"), view("revenue"), view("wealth"), view("kind"), view("pipeline"),
                 view("knowledge"), st.external_knowledge, pop.firms(), u, par, mode, gains)  # fmt: skip
    return mode, gains


def _fresh(state):
    """A copy of the state with every cache cleared, as the mode choice finds it in a run."""
    copied = copy.deepcopy(state)
    copied.net._sums.clear()
    for layer in copied.net:
        layer._adj = None
    return copied


def measure(firms: int, repeats: int) -> dict:
    sim = Simulation("baseline", seed=1, firms=firms, steps=100)
    for _ in range(30):
        sim.step()
    chooser = next(p for p in sim.schedule.active() if p.name == "mode_choice")
    modes = {mode.code: mode for mode in chooser.modes}
    reference = _fresh(sim.state)
    expected = np.column_stack([modes[code].expected(reference, sim.schedule.start_step())[0] for code in (1, 2, 3)])
    u = np.random.default_rng(0).random(sim.state.pop.firms().size)
    _, gains = compiled_mode_choice(sim, u)
    rows = sim.state.pop.firms()
    rel = np.abs(gains[rows] - expected[rows]) / np.maximum(np.abs(expected[rows]), 1e-300)
    package = compiled = 0.0
    for _ in range(repeats):
        state = _fresh(sim.state)
        t0 = time.perf_counter()
        chooser.step(state, sim.schedule.start_step(), np.random.default_rng(1))
        package += time.perf_counter() - t0
        sim.state = _fresh(sim.state)  # the layers' adjacency is built inside the timing, as in a run
        t0 = time.perf_counter()
        compiled_mode_choice(sim, u)
        compiled += time.perf_counter() - t0
    row = {"firms": firms, "firms_now": rows.size, "package_ms": 1e3 * package / repeats,
           "compiled_ms": 1e3 * compiled / repeats, "max_rel_diff": float(rel.max())}  # fmt: skip
    print(f"| {firms:,} | {rows.size:,} | {row['package_ms']:.2f} | {row['compiled_ms']:.2f} | "
          f"{package / compiled:.1f}x | {rel.max():.1e} |")  # fmt: skip
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("firms", type=int, nargs="+")
    ap.add_argument("--repeats", type=int, default=20)
    a = ap.parse_args()
    cols = ("initial firms", "firms at step 30", "package mode choice (ms)", "compiled loop (ms)", "speed-up",
            "largest relative difference of expected gains")  # fmt: skip
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for firms in a.firms:
        measure(firms, a.repeats)


if __name__ == "__main__":
    main()
