"""Economic (supplier-customer) ties between adjacent value-chain segments.

A firm seeks ``ties_per_mastery * mastery`` ties: the number follows mastery of its generation,
not absolute capability. A firm below target looks at ``candidates`` firms in an adjacent segment
and takes the best by ``mastery * (1 + embeddedness * [social neighbour])``. Strength tracks the
trade between the partners (``min`` of their mastery); a tie whose partner falls behind weakens
below the floor and is dropped; ties of exited firms are removed by the demography process.
"""

from __future__ import annotations

import numpy as np

from ..kernels import sample_from_groups
from ..params.base import Section, integer, number, switch
from ..state import State, StepContext, edge_keys
from .base import Process


class EconomicParams(Section):
    enabled: bool = switch()
    ties_per_mastery: float = number(4.0, 0.0, 1000.0, "Supplier-customer ties a firm seeks at full mastery.")
    formation: float = number(0.3, 0.0, 1.0, "Chance per step a firm below its target seeks a partner.")
    candidates: int = integer(5, 1, 1000, "Partners a firm considers when it seeks one.")
    embeddedness: float = number(2.0, 0.0, 1000.0, "Preference for partners who are social neighbours.")
    adjustment: float = number(0.1, 0.0, 1.0, "Speed at which tie strength tracks the partners' trade (mastery).")
    floor: float = number(0.05, 0.0, 1.0, "Ties weaker than this are dropped.")


class EconomicTies(Process):
    name = "economic"
    section = "economic"
    Params = EconomicParams

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        p = self.p
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
        keys = edge_keys(np.repeat(who, c.shape[1]), c.ravel())  # the candidate pairs, keyed once for both layers
        social = state.net["social"].has_keys(keys).reshape(c.shape)
        tied = layer.has_keys(keys).reshape(c.shape)
        score = np.where(valid & ~tied, m[c] * (1.0 + p.embeddedness * social), 0.0)
        best = np.argmax(score, axis=1)
        rows = np.arange(who.size)
        ok = score[rows, best] > 0
        partner = c[rows, best][ok]
        layer.add(who[ok], partner, np.minimum(m[who[ok]], m[partner]))
