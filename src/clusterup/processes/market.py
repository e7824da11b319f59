"""Market and profits: the cluster's demand follows its competitiveness against the frontier.

``M = demand * N0 * min(saturation, (mean_a / A*) ** elasticity)``; a firm's share is proportional
to ``a ** share_exponent * (1 + rent_premium * rent)``; profit is revenue less the fixed cost and R&D
spending (``rd_cost * rd * revenue``). Mode costs are charged later by the mode choice.

``rent`` is the firm's stock of innovation rents: each own innovation success (local or integrated)
adds :func:`innovation_rent` to it, the share of the innovation's value the innovator keeps (Teece 1986:
where the appropriability regime is weak, imitators and followers capture the value), and it decays by
``rent_decay`` per step. The share is ``rent_share`` at appropriability 0.5 and follows a Hill curve in
appropriability around it, ``rent_share x H(a) / H(0.5)`` with ``H(a) = a^n / (a^n + h^n)``, n =
``rent_power``, h = ``rent_half``: it vanishes below about h (an innovation that leaks and is copied freely
earns its innovator nothing), and above it saturates (more protection cannot keep more than the value).
Leaders thus earn excess (Schumpeterian) profit, more of it where
appropriability is strong; a cluster falling behind the frontier loses market and, through exits, firms.

A rent also shields: when the cluster lags the frontier (demand level ``L = min(saturation, (mean_a /
A*) ** elasticity)`` below 1), a firm keeps the share ``k = min(1, rent_shield * rent)`` of the demand the
lag takes from it, ``revenue * (1 + k (1 - L) / L)``. Buyers of a firm's own, protected products stay when
the cluster's commodity products lose to the world's (differentiation, Chamberlin 1933; Teece 1986), so a
cluster that keeps innovating loses market more slowly than one that only copies, in which rents, and the
shield with them, vanish.

A firm's *scale* (its customer base and capacity, mean 1 over firms) multiplies its weight, its fixed cost
and, in the mode choice, the cost of its innovation attempts (a larger firm's project is larger), so
that everything a firm pays or earns is in proportion to its size. It grows in proportion to itself each
step by an idiosyncratic shock of dispersion ``scale_shock`` (Gibrat's law of proportional growth, so firm
sizes compound), except that a firm making a loss cannot expand; an entrant starts at ``entrant_scale`` of
the average (entry is small). Growth proportional to size, small entry and exit are the classic ingredients of a
heavy-tailed firm-size distribution (Simon & Bonini 1958; Gabaix 1999); without shocks and with entrants
of average scale every firm has scale 1 and the market is as above.
"""

from __future__ import annotations

import numpy as np

from ..compiled import log_growth, market_step, scale_by
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
    rent_premium: float = number(4.0, 0.0, 100.0, "Market-share premium per unit of innovation rent (0: no rents).")
    rent_share: float = number(
        0.25, 0.0, 1.0, "Share of an own innovation's value its innovator keeps as rent at appropriability 0.5."
    )
    rent_power: float = number(
        6.0, 0.001, 100.0, "Steepness n of the rent share's Hill curve in appropriability (how sharp its threshold is)."
    )
    rent_half: float = number(
        0.3, 0.001, 1.0, "Appropriability h at which the rent share is half its ceiling (below it, rents vanish)."
    )
    rent_shield: float = number(
        0.4,
        0.0,
        100.0,
        "Share of the demand a lagging cluster loses that a firm keeps per unit of innovation rent (at most all; 0: none).",
    )
    payout: float = number(0.5, 0.0, 1.0, "Share of a positive profit paid out to owners rather than kept as cash.")
    rent_decay: float = number(0.1, 0.0, 1.0, "Per-step decay of innovation rents (competition erodes them).")
    scale_shock: float = number(
        0.1,
        0.0,
        5.0,
        "Dispersion of the idiosyncratic proportional growth of a firm's scale per step (Gibrat; 0: all firms one scale).",
    )
    entrant_scale: float = number(
        0.3, 0.001, 100.0, "An entrant's starting scale relative to the average firm's (entry is small below 1)."
    )


def innovation_rent(params) -> float:
    """The share of an own innovation's value that its innovator keeps as rent.

    ``rent_share x H(a) / H(0.5)`` with ``H(a) = a^n / (a^n + h^n)`` (a = appropriability, n = ``rent_power``, h =
    ``rent_half``): ``rent_share`` at a = 0.5, nothing at a = 0, a threshold near h and a plateau above it.
    Anchoring the level at 0.5 separates it from the curve's shape: the shape moves the rent only where
    appropriability differs from 0.5, and at 0.5 the rent is exactly ``rent_share`` (never above 1)."""
    m = params.market
    a = params.technology.appropriability
    n, h = m.rent_power, m.rent_half
    hill = a**n / (a**n + h**n)
    mid = 0.5**n / (0.5**n + h**n)
    return min(1.0, m.rent_share * (hill / mid))


def per_scale(pop) -> np.ndarray:
    """Each slot's scale (1 before its first market): money a firm pays or earns in proportion to its size."""
    scale = pop.view("scale")
    return np.where(scale > 0, scale, 1.0)


