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

from ..compiled import rd_learn
from ..params.base import Section, integer, number, switch
from ..state import FieldSpec, State, StepContext
from .base import Process


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
        # the draws (firms.size uniforms for who reviews; for the reviewers, peers uniforms and peers strangers
        # each, then one normal each) and the passes over firms and peers in one compiled call, with the NumPy
        # form's numbers (tests/test_process_kernels.py keeps it as the oracle)
        p = self.p
        rd_learn(firms, rng, p.review, lambda: state.net.combined(state.n), pop.profit, pop.profit_avg, p.memory,
                 pop.kind, pop.scale, pop.rd, p.peers, p.imitation, p.mutation, p.minimum)  # fmt: skip
