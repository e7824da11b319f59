"""Market and profits: the cluster's demand follows its competitiveness against the frontier.

``M = demand * N0 * min(saturation, (mean_a / A*) ** elasticity)``; a firm's share is proportional
to ``a ** share_exponent * (1 + rent_premium * rent)``; profit is revenue less the fixed cost and R&D
spending (``rd_cost * rd * revenue``). Mode costs are charged later by the mode choice.

``rent`` is the firm's stock of innovation rents: each own innovation success (local or integrated)
adds ``appropriability`` to it (the share of the innovation's value the innovator captures) and it
decays by ``rent_decay`` per step. Leaders thus earn excess (Schumpeterian) profit, more of it where
appropriability is strong; a cluster falling behind the frontier loses market and, through exits, firms.
"""

from __future__ import annotations

import numpy as np

from ..state import State
from .base import Process


class Market(Process):
    name = "market"
    section = "market"

    def step(self, state: State, rng: np.random.Generator) -> None:
        p = self.p
        pop = state.pop
        firms = pop.firms()
        if firms.size == 0:
            return
        a = pop.capability[firms]
        rel = a.mean() / state.frontier
        demand = p.demand * state.initial_firms * min(p.saturation, rel**p.elasticity)
        pop.rent[firms] *= 1.0 - p.rent_decay
        weight = a**p.share_exponent * (1.0 + p.rent_premium * pop.rent[firms])
        total = weight.sum()
        revenue = demand * weight / total if total > 0 else np.full(firms.size, demand / firms.size)
        profit = revenue - p.fixed_cost - p.rd_cost * pop.rd[firms] * revenue
        pop.revenue[firms] = revenue
        pop.profit[firms] = profit
        pop.wealth[firms] += np.where(profit > 0, (1.0 - p.payout) * profit, profit)
