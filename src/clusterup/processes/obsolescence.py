"""Obsolescence: capability depreciates every step; faster for firms left in older generations.

``a *= 1 - rate * (1 + generation_lag * share_of_firms_in_higher_generations)``: the old generation
loses value faster once a new one spreads.
"""

from __future__ import annotations

import numpy as np

from ..state import State
from .base import Process


class Obsolescence(Process):
    name = "obsolescence"
    section = "obsolescence"

    def step(self, state: State, rng: np.random.Generator) -> None:
        pop = state.pop
        firms = pop.firms()
        if firms.size == 0:
            return
        g = pop.generation[firms]
        counts = np.bincount(g)
        above = (counts.sum() - np.cumsum(counts)) / firms.size
        rate = self.p.rate * (1.0 + self.p.generation_lag * above[g])
        pop.capability[firms] *= 1.0 - np.minimum(rate, 0.99)
