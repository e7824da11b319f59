"""Spillovers: involuntary knowledge leakage along ties, from stronger to weaker firms only.

Inflow to i = ``(1 - appropriability) * rate * sum_L rate_L * sum_j w_ij * (a_j - a_i)^+ * c_ij *
(1 - protection_j)`` with ``c_ij = 1`` within a generation and ``cross_generation`` across generations and
``protection_j`` the share of j's leakage its intellectual property blocks (patents); it never takes a firm
past its best source nor above its own generation's ceiling. Organisations neither send nor receive
capability. The volume is recorded; spillovers are a free gain that erodes leaders' rents.
"""

from __future__ import annotations

import numpy as np

from ..compiled import one_call as _one_call
from ..compiled import spill, spill_apply, spill_sources, spillover
from ..params.base import Section, number, switch
from ..state import LAYERS, ContextField, State, StepContext
from .base import Column, Process


class SpilloverParams(Section):
    enabled: bool = switch()
    rate: float = number(1.0, 0.0, 10.0, "Overall spillover intensity: multiplies every layer's leakage rate.")
    social: float = number(0.004, 0.0, 1.0, "Leakage rate along social ties.")
    economic: float = number(0.01, 0.0, 1.0, "Leakage rate along economic ties.")
    knowledge: float = number(0.02, 0.0, 1.0, "Leakage rate along knowledge ties.")
    cross_generation: float = number(0.3, 0.0, 1.0, "Leakage from a higher generation, relative to the same one.")


VOLUME = ContextField("spillover_volume", float, "capability gained through involuntary spillovers this step", float)


class Spillover(Process):
    name = "spillover"
    section = "spillover"
    Params = SpilloverParams
    columns = (Column("spillover_volume", "float", "capability gained by all firms through involuntary spillovers in the step",
                      "learning"),)  # fmt: skip
    context = (VOLUME,)

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        if _one_call(state.n):  # every layer's inflow and the gains in one compiled call (compiled.spillover)
            openness = 1.0 - state.params.technology.appropriability
            if openness > 0:
                n = state.n
                pop = state.pop
                g = pop.view("generation")
                ctx.spillover_volume = spillover(
                    pop.view("capability"), g, pop.view("protection"), state.ceiling(g), pop.is_firm, openness,
                    self.p.cross_generation, [self.p.rate * getattr(self.p, layer) for layer in LAYERS],
                    [state.net[layer].csr(n) for layer in LAYERS])  # fmt: skip
            return
        # the gains capped and added, with their sum, in one compiled pass (compiled.spill_apply)
        found = self._inflow(state)
        if found is not None:
            a, g, inflow, best_gap, openness = found
            ctx.spillover_volume = spill_apply(inflow, best_gap, state.ceiling(g), a, state.pop.is_firm, openness)

    def step_numpy(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        """:meth:`step` with its gains in NumPy, one expression per line: the definition of ``spill_apply``."""
        found = self._inflow(state)
        if found is None:
            return
        a, g, inflow, best_gap, openness = found
        inflow *= openness
        headroom = np.maximum(0.999 * state.ceiling(g) - a, 0.0)
        inflow = np.minimum(np.minimum(inflow, best_gap), headroom)
        inflow[~state.pop.is_firm] = 0.0
        a += inflow
        ctx.spillover_volume = float(inflow.sum())

    def _inflow(self, state: State) -> tuple | None:
        """What each node could take in through every layer's ties, and the best gap it sees (None where the
        technology is closed): (capabilities, generations, inflow, best gap, openness)."""
        n = state.n
        pop = state.pop
        a = pop.view("capability")
        g = pop.view("generation")
        openness = 1.0 - state.params.technology.appropriability
        if openness <= 0:
            return None
        inflow = np.zeros(n)
        best_gap = np.zeros(n)
        leak = 1.0 - pop.view("protection")
        sources = spill_sources(a, g, leak)  # one row per node: what every layer's pass reads of a tie's source
        for layer in LAYERS:
            rate = self.p.rate * getattr(self.p, layer)
            adj = state.net[layer].csr(n)
            if rate <= 0 or adj.nnz == 0:
                continue
            spill(adj, a, g, rate, self.p.cross_generation, inflow, best_gap, leak, sources)
        return a, g, inflow, best_gap, openness

    def record(self, state: State, ctx: StepContext) -> dict[str, float]:
        return {"spillover_volume": ctx.spillover_volume}
