"""Mode choice: each firm weighs none / imitation / local / integrated and picks one (logit).

Utility of a mode = ``(revenue * share_exponent * horizon * expected_relative_gain - cost) / R``
where ``R`` is the mean revenue (so utilities are in units of a typical firm's income) and the
expected gain comes from the mode itself (its situation-dependent success chance and gain). Modes a
firm cannot afford (cost above its cash) are closed; switched-off modes are not offered. The cost of
the chosen mode is paid now. With ``choice.always_try`` (a benchmark setting, used by the ``bass``
preset) every firm attempts one of its open modes, each equally likely, whatever the utilities.
"""

from __future__ import annotations

import numpy as np

from ..state import State
from .base import InnovationMode, Process
from .kernels import softmax_choice


class ModeChoice(Process):
    name = "mode_choice"
    section = "choice"

    def bind(self, processes: list[Process]) -> None:
        self.modes = [p for p in processes if isinstance(p, InnovationMode)]

    def step(self, state: State, rng: np.random.Generator) -> None:
        pop = state.pop
        pop.view("mode")[:] = 0
        firms = pop.firms()
        if firms.size == 0:
            return
        revenue = pop.revenue[firms]
        scale = revenue.mean() if revenue.mean() > 0 else 1.0
        value = revenue * state.params.market.share_exponent * self.p.horizon
        wealth = pop.wealth[firms]
        utility = np.full((firms.size, 4), -np.inf)
        utility[:, 0] = 0.0
        costs = np.zeros((firms.size, 4))
        for mode in self.modes:
            if not mode.enabled:
                continue
            gain, cost = mode.expected(state)
            cost_f = np.broadcast_to(cost, (state.n,))[firms]
            u = (value * gain[firms] - cost_f) / scale
            utility[:, mode.code] = np.where(cost_f <= np.maximum(wealth, 0.0), u, -np.inf)
            costs[:, mode.code] = cost_f
        if self.p.always_try:  # benchmarks (Bass): every open, affordable mode but "none" equally likely
            utility[:, 0] = -np.inf
            utility = np.where(np.isfinite(utility), 0.0, -np.inf)
            utility[~np.isfinite(utility).any(axis=1), 0] = 0.0  # nothing open: the firm does nothing
        scaled = utility.copy()
        if not self.p.always_try:  # intensity 0 must not turn a closed mode (-inf) into NaN
            open_ = np.isfinite(utility)
            scaled[open_] = self.p.intensity * utility[open_]
        chosen = softmax_choice(scaled, rng.random(firms.size))
        pop.mode[firms] = chosen
        paid = costs[np.arange(firms.size), chosen]
        pop.wealth[firms] -= paid
        pop.profit[firms] -= paid
        state.flows.attempts[:] = np.bincount(chosen, minlength=4)
