"""Market and profits: the cluster's demand follows its competitiveness against the frontier.

``M = demand * N0 * min(saturation, (mean_a / A*) ** elasticity)``; a firm's share is
``a ** share_exponent / sum(a ** share_exponent)``; profit is revenue less the fixed cost and R&D
spending (``rd_cost * rd * revenue``). Mode costs are charged later by the mode choice. Leaders earn
excess profit; a cluster falling behind the frontier loses market and, through exits, firms.
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
        weight = a**p.share_exponent
        revenue = demand * weight / weight.sum()
        profit = revenue - p.fixed_cost - p.rd_cost * pop.rd[firms] * revenue
        pop.revenue[firms] = revenue
        pop.profit[firms] = profit
        pop.wealth[firms] += profit
