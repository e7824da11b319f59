"""Learning of R&D effort: firms copy the R&D propensity of more profitable peers, and experiment.

A reviewing firm looks at ``peers`` random tie partners (random firms where it has no ties) and
takes the most profitable (by average profit); if that peer earned more it moves ``imitation`` of the
way toward the peer's R&D propensity; then it experiments (Gaussian noise). This is payoff-biased
learning of "what paid": where spillovers and easy copying let free riders earn as much as
innovators without the R&D bill, low R&D spreads (opportunism); where appropriability protects
innovators' rents, R&D holds.
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
        who = firms[rng.random(firms.size) < self.p.review]
        if who.size == 0:
            return
        k = self.p.peers
        adj = state.net.combined(state.n)
        rows = np.repeat(who, k)
        peers = random_neighbour(adj, rows, rng.random(rows.size))
        strangers = firms[rng.integers(0, firms.size, rows.size)]
        peers = np.where((peers >= 0) & (pop.kind[np.maximum(peers, 0)] == 0), peers, strangers).reshape(who.size, k)
        best = np.argmax(pop.profit_avg[peers], axis=1)
        peer = peers[np.arange(who.size), best]
        better = pop.profit_avg[peer] > pop.profit_avg[who]
        rd = pop.rd[who]
        rd = np.where(better, rd + self.p.imitation * (pop.rd[peer] - rd), rd)
        rd = rd + self.p.mutation * rng.standard_normal(who.size)
        pop.rd[who] = np.clip(rd, self.p.minimum, 1.0)
