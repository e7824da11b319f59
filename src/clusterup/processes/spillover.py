"""Spillovers: involuntary knowledge leakage along ties, from stronger to weaker firms only.

Inflow to i = ``(1 - appropriability) * rate * sum_L rate_L * sum_j w_ij * (a_j - a_i)^+ * c_ij`` with
``c_ij = 1`` within a generation and ``cross_generation`` across generations; it never takes a firm
past its best source nor above its own generation's ceiling. Organisations neither send nor receive
capability. The volume is recorded; spillovers are a free gain that erodes leaders' rents.
"""

from __future__ import annotations

import numpy as np

from ..compiled import spill
from ..state import LAYERS, State
from .base import Process


class Spillover(Process):
    name = "spillover"
    section = "spillover"

    def step(self, state: State, rng: np.random.Generator) -> None:
        n = state.n
        pop = state.pop
        a = pop.view("capability")
        g = pop.view("generation")
        openness = 1.0 - state.params.technology.appropriability
        if openness <= 0:
            return
        inflow = np.zeros(n)
        best_gap = np.zeros(n)
        for layer in LAYERS:
            rate = self.p.rate * getattr(self.p, layer)
            adj = state.net[layer].csr(n)
            if rate <= 0 or adj.nnz == 0:
                continue
            spill(adj, a, g, rate, self.p.cross_generation, inflow, best_gap)
        inflow *= openness
        headroom = np.maximum(0.999 * state.ceiling(g) - a, 0.0)
        inflow = np.minimum(np.minimum(inflow, best_gap), headroom)
        inflow[~pop.is_firm] = 0.0
        a += inflow
        state.flows.spillover_volume = float(inflow.sum())
