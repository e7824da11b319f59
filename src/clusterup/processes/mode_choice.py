"""Mode choice: each firm weighs none / imitation / local / integrated and picks one (logit).

Utility of a mode = ``(revenue * share_exponent * horizon * expected_relative_gain - cost) / R``
where ``R`` is the mean revenue (so utilities are in units of a typical firm's income) and the
expected gain comes from the mode itself (its situation-dependent success chance and gain). Modes a
firm cannot afford (cost above its cash) are closed; switched-off modes are not offered. The cost of
the chosen mode is paid now; payments due on success (licence fees) count in the utility and are paid
when they fall due. With ``choice.always_try`` (a benchmark setting, used by the ``bass``
preset) every firm attempts one of its open modes, each equally likely, whatever the utilities.

The modes on offer are the schedule's innovation modes (:class:`~clusterup.processes.InnovationMode`).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ..compiled import choice_inputs, equal_choice, logit_choice, mode_column, pay_chosen
from ..params.base import Section, number, switch
from ..state import INNOVATION_MODES, Mode, State, StepContext
from .base import ATTEMPTS, SUCCEEDED, SUCCESSES, Column, InnovationMode, Process
from .market import per_scale


class ChoiceParams(Section):
    enabled: bool = switch(desc="Firms choose an innovation mode each step.")
    intensity: float = number(4.0, 0.0, 1000.0, "Intensity of choice of the multinomial logit.")
    horizon: float = number(20.0, 0.0, 10_000.0, "Steps over which a capability gain is valued.")
    always_try: bool = Field(False, description="Every firm attempts one open mode each step, each equally likely (benchmarks).")


def _mode_columns() -> tuple[Column, ...]:
    names = [m.label for m in INNOVATION_MODES]
    return (
        *(Column(f"attempts_{m}", "int", f"{m} attempts chosen in the step", "innovation") for m in names),
        *(Column(f"success_{m}", "int", f"successful {m} attempts", "innovation") for m in names),
        *(Column(f"share_{m}", "float", f"{m}'s share of the step's attempts (0 when there are none)", "innovation")
          for m in names),
    )  # fmt: skip


class ModeChoice(Process):
    name = "mode_choice"
    section = "choice"
    Params = ChoiceParams
    columns = _mode_columns()
    context = (ATTEMPTS, SUCCESSES, SUCCEEDED)

    def init(self, processes: list[Process]) -> None:
        self.modes = [p for p in processes if isinstance(p, InnovationMode)]

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        pop = state.pop
        firms = pop.firms()
        if firms.size == 0:
            pop.view("mode")[:] = Mode.NONE
            return
        # every slot's mode reset, the firms' mean revenue, values, cash and scales, and the tables of utilities
        # and costs: one compiled pass (compiled.choice_inputs; step_numpy has them in NumPy)
        typical, value, wealth, scale, utility, costs = choice_inputs(
            firms, pop.view("mode"), Mode.NONE, pop.revenue, pop.wealth, pop.scale,
            state.params.market.share_exponent, self.p.horizon, len(Mode))  # fmt: skip
        self._choose(state, ctx, rng, firms, typical, value, wealth, scale, utility, costs)

    def step_numpy(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        """:meth:`step` with its inputs in NumPy, one expression per line: the definition of ``choice_inputs``."""
        pop = state.pop
        pop.view("mode")[:] = Mode.NONE
        firms = pop.firms()
        if firms.size == 0:
            return
        revenue = pop.revenue[firms]
        typical = revenue.mean()
        value = revenue * state.params.market.share_exponent * self.p.horizon
        wealth = pop.wealth[firms]
        scale = per_scale(pop)[firms]  # a larger firm's attempts cost more, in proportion
        utility = np.full((firms.size, len(Mode)), -np.inf)
        utility[:, Mode.NONE] = 0.0
        costs = np.zeros((firms.size, len(Mode)))
        self._choose(state, ctx, rng, firms, typical, value, wealth, scale, utility, costs)

    def _choose(self, state: State, ctx: StepContext, rng: np.random.Generator, firms: np.ndarray, typical: float,
                value: np.ndarray, wealth: np.ndarray, scale: np.ndarray, utility: np.ndarray,
                costs: np.ndarray) -> None:  # fmt: skip
        """Each mode's column, the choice and the payments (:meth:`step` and :meth:`step_numpy` alike)."""
        pop = state.pop
        typical = typical if typical > 0 else 1.0  # utilities in units of a typical firm's income
        for mode in self.modes:
            if not mode.enabled:
                continue
            gain, cost = mode.expected(state, ctx)
            # cost_f = cost[firms] * scale; utility = (value * gain[firms] - cost_f - fees[firms]) / typical where
            # cost_f <= max(wealth, 0), -inf elsewhere: in one compiled pass
            mode_column(firms, value, gain, cost, scale, mode.fees(state, ctx), wealth, typical, mode.code, utility,
                        costs)  # fmt: skip
        if self.p.always_try:  # benchmarks (Bass): every open, affordable mode but "none" equally likely; nothing
            chosen = equal_choice(utility, rng.random(firms.size), Mode.NONE)  # open: the firm does nothing
        else:  # the finite utilities times the intensity of choice (intensity 0 must not turn a closed mode, -inf, into NaN)
            chosen = logit_choice(utility, rng.random(firms.size), self.p.intensity)
        pop.mode[firms] = chosen
        pay_chosen(firms, chosen, costs, pop.wealth, pop.profit)  # the chosen mode's cost, from cash and profit
        ctx.attempts[:] = np.bincount(chosen, minlength=len(Mode))

    def record(self, state: State, ctx: StepContext) -> dict[str, float]:
        attempts = ctx.attempts.tolist()  # plain integers, indexed by mode code
        successes = ctx.successes.tolist()
        tried = [attempts[m] for m in _CODES]
        total = sum(tried)
        return {**dict(zip(_ATTEMPTS, tried, strict=True)),
                **dict(zip(_SUCCESSES, (successes[m] for m in _CODES), strict=True)),
                **dict(zip(_SHARES, (t / total if total else 0.0 for t in tried), strict=True))}  # fmt: skip


# the columns' names and the modes' codes, in the order of INNOVATION_MODES (made once, read every step)
_CODES = tuple(int(m) for m in INNOVATION_MODES)
_ATTEMPTS = tuple(f"attempts_{m.label}" for m in INNOVATION_MODES)
_SUCCESSES = tuple(f"success_{m.label}" for m in INNOVATION_MODES)
_SHARES = tuple(f"share_{m.label}" for m in INNOVATION_MODES)
