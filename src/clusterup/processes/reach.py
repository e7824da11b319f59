"""What knowledge a firm can reach: the pool behind integrated innovation and rigidity.

The pool mixes the profiles of knowledge-tie partners (firms and organisations), of social and
economic neighbours (weighted by ``integrated.neighbour_reach``: potential partners) and the outside
world's profile through pipelines. *Novelty* is the total-variation distance between a firm's own
profile and that pool, damped when the firm reaches little (``W / (W + 1)``). It is computed once a
step and handed on in the step context (:data:`REACH`): the mode choice's view of what a firm can reach is
what its innovation attempts work with.
"""

from __future__ import annotations

import numpy as np

from ..compiled import reach_pool
from ..state import ContextField, State, StepContext

REACH = ContextField("reach", tuple, "(pool profile, novelty in [0, 1]) per slot, computed at the first use in the step")


def reachable(state: State, ctx: StepContext | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per slot: (pool profile, novelty in [0, 1]); computed once a step when a context is given."""
    if ctx is not None and ctx.reach is not None:
        return ctx.reach
    n = state.n
    pop = state.pop
    q = pop.view("knowledge")
    omega = state.params.integrated.neighbour_reach
    # knowledge + omega * (social + economic), built with the combined sum where that comes first
    adj = state.net.reach_sum(n, omega) if omega > 0 else state.net["knowledge"].csr(n)
    pipe = pop.view("pipeline")
    # weight = row_sums(A) + pipe; pool: (A @ q + pipe * external) / weight (own profile where weight is 0);
    # novelty: tv_distance(q, pool) * weight / (weight + 1); all in one pass over the rows
    pool, novelty = reach_pool(adj, q, pipe, state.external_knowledge)
    if ctx is not None:
        ctx.reach = (pool, novelty)
    return pool, novelty
