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

from ..params.base import Section, number, switch
from ..state import FieldSpec, State, StepContext
from .base import Process


class MarketParams(Section):
    enabled: bool = switch()
    demand: float = number(1.0, 0.001, 1e9, "Demand per initial firm at parity with the frontier.")
    elasticity: float = number(1.0, 0.0, 10.0, "Elasticity of cluster demand to capability relative to the frontier.")
    saturation: float = number(2.0, 1.0, 1000.0, "Most the cluster's demand can grow above parity (multiple).")
    share_exponent: float = number(1.5, 0.0, 10.0, "Exponent gamma of capability in market shares.")
    fixed_cost: float = number(0.35, 0.0, 1e9, "Fixed cost per firm per step.")
    rd_cost: float = number(0.3, 0.0, 1.0, "Share of revenue spent on R&D at R&D propensity 1.")
    rent_premium: float = number(1.0, 0.0, 100.0, "Market-share premium per unit of innovation rent (0: no rents).")
    payout: float = number(0.5, 0.0, 1.0, "Share of a positive profit paid out to owners rather than kept as cash.")
    rent_decay: float = number(0.1, 0.0, 1.0, "Per-step decay of innovation rents (competition erodes them).")


class Market(Process):
    name = "market"
    section = "market"
    Params = MarketParams
    fields = (
        FieldSpec("revenue", "f8", 0.0, "last step's revenue"),
        FieldSpec("profit", "f8", 0.0, "last step's profit (after the chosen mode's cost)"),
        FieldSpec("rent", "f8", 0.0, "stock of innovation rents"),
    )

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
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
