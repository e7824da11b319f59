"""What knowledge a firm can reach: the pool behind integrated innovation and rigidity.

The pool mixes the profiles of knowledge-tie partners (firms and organisations), of social and
economic neighbours (weighted by ``integrated.neighbour_reach``: potential partners) and the outside
world's profile through pipelines. *Novelty* is the total-variation distance between a firm's own
profile and that pool, damped when the firm reaches little (``W / (W + 1)``). It is computed once a
step and handed on in the step context (:data:`REACH`): the mode choice's view of what a firm can reach is
what its innovation attempts work with.

Where nothing it is computed from changed since the last step (the same ties, profiles, pipelines and
outside profile, bit for bit: a static network, as in the ``bass`` preset), the last pool is handed on
instead of being computed again: the same numbers, without the pass over every tie (a quarter of a
``bass`` step). The ties are known by the key the multiplex caches the reach sum under (the layers'
versions). The pool and copies of its inputs are kept only once the ties have stayed the same for a step,
so a run whose ties change every step keeps nothing and pays only a comparison of the versions.
"""

from __future__ import annotations

import numpy as np

from ..compiled import reach_pool, same_words
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
    inputs = (q, pipe, state.external_knowledge)
    ties = state.net.reach_key(n, omega)  # equal keys: the same ties
    last = state._reach  # (ties, copies of the inputs, (pool, novelty)) of the last computation; None: not kept
    same_ties = last is not None and last[0] == ties
    if same_ties and last[1] is not None and all(map(_same_bits, inputs, last[1])):
        found = last[2]
    else:
        # weight = row_sums(A) + pipe; pool: (A @ q + pipe * external) / weight (own profile where weight is 0);
        # novelty: tv_distance(q, pool) * weight / (weight + 1); all in one pass over the rows
        found = reach_pool(adj, q, pipe, state.external_knowledge)
        for x in found:
            x.flags.writeable = False  # handed on, maybe for several steps: nobody changes them
        # the pool and copies of its inputs are kept only once the ties stayed the same for a step
        state._reach = (ties, tuple(x.copy() for x in inputs), found) if same_ties else (ties, None, None)
    if ctx is not None:
        ctx.reach = found
    return found


def _same_bits(now: np.ndarray, then: np.ndarray) -> bool:
    """Equal shapes and equal bits (``-0.0`` is not ``0.0`` here, nor NaN unequal to itself)."""
    if now.shape != then.shape or now.dtype != then.dtype:
        return False
    a, b = np.ascontiguousarray(now), np.ascontiguousarray(then)
    word = np.uint64 if a.dtype.itemsize == 8 else np.uint8  # the same bits, compared eight bytes at a time
    # up to the first word that differs: where the inputs changed (most steps of a run whose ties stay the
    # same, as the bass preset's), a few rows are read, not the whole knowledge table
    return bool(same_words(a.view(word).reshape(-1), b.view(word).reshape(-1)))
