"""Global pipelines: external links, opened more often by firms that master their generation and
when subsidised; they decay and close below a floor. Their knowledge effect is in the knowledge
drift and in what a firm can reach for integrated innovation.
"""

from __future__ import annotations

import numpy as np

from ..state import State
from .base import Process


class Pipelines(Process):
    name = "pipelines"
    section = "pipelines"

    def step(self, state: State, rng: np.random.Generator) -> None:
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
