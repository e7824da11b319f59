"""Learning of R&D effort: firms copy the R&D propensity of more profitable peers, and experiment.

A reviewing firm looks at ``peers`` random tie partners (random firms where it has no ties) and
takes the most profitable (by average profit per unit of the firm's scale, so that firms of different
size compare what their strategy earns, not their size); if that peer earned more it moves ``imitation``
of the way toward the peer's R&D propensity; then it experiments (Gaussian noise). This is payoff-biased
learning of "what paid": where spillovers and easy copying let free riders earn as much as
innovators without the R&D bill, low R&D spreads (opportunism); where appropriability protects
innovators' rents, R&D holds.
"""

from __future__ import annotations

import numpy as np

from ..kernels import random_neighbour
from ..params.base import Section, integer, number, switch
from ..state import FieldSpec, State, StepContext
from .base import Process
from .market import per_scale


class RDLearningParams(Section):
    enabled: bool = switch()
    review: float = number(1.0, 0.0, 1.0, "Chance per step that a firm reviews its R&D propensity.")
    peers: int = integer(1, 1, 100, "Tie partners a reviewing firm compares itself with (it copies the most profitable).")
    imitation: float = number(1.0, 0.0, 1.0, "How far a reviewing firm moves toward a more profitable peer's R&D.")
    mutation: float = number(0.01, 0.0, 1.0, "Standard deviation of random experimentation with R&D.")
    minimum: float = number(0.0, 0.0, 1.0, "Lowest R&D propensity.")
    memory: float = number(0.4, 0.001, 1.0, "Weight of the newest profit in the profit average.")


class RDLearning(Process):
    name = "rd_learning"
    section = "rd_learning"
    Params = RDLearningParams
    fields = (FieldSpec("profit_avg", "f8", 0.0, "moving average of profit"),)

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
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
        earned = pop.profit_avg[: state.n] / per_scale(pop)  # what a strategy earns, whatever the firm's size
        best = np.argmax(earned[peers], axis=1)
        peer = peers[np.arange(who.size), best]
        better = earned[peer] > earned[who]
        rd = pop.rd[who]
        rd = np.where(better, rd + self.p.imitation * (pop.rd[peer] - rd), rd)
        rd = rd + self.p.mutation * rng.standard_normal(who.size)
        pop.rd[who] = np.clip(rd, self.p.minimum, 1.0)
