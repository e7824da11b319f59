"""Local innovation: incremental improvement on the firm's value-chain segment.

Success chance = ``success * R(rd) * support * rigidity`` where support grows with economic-tie
strength, knowledge ties (weighted by ``knowledge_support``) and ties to service platforms
(suppliers, customers, same-segment peers, platforms) and
rigidity ``(1 - w) + w * min(1, novelty / novelty_ref)`` falls as the knowledge a firm can reach
homogenises (lock-in). On success ``a += rate * a * (1 - a / ceiling(g))`` and the firm's knowledge
specialises toward its segment's domain.
"""

from __future__ import annotations

import numpy as np

from ..compiled import csr_dot
from ..state import ORG_KINDS, State
from .base import InnovationMode
from .kernels import logistic_gain, rd_effect
from .reach import reachable


class LocalInnovation(InnovationMode):
    name = "local"
    section = "local"
    code = 2

    def success_chance(self, state: State) -> np.ndarray:
        n = state.n
        pop = state.pop
        knowledge = state.net["knowledge"]
        platform = (pop.view("kind") == ORG_KINDS["platform"]).astype(float)
        to_platforms = csr_dot(knowledge.csr(n), platform)
        ties = state.net["economic"].strength(n) + self.p.knowledge_support * knowledge.strength(n) + to_platforms
        support = self.p.support_base + (1 - self.p.support_base) * ties / (ties + self.p.support_half)
        _, novelty = reachable(state)
        w = self.p.novelty_weight
        rigidity = (1 - w) + w * np.minimum(1.0, novelty / state.params.integrated.novelty_ref)
        return self.p.success * rd_effect(pop.view("rd"), self.p.rd_half, self.p.rd_exponent) * support * rigidity

    def expected(self, state: State) -> tuple[np.ndarray, np.ndarray]:
        pop = state.pop
        a = pop.view("capability")
        chance = self.success_chance(state)
        state.scratch["local_chance"] = (state.step, chance)
        rel_gain = logistic_gain(a, state.ceiling(pop.view("generation")), self.p.rate) / np.where(a > 0, a, 1.0)
        return chance * rel_gain, np.full(state.n, self.p.cost)

    def step(self, state: State, rng: np.random.Generator) -> None:
        who = self.attempting(state)
        if who.size == 0:
            return
        cached = state.scratch.get("local_chance")
        chance = cached[1] if cached is not None and cached[0] == state.step else self.success_chance(state)
        ok = rng.random(who.size) < chance[who]
        i = who[ok]
        state.flows.successes[self.code] += i.size
        state.flows.succeeded[self.code] = i
        state.pop.rent[i] += state.params.technology.appropriability
        if i.size == 0:
            return
        pop = state.pop
        gain = logistic_gain(pop.capability[i], state.ceiling(pop.generation[i]), self.p.rate)
        pop.capability[i] += gain
        home = pop.segment[i] % state.params.init.home_domains
        k = pop.knowledge[i] * (1 - self.p.specialisation)
        k[np.arange(i.size), home] += self.p.specialisation
        pop.knowledge[i] = k
