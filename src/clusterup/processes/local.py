"""Local innovation: incremental improvement on the firm's value-chain segment.

Success chance = ``success * R(rd) * support * rigidity`` where support grows with economic-tie
strength, knowledge ties (weighted by ``knowledge_support``) and ties to service platforms
(suppliers, customers, same-segment peers, platforms: innovation on one link of the value chain draws on
them, so a firm without them gets little support and a young cluster, whose ties are still mostly social
and whose revenues are small next to an own project's cost, imitates first) and rigidity
``(1 - w) + w * min(1, novelty / local.novelty_ref)`` falls as the knowledge a firm can reach homogenises
(lock-in). On success ``a += rate * a * (1 - a / ceiling(g))`` and the firm's knowledge specialises toward
its segment's domain.
"""

from __future__ import annotations

import numpy as np

from ..compiled import csr_dot, local_chance, local_gains, successes
from ..kernels import logistic_gain, rd_effect
from ..params.base import Section, number, switch
from ..state import ORG_KINDS, ContextField, Mode, State, StepContext
from .base import InnovationMode
from .market import innovation_rent
from .reach import REACH, reachable


class LocalParams(Section):
    enabled: bool = switch(desc="Local innovation is an open mode.")
    cost: float = number(0.15, 0.0, 1e9, "Cost of a local-innovation attempt.")
    success: float = number(0.7, 0.0, 1.0, "Success probability at full R&D and full support.")
    rate: float = number(0.25, 0.0, 10.0, "Logistic growth rate lambda of capability on success.")
    rd_half: float = number(0.5, 0.001, 100.0, "R&D propensity at which R&D gives half its effect.")
    rd_exponent: float = number(1.0, 0.001, 10.0, "Steepness of the R&D effect (Hill exponent).")
    support_base: float = number(0.2, 0.0, 1.0, "Support a firm has with no economic ties or platforms.")
    support_half: float = number(0.5, 0.001, 1e6, "Tie strength at which support is halfway to full.")
    knowledge_support: float = number(0.5, 0.0, 100.0, "Support per unit knowledge-tie strength, relative to economic.")
    novelty_weight: float = number(1.0, 0.0, 1.0, "How much success depends on reachable novelty (rigidity).")
    novelty_ref: float = number(0.03, 0.001, 2.0, "Reachable novelty at which novelty stops limiting local innovation.")
    specialisation: float = number(0.02, 0.0, 1.0, "How far a success moves knowledge toward the segment's domain.")


CHANCE = ContextField("local_chance", np.ndarray, "each slot's local-innovation success chance, as the mode choice saw it")


class LocalInnovation(InnovationMode):
    name = "local"
    section = "local"
    Params = LocalParams
    code = Mode.LOCAL
    context = InnovationMode.context + (REACH, CHANCE)

    def _compiled(self, state: State, ctx: StepContext | None, gain: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """The success chance per slot (and with ``gain``, the expected relative gain) in one compiled pass
        (:func:`~clusterup.compiled.local_chance`); the definition is :meth:`success_chance_numpy`."""
        n = state.n
        pop = state.pop
        _, novelty = reachable(state, ctx)
        knowledge = state.net["knowledge"]
        a = pop.view("capability") if gain else None
        ceil = state.ceiling(pop.view("generation")) if gain else None
        p = self.p
        return local_chance(
            knowledge.csr(n), pop.view("kind"), ORG_KINDS["platform"], state.net["economic"].strength(n),
            knowledge.strength(n), novelty, pop.view("rd"), a, ceil, success=p.success, rd_half=p.rd_half,
            rd_exponent=p.rd_exponent, support_base=p.support_base, support_half=p.support_half,
            knowledge_support=p.knowledge_support, novelty_weight=p.novelty_weight, novelty_ref=p.novelty_ref,
            rate=p.rate,
        )  # fmt: skip

    def success_chance(self, state: State, ctx: StepContext | None = None) -> np.ndarray:
        """Per slot, in one compiled pass; the definition is :meth:`success_chance_numpy`."""
        return self._compiled(state, ctx, False)[0]

    def success_chance_numpy(self, state: State, ctx: StepContext | None = None) -> np.ndarray:
        """The success chance in NumPy: the readable definition, and the oracle of the compiled pass."""
        n = state.n
        pop = state.pop
        knowledge = state.net["knowledge"]
        platform = (pop.view("kind") == ORG_KINDS["platform"]).astype(float)
        to_platforms = csr_dot(knowledge.csr(n), platform)
        ties = state.net["economic"].strength(n) + self.p.knowledge_support * knowledge.strength(n) + to_platforms
        support = self.p.support_base + (1 - self.p.support_base) * ties / (ties + self.p.support_half)
        _, novelty = reachable(state, ctx)
        w = self.p.novelty_weight
        rigidity = (1 - w) + w * np.minimum(1.0, novelty / self.p.novelty_ref)
        return self.p.success * rd_effect(pop.view("rd"), self.p.rd_half, self.p.rd_exponent) * support * rigidity

    def expected(self, state: State, ctx: StepContext) -> tuple[np.ndarray, np.ndarray]:
        chance, gain = self._compiled(state, ctx, True)
        ctx.local_chance = chance
        return gain, np.full(state.n, self.p.cost)

    def expected_numpy(self, state: State, ctx: StepContext) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`expected` in NumPy (the oracle of the compiled pass)."""
        pop = state.pop
        a = pop.view("capability")
        chance = self.success_chance_numpy(state, ctx)
        rel_gain = logistic_gain(a, state.ceiling(pop.view("generation")), self.p.rate) / np.where(a > 0, a, 1.0)
        return chance * rel_gain, np.full(state.n, self.p.cost)

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        # the successes with their rents, then the gains with the knowledge's specialisation: two compiled passes
        # (compiled.successes, compiled.local_gains); step_numpy is their definition and their oracle in the tests
        who = self.attempting(state)
        if who.size == 0:
            return
        chance = ctx.local_chance if ctx.local_chance is not None else self.success_chance(state, ctx)
        pop = state.pop
        i = successes(who, chance, rng.random(who.size), pop.rent, innovation_rent(state.params))
        ctx.successes[self.code] += i.size
        ctx.succeeded[self.code] = i
        if i.size == 0:
            return
        local_gains(i, state.ceiling(pop.generation[i]), pop.capability, pop.segment, pop.knowledge, rate=self.p.rate,
                    home_domains=state.params.init.home_domains, specialisation=self.p.specialisation)  # fmt: skip

    def step_numpy(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        """:meth:`step` in NumPy, one expression per line: the definition of its compiled passes."""
        who = self.attempting(state)
        if who.size == 0:
            return
        chance = ctx.local_chance if ctx.local_chance is not None else self.success_chance(state, ctx)
        ok = rng.random(who.size) < chance[who]
        i = who[ok]
        ctx.successes[self.code] += i.size
        ctx.succeeded[self.code] = i
        state.pop.rent[i] += innovation_rent(state.params)
        if i.size == 0:
            return
        pop = state.pop
        gain = logistic_gain(pop.capability[i], state.ceiling(pop.generation[i]), self.p.rate)
        pop.capability[i] += gain
        home = pop.segment[i] % state.params.init.home_domains
        k = pop.knowledge[i] * (1 - self.p.specialisation)
        k[np.arange(i.size), home] += self.p.specialisation
        pop.knowledge[i] = k
