"""Economic (supplier-customer) ties between adjacent value-chain segments.

A firm seeks ``ties_per_mastery * mastery`` ties: the number follows mastery of its generation,
not absolute capability. A firm below target looks at ``candidates`` firms in an adjacent segment
and takes the best by ``mastery * (1 + embeddedness * [social neighbour])``. Strength tracks the
trade between the partners (``min`` of their mastery); a tie whose partner falls behind weakens
below the floor and is dropped; ties of exited firms are removed by the demography process.
"""

from __future__ import annotations

import numpy as np

from ..compiled import adjacent_candidates, below_target, best_partners, economic_step, trade_track
from ..compiled import one_call as _one_call
from ..params.base import Section, integer, number, switch
from ..state import State, StepContext
from ..state.multiplex import KEY_BASE, KEY_BITS
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
        # each pass is one compiled kernel computing what NumPy computed, in the same order, from the same
        # draws (tests/test_process_kernels.py keeps the NumPy form as the oracle)
        p = self.p
        pop = state.pop
        layer = state.net["economic"]
        if _one_call(state.n):  # the passes below and their draws in one compiled call (compiled.economic_step)
            new = economic_step(layer.keys, layer.w, state.net["social"].keys, pop.view("capability"),
                                state.ceiling(pop.view("generation")), pop.is_firm, pop.firms(), pop.segment, rng,
                                adjustment=p.adjustment, floor=p.floor, per_mastery=p.ties_per_mastery,
                                formation=p.formation, candidates=p.candidates, segments=state.params.init.segments,
                                embeddedness=p.embeddedness, n=state.n, bits=KEY_BITS)  # fmt: skip
            if new is not None:
                layer.set_ties(*new)
            return
        m = state.mastery(clipped=True)  # np.clip(mastery, 0, 1)
        if len(layer):
            layer.set_weights(trade_track(layer.i, layer.j, layer.w, m, p.adjustment))
            layer.drop_below(p.floor)
        firms = pop.firms()
        if firms.size < 2:
            return
        who = below_target(firms, layer.degree(state.n), m, p.ties_per_mastery, rng.random(firms.size), p.formation)
        if who.size == 0:
            return
        side = rng.random(who.size)
        cand, valid, keys = adjacent_candidates(firms, pop.segment, who, side, rng.random((who.size, p.candidates)),
                                                state.params.init.segments, KEY_BASE)  # fmt: skip
        social = state.net["social"].has_keys(keys).reshape(cand.shape)
        tied = layer.has_keys(keys).reshape(cand.shape)
        layer.add(*best_partners(who, cand, valid, social, tied, m, p.embeddedness))
