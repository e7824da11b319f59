"""Learning of R&D effort: firms copy the R&D propensity of more profitable peers, and experiment.

A reviewing firm compares its average profit with a random tie partner's; if the partner earned
more it moves ``imitation`` of the way toward the partner's R&D propensity; then it experiments
(Gaussian noise). This is payoff-biased learning of "what paid": where spillovers and easy copying
let free riders earn as much as innovators without the R&D bill, low R&D spreads (opportunism);
where appropriability protects innovators' rents, R&D holds.
"""

from __future__ import annotations

import numpy as np

from ..state import State
from .base import Process
from .kernels import random_neighbour


class RDLearning(Process):
    name = "rd_learning"
    section = "rd_learning"

    def step(self, state: State, rng: np.random.Generator) -> None:
        pop = state.pop
        firms = pop.firms()
        if firms.size == 0:
            return
        m = self.p.memory
        pop.profit_avg[firms] = (1 - m) * pop.profit_avg[firms] + m * pop.profit[firms]
        u = rng.random((3, firms.size))
        who = firms[u[0] < self.p.review]
        if who.size == 0:
            return
        adj = state.net.combined(state.n)
        peer = random_neighbour(adj, who, u[1, : who.size])
        stranger = firms[np.minimum((u[2, : who.size] * firms.size).astype(np.int64), firms.size - 1)]
        peer = np.where((peer >= 0) & (pop.kind[np.maximum(peer, 0)] == 0), peer, stranger)
        better = pop.profit_avg[peer] > pop.profit_avg[who]
        rd = pop.rd[who]
        rd = np.where(better, rd + self.p.imitation * (pop.rd[peer] - rd), rd)
        rd = rd + self.p.mutation * rng.standard_normal(who.size)
        pop.rd[who] = np.clip(rd, self.p.minimum, 1.0)
