"""Global pipelines: external links, opened more often by firms that master their generation and
when subsidised; they decay and close below a floor. Their knowledge effect is in the knowledge
drift and in what a firm can reach for integrated innovation.
"""

from __future__ import annotations

import numpy as np

from ..compiled import count_firms, pipelines
from ..params.base import Section, number, switch
from ..state import FieldSpec, State, StepContext
from .base import Column, Process


class PipelineParams(Section):
    enabled: bool = switch()
    rate: float = number(0.01, 0.0, 1.0, "Chance per step a fully capable firm opens a pipeline.")
    capability_power: float = number(2.0, 0.0, 100.0, "How strongly pipelines favour capable (mastering) firms.")
    subsidy: float = number(0.0, 0.0, 1000.0, "Policy subsidy: multiplies the chance by 1 + subsidy.")
    decay: float = number(0.02, 0.0, 1.0, "Decay of pipeline strength per step.")
    floor: float = number(0.05, 0.0, 1.0, "Pipelines weaker than this close.")


class Pipelines(Process):
    name = "pipelines"
    section = "pipelines"
    Params = PipelineParams
    fields = (FieldSpec("pipeline", "f8", 0.0, "strength of the firm's link to the outside world"),)
    columns = (Column("n_pipelines", "int", "firms with an open pipeline to the outside", "knowledge"),)

    def record(self, state: State, ctx: StepContext) -> dict[str, float]:
        return {"n_pipelines": int(count_firms(state.pop.pipeline, state.pop.firms(), 0.0, True))}  # pipeline > 0

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        # one compiled pass (compiled.pipelines) after the draws; step_numpy is its definition and its oracle
        p = self.p
        pop = state.pop
        firms = pop.firms()
        if firms.size == 0:
            return
        mastery = state.mastery()
        pipelines(firms, pop.pipeline, mastery, rng.random(firms.size), decay=p.decay, rate=p.rate,
                  capability_power=p.capability_power, subsidy=p.subsidy, floor=p.floor)  # fmt: skip

    def step_numpy(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        """:meth:`step` in NumPy, one expression per line: the definition of its compiled pass."""
        p = self.p
        pop = state.pop
        firms = pop.firms()
        if firms.size == 0:
            return
        pipe = pop.pipeline[firms] * (1.0 - p.decay)
        m = np.clip(state.mastery()[firms], 0.0, 1.0)
        chance = np.minimum(1.0, p.rate * m**p.capability_power * (1.0 + p.subsidy))
        pipe[rng.random(firms.size) < chance] = 1.0
        pipe[pipe < p.floor] = 0.0
        pop.pipeline[firms] = pipe
