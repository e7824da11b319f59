"""Imitation: move part of the way toward the best better neighbour; possibly adopt its generation.

The model is the neighbour (any layer) maximising tie strength x capability gap. On success the
imitator closes ``rate * (1 - appropriability) * absorption * strength`` of the gap (never passing
the model, never above its own generation's ceiling), where absorption ``(a_i / a_j) ** psi`` falls
with backwardness; its knowledge moves toward the model's. A model whose technology is protected
(patents: its ``licence_fee`` > 0) is imitated under licence: the imitator pays the fee on success, and the
mode choice counts it. A model in a higher generation passes it
on with chance ``generation_transfer * (1 - appropriability) * absorption``: the adopter restarts at
``switch_dip`` of its capability (a real cost of switching). This is how new generations diffuse.

With ``imitation.mixing`` (the ``bass`` preset) the model is instead a uniformly random other firm,
drawn each step: a well-mixed population, the complete graph with equal weights, without storing
its N^2 ties. The chance of meeting a firm of a higher generation is then that generation's share.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ..compiled import (
    best_model,
    imitate,
    imitation_gain,
    imitation_models,
    imitators,
    licence_due,
    model_gaps,
    pull_rows,
)
from ..params.base import Section, number, switch
from ..state import ContextField, Mode, State, StepContext
from .base import InnovationMode
from .market import per_scale


class ImitationParams(Section):
    enabled: bool = switch(desc="Imitation is an open mode.")
    cost: float = number(0.05, 0.0, 1e9, "Cost of an imitation attempt.")
    success: float = number(0.7, 0.0, 1.0, "Probability an imitation attempt succeeds.")
    rate: float = number(0.4, 0.0, 1.0, "Share of the gap to the model closed on success (before appropriability).")
    absorptive_exponent: float = number(0.5, 0.0, 10.0, "How strongly absorption falls with relative backwardness.")
    generation_transfer: float = number(0.5, 0.0, 1.0, "Chance a successful imitator adopts the model's higher generation.")
    switch_dip: float = number(0.7, 0.001, 1.0, "Capability kept (share) when switching to a higher generation.")
    knowledge_pull: float = number(0.2, 0.0, 1.0, "How far the imitator's knowledge moves toward the model's.")

    mixing: bool = Field(
        False, description="Imitate a uniformly random firm (a well-mixed population) instead of the best tie partner."
    )


LICENCES = ContextField("licence_fees", float, "licence fees imitators paid to the firms they imitated this step", float)
MODELS = ContextField("imitation_models", tuple, "(model slot or -1, step phi, absorption) per slot, as the mode choice saw them")


class Imitation(InnovationMode):
    name = "imitation"
    section = "imitation"
    Params = ImitationParams
    code = Mode.IMITATION
    context = InnovationMode.context + (MODELS, LICENCES)

    def _models(
        self, state: State, ctx: StepContext, rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cached = ctx.imitation_models
        if cached is not None and (rng is None or not self.p.mixing):
            return cached
        a = state.pop.view("capability")
        model, strength = self._candidates(state, rng)
        # model -1 where there is none or the slot is not an active firm; absorption (a / a[model]) ** psi;
        # phi = rate * openness * absorption * strength: in one compiled pass
        openness = 1.0 - state.params.technology.appropriability
        pop = state.pop
        found = imitation_models(model, strength, a, pop.view("kind"), pop.view("active"), self.p.absorptive_exponent,
                                 self.p.rate * openness)  # fmt: skip
        ctx.imitation_models = found
        return found

    def _candidates(self, state: State, rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
        """Each slot's candidate model and tie strength: the best better neighbour, or a random other firm."""
        if self.p.mixing:
            return self._mixing_models(state, rng)
        return best_model(state.net.combined(state.n), state.pop.view("capability"), cap=1.0)  # strengths capped at 1

    def _mixing_models(self, state: State, rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
        """A random other firm per firm (drawn from the imitation stream); for the mode choice's
        expectation (no stream), the most capable firm (an optimistic expectation)."""
        n = state.n
        firms = state.pop.firms()
        model = np.full(n, -1, dtype=np.int64)
        strength = np.zeros(n)
        if firms.size < 2:
            return model, strength
        if rng is None:
            a = state.pop.capability[firms]
            model[firms] = firms[np.argmax(a)]
        else:
            k = rng.integers(0, firms.size - 1, firms.size)
            k = k + (k >= np.arange(firms.size))  # skip oneself
            model[firms] = firms[k]
        model[model == np.arange(n)] = -1
        strength[model >= 0] = 1.0
        return model, strength

    def expected(self, state: State, ctx: StepContext) -> tuple[np.ndarray, np.ndarray]:
        model, phi, absorb = self._models(state, ctx)
        pop = state.pop
        tech = state.params.technology
        # success * (phi * (a[model] - a) / a + transfer * absorption * max(growth ** dg * dip - 1, 0) where the
        # model is dg > 0 generations ahead): in one compiled pass
        transfer = self.p.generation_transfer * (1.0 - tech.appropriability)
        gain = imitation_gain(model, phi, absorb, pop.view("capability"), pop.view("generation"), transfer,
                              tech.ceiling_growth, self.p.switch_dip, self.p.success)  # fmt: skip
        return gain, np.full(state.n, self.p.cost)

    def expected_numpy(self, state: State, ctx: StepContext) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`expected` in NumPy, with the models of :meth:`models_numpy` (the oracle of the compiled passes)."""
        model, phi, absorb = self.models_numpy(state)
        pop = state.pop
        a = pop.view("capability")
        g = pop.view("generation")
        gain, dg = model_gaps(model, phi, a, g)
        up = dg > 0
        growth = state.params.technology.ceiling_growth
        openness = 1.0 - state.params.technology.appropriability
        gain[up] += self.p.generation_transfer * openness * absorb[up] * (growth ** dg[up] * self.p.switch_dip - 1.0).clip(0)
        return self.p.success * gain, np.full(state.n, self.p.cost)

    def models_numpy(self, state: State) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The mode choice's models in NumPy: the readable definition of the compiled part of :meth:`_models`."""
        n = state.n
        a = state.pop.view("capability")
        model, strength = self._candidates(state, None)
        has = (model >= 0) & state.pop.is_firm
        model[~has] = -1
        absorb = np.zeros(n)
        absorb[has] = (a[has] / a[model[has]]) ** self.p.absorptive_exponent
        openness = 1.0 - state.params.technology.appropriability
        phi = self.p.rate * openness * absorb * strength
        return model, phi, absorb

    def fees(self, state: State, ctx: StepContext) -> np.ndarray | None:
        """Expected licence fees: a firm that imitates a model whose technology is protected pays the model's
        ``licence_fee`` when it succeeds (None where no firm charges one)."""
        fee = state.pop.view("licence_fee")
        if not fee.any():
            return None
        model, _, _ = self._models(state, ctx)
        out = np.zeros(state.n)
        has = model >= 0
        out[has] = self.p.success * fee[model[has]] * per_scale(state.pop)[has]
        return out

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        who = self.attempting(state)
        if who.size == 0:
            return
        model, phi, absorb = self._models(state, ctx, rng)
        i, j = imitators(who, model, rng.random(who.size), self.p.success)
        ctx.successes[self.code] += i.size
        if i.size == 0:
            return
        pop = state.pop
        openness = 1.0 - state.params.technology.appropriability
        u = rng.random(i.size)  # the generation transfer's draws
        # capability and generation of the imitators from their models': one compiled pass (step_numpy: in NumPy)
        imitate(i, j, u, pop.capability, pop.generation, phi, absorb, state.ceiling(pop.generation[i]),
                self.p.generation_transfer * openness, self.p.switch_dip)  # fmt: skip
        self._follow(state, ctx, i, j)

    def step_numpy(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        """:meth:`step` in NumPy, one expression per line: the definition of its compiled passes and their
        oracle in the tests (the same numbers, bit for bit)."""
        who = self.attempting(state)
        if who.size == 0:
            return
        model, phi, absorb = self._models(state, ctx, rng)
        j = model[who]
        ok = (j >= 0) & (rng.random(who.size) < self.p.success)
        i, j = who[ok], j[ok]
        ctx.successes[self.code] += i.size
        if i.size == 0:
            return
        pop = state.pop
        a_old = pop.capability[i].copy()
        openness = 1.0 - state.params.technology.appropriability
        p_transfer = self.p.generation_transfer * openness * absorb[i]
        transfer = (pop.generation[j] > pop.generation[i]) & (rng.random(i.size) < p_transfer)
        ceiling = state.ceiling(pop.generation[i])
        moved = np.minimum(a_old + phi[i] * (pop.capability[j] - a_old), 0.999 * ceiling)
        new_a = np.where(transfer, self.p.switch_dip * a_old, np.maximum(moved, a_old))
        pop.capability[i] = new_a
        pop.generation[i] = np.where(transfer, pop.generation[j], pop.generation[i])
        self._follow(state, ctx, i, j, numpy=True)

    def _follow(self, state: State, ctx: StepContext, i: np.ndarray, j: np.ndarray, numpy: bool = False) -> None:
        """The imitators' knowledge moves toward their models'; licences are paid (``numpy``: the fees in NumPy,
        the definition of their compiled pass)."""
        pop = state.pop
        pull_rows(pop.knowledge, i, j, self.p.knowledge_pull)  # knowledge[i] += pull * (knowledge[j] - knowledge[i])
        if numpy:
            fee = pop.licence_fee[j] * per_scale(pop)[i]  # the licence is in proportion to the licensee's size
            owed = bool(fee.any())
        else:  # the same in one compiled pass
            fee, owed = licence_due(i, j, pop.licence_fee, pop.scale)
        if owed:  # a licence to imitate a protected technology is paid to its holder
            pop.wealth[i] -= fee
            pop.profit[i] -= fee
            np.add.at(pop.wealth, j, fee)
            np.add.at(pop.profit, j, fee)
            ctx.licence_fees = float(fee.sum())
