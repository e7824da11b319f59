"""Obsolescence: capability depreciates every step; faster for firms left in older generations.

``a *= 1 - rate * (1 + generation_lag * share_of_firms_in_higher_generations) * (1 - rd_maintenance * R(rd))``:
the old generation loses value faster once a new one spreads, and a firm's own R&D keeps its knowledge up
to date (``R(rd) = rd / (rd + rd_half)``; the knowledge-capital view of R&D, Griliches 1979): a firm that
stops its R&D sees its capability erode faster.
"""

from __future__ import annotations

import numpy as np

from ..compiled import erode
from ..kernels import rd_effect
from ..params.base import Section, number, switch
from ..state import State, StepContext
from .base import Process


class ObsolescenceParams(Section):
    enabled: bool = switch()
    rate: float = number(0.015, 0.0, 1.0, "Capability depreciation per step of a firm without R&D.")
    generation_lag: float = number(1.5, 0.0, 100.0, "Extra depreciation per share of firms in higher generations.")
    rd_maintenance: float = number(
        1.0, 0.0, 1.0, "Share of depreciation a firm's R&D offsets at full R&D effect (0: R&D does not)."
    )
    rd_half: float = number(0.3, 0.001, 100.0, "R&D propensity at which R&D gives half its maintenance effect.")
    rd_exponent: float = number(2.0, 0.001, 10.0, "Steepness of the maintenance effect of R&D (Hill exponent).")


class Obsolescence(Process):
    name = "obsolescence"
    section = "obsolescence"
    Params = ObsolescenceParams

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        # one compiled pass (compiled.erode); step_numpy is its definition and its oracle in the tests
        p = self.p
        pop = state.pop
        erode(pop.firms(), pop.generation, pop.rd, pop.capability, rate=p.rate, generation_lag=p.generation_lag,
              rd_maintenance=p.rd_maintenance, rd_half=p.rd_half, rd_exponent=p.rd_exponent)  # fmt: skip

    def step_numpy(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        """:meth:`step` in NumPy, one expression per line: the definition of its compiled pass."""
        pop = state.pop
        firms = pop.firms()
        if firms.size == 0:
            return
        g = pop.generation[firms]
        counts = np.bincount(g)
        above = (counts.sum() - np.cumsum(counts)) / firms.size
        rate = np.full(firms.size, self.p.rate)
        if self.p.rd_maintenance > 0:  # R&D keeps a firm's knowledge up to date: without it capability erodes faster
            rate = rate * (1.0 - self.p.rd_maintenance * rd_effect(pop.rd[firms], self.p.rd_half, self.p.rd_exponent))
        rate = rate + self.p.rate * self.p.generation_lag * above[g]  # no R&D keeps an old generation's market
        pop.capability[firms] *= 1.0 - np.minimum(rate, 0.99)
