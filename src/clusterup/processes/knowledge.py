"""Knowledge drift: profiles move toward knowledge-tie partners' (homogenisation in closed groups);
pipelines pull them toward the outside world's profile (novel domains). Organisations keep theirs.
"""

from __future__ import annotations

import numpy as np

from ..compiled import knowledge_drift, set_rows
from ..params.base import Section, number, switch
from ..state import State, StepContext
from .base import Process


class KnowledgeParams(Section):
    enabled: bool = switch()
    drift: float = number(0.05, 0.0, 1.0, "Pull of knowledge profiles toward knowledge-tie partners'.")
    pipeline_injection: float = number(0.05, 0.0, 1.0, "Pull toward outside knowledge per unit pipeline strength.")


class KnowledgeDrift(Process):
    name = "knowledge"
    section = "knowledge"
    Params = KnowledgeParams

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        n = state.n
        pop = state.pop
        q = pop.view("knowledge")
        adj = state.net["knowledge"].csr(n)
        firms = pop.firms()
        pipe = pop.view("pipeline")
        # normalise_rows(drift_rows(firms, q, A @ q, row_sums(A), ...)) in one pass over the firms' rows
        drifted = knowledge_drift(adj, firms, q, None, self.p.drift, self.p.pipeline_injection, pipe,
                                  state.external_knowledge)  # fmt: skip
        set_rows(q, firms, drifted)  # q[firms] = drifted (the firms are distinct)
