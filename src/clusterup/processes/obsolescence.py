"""Obsolescence: capability depreciates every step; faster for firms left in older generations.

``a *= 1 - rate * (1 + generation_lag * share_of_firms_in_higher_generations)``: the old generation
loses value faster once a new one spreads.
"""

from __future__ import annotations

import numpy as np

from ..params.base import Section, number, switch
from ..state import State, StepContext
from .base import Process


class ObsolescenceParams(Section):
    enabled: bool = switch()
    rate: float = number(0.005, 0.0, 1.0, "Capability depreciation per step.")
    generation_lag: float = number(1.5, 0.0, 100.0, "Extra depreciation per share of firms in higher generations.")


class Obsolescence(Process):
    name = "obsolescence"
    section = "obsolescence"
    Params = ObsolescenceParams

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        pop = state.pop
        firms = pop.firms()
        if firms.size == 0:
            return
        g = pop.generation[firms]
        counts = np.bincount(g)
        above = (counts.sum() - np.cumsum(counts)) / firms.size
        rate = self.p.rate * (1.0 + self.p.generation_lag * above[g])
        pop.capability[firms] *= 1.0 - np.minimum(rate, 0.99)