class Market(Process):
    name = "market"
    section = "market"
    Params = MarketParams
    fields = (
        FieldSpec("revenue", "f8", 0.0, "last step's revenue"),
        FieldSpec("profit", "f8", 0.0, "last step's profit (after the chosen mode's cost)"),
        FieldSpec("rent", "f8", 0.0, "stock of innovation rents"),
        FieldSpec(
            "scale",
            "f8",
            0.0,
            "the firm's scale: customer base and capacity, relative to the average firm (0 before its first market)",
        ),
    )

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        p = self.p
        pop = state.pop
        firms = pop.firms()
        if firms.size == 0:
            return
        a, level, demand = self._demand(state, firms)
        scaled = not (p.scale_shock == 0 and p.entrant_scale == 1.0)  # else scale plays no part: every firm has 1
        # rents, scales, revenues, profits and cash in one compiled pass (market_step); the powers stay NumPy's.
        # The definition, one NumPy expression per line, is step_numpy
        scale = market_step(firms, a**p.share_exponent, pop.rent, pop.scale, pop.wealth, pop.rd, pop.revenue,
                            pop.profit, demand, level, rent_decay=p.rent_decay, rent_premium=p.rent_premium,
                            rent_shield=p.rent_shield, fixed_cost=p.fixed_cost, rd_cost=p.rd_cost, payout=p.payout,
                            entrant_scale=p.entrant_scale, scaled=scaled)  # fmt: skip
        if scale is not None and p.scale_shock > 0:  # _grow in two compiled passes around NumPy's exp
            s = p.scale_shock
            factor = log_growth(rng.standard_normal(firms.size), pop.profit, firms, s, 0.5 * s**2)
            np.exp(factor, out=factor)  # NumPy's: a kernel's exp differs in the last bit
            scale_by(pop.scale, firms, scale, factor)

    def step_numpy(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        """:meth:`step` in NumPy, one expression per line: the readable definition of its compiled pass, and its
        oracle in the tests (the same numbers, bit for bit)."""
        p = self.p
        pop = state.pop
        firms = pop.firms()
        if firms.size == 0:
            return
        a, level, demand = self._demand(state, firms)
        pop.rent[firms] *= 1.0 - p.rent_decay
        weight = a**p.share_exponent * (1.0 + p.rent_premium * pop.rent[firms])
        scale = self._scale(pop, firms)
        if scale is not None:
            weight = weight * scale
        total = weight.sum()
        revenue = demand * weight / total if total > 0 else np.full(firms.size, demand / firms.size)
        if p.rent_shield > 0 and 0 < level < 1:  # own innovations keep their buyers when the cluster lags
            kept = np.minimum(1.0, p.rent_shield * pop.rent[firms])
            revenue = revenue * (1.0 + kept * (1.0 - level) / level)
        fixed = p.fixed_cost if scale is None else p.fixed_cost * scale
        profit = revenue - fixed - p.rd_cost * pop.rd[firms] * revenue
        pop.revenue[firms] = revenue
        pop.profit[firms] = profit
        pop.wealth[firms] += np.where(profit > 0, (1.0 - p.payout) * profit, profit)
        if scale is not None and p.scale_shock > 0:
            self._grow(pop, firms, scale, profit, rng)

    def _demand(self, state: State, firms: np.ndarray) -> tuple[np.ndarray, float, float]:
        """The firms' capabilities, the demand level ``min(saturation, (mean_a / A*) ** elasticity)`` and the
        cluster's demand."""
        p = self.p
        a = state.pop.capability[firms]
        rel = a.mean() / state.frontier
        level = min(p.saturation, rel**p.elasticity)
        return a, level, p.demand * state.initial_firms * level

    def _scale(self, pop, firms: np.ndarray) -> np.ndarray | None:
        """Each firm's scale this step (mean 1 over firms): the first market gives every firm scale 1, a later
        entrant ``entrant_scale`` of the average. None when scale plays no part (no growth dynamics and
        entrants of average scale: every firm has scale 1). (:meth:`step_numpy`'s; :meth:`step` finds it in its
        compiled pass.)"""
        p = self.p
        if p.scale_shock == 0 and p.entrant_scale == 1.0:
            pop.scale[firms] = 1.0
            return None
        scale = pop.scale[firms]
        new = scale <= 0
        if new.all():
            scale[:] = 1.0
        elif new.any():
            scale[new] = p.entrant_scale * scale[~new].mean()
            pop.wealth[firms[new]] *= p.entrant_scale  # its starting cash in proportion to its scale
        scale = scale / scale.mean()
        pop.scale[firms] = scale
        return scale

    def _grow(self, pop, firms: np.ndarray, scale: np.ndarray, profit: np.ndarray, rng: np.random.Generator) -> None:
        """Next step's scale: an idiosyncratic proportional shock of dispersion ``scale_shock`` (Gibrat's law);
        a firm making a loss does not expand (it has nothing to invest), it can only shrink."""
        s = self.p.scale_shock
        log_growth = s * rng.standard_normal(firms.size) - 0.5 * s**2
        log_growth = np.where(profit < 0, np.minimum(log_growth, 0.0), log_growth)
        pop.scale[firms] = scale * np.exp(log_growth)
