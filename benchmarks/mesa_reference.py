"""The clusterup baseline rules written the way a Mesa 3 user would write them (benchmark only).

    python benchmarks/mesa_reference.py --firms 2000 --steps 100 --seed 1 --out DIR [--scenario baseline]

One ``mesa.Agent`` per firm and per organisation, the model's processes as methods called in the same
order as clusterup's schedule, per-agent loops over ``model.agents`` / AgentSets, and three NetworkX
graphs for the social, economic and knowledge layers. Parameters are read from the same presets
(``clusterup.params``), so both implementations run the same rules; the random streams differ, so the
two agree in distribution, not run by run (``tests/test_mesa_reference.py`` checks that with KS tests).

Writes DIR/timeseries.parquet with the clusterup columns it computes (step, firm counts, capability,
gap, modes, generations, R&D, pipelines, per-layer ties, strength and share). Needs ``pip install
mesa`` (a benchmark extra, not a dependency of clusterup).
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from collections import Counter
from pathlib import Path

import mesa
import networkx as nx
import numpy as np
import pandas as pd

from clusterup.params import load_scenario

LAYERS = ("social", "economic", "knowledge")
MODES = ("none", "imitation", "local", "integrated")
ORG_KINDS = {"university": 1, "institute": 2, "platform": 3, "association": 4}


class Node(mesa.Agent):
    """What firms and organisations share: being a node of the three layers."""

    def neighbours(self, layer: str) -> list:
        g = self.model.net[layer]
        return list(g.neighbors(self)) if self in g else []

    def strength(self, layer: str) -> float:
        g = self.model.net[layer]
        return sum(d["weight"] for _, _, d in g.edges(self, data=True)) if self in g else 0.0

    def mastery(self) -> float:
        return 0.0  # organisations master no generation


class Org(Node):
    def __init__(self, model, kind: int, knowledge: np.ndarray, capacity: int) -> None:
        super().__init__(model)
        self.kind = kind
        self.knowledge = knowledge.copy()
        self.capacity = capacity
        self.x, self.y = model.random.random(), model.random.random()
        self.capability = 0.0
        self.generation = 0
        self.pipeline = 0.0


class Firm(Node):
    def __init__(self, model) -> None:
        super().__init__(model)
        self.kind = 0
        self.capability = 0.0
        self.generation = 0
        self.segment = 0
        self.knowledge = np.zeros(model.p.init.domains)
        self.rd = 0.0
        self.wealth = 0.0
        self.revenue = self.profit = self.profit_avg = 0.0
        self.rent = 0.0
        self.scale = 0.0  # 0 before its first market
        self.age = 0
        self.pipeline = 0.0
        self.x = self.y = 0.0
        self.mode = 0

    # -- helpers -----------------------------------------------------------------------------
    def ceiling(self, generation: int | None = None) -> float:
        t = self.model.p.technology
        return t.ceiling_base * t.ceiling_growth ** (self.generation if generation is None else generation)

    def mastery(self) -> float:
        return min(max(self.capability / self.ceiling(), 0.0), 1.0)

    # -- innovation modes: expected gains ------------------------------------------------------
    def reach(self):
        """Pool of reachable knowledge and novelty (as clusterup's reach.py)."""
        m = self.model
        omega = m.p.integrated.neighbour_reach
        pool = np.zeros_like(self.knowledge)
        weight = 0.0
        for layer, factor in (("knowledge", 1.0), ("social", omega), ("economic", omega)):
            if factor <= 0 or self not in m.net[layer]:
                continue
            for other, d in m.net[layer][self].items():
                pool += factor * d["weight"] * other.knowledge
                weight += factor * d["weight"]
        pool += self.pipeline * m.external
        weight += self.pipeline
        pool = pool / weight if weight > 0 else self.knowledge.copy()
        novelty = 0.5 * np.abs(self.knowledge - pool).sum() * weight / (weight + 1.0)
        return pool, novelty

    def imitation_model(self):
        """The neighbour maximising min(1, summed tie strength) x capability gap, among better ones."""
        best, best_score, best_w = None, 0.0, 0.0
        strength: dict = {}
        for layer in LAYERS:
            if self in self.model.net[layer]:
                for other, d in self.model.net[layer][self].items():
                    strength[other] = strength.get(other, 0.0) + d["weight"]
        for other, w in sorted(strength.items(), key=lambda kv: kv[0].unique_id):
            w = min(1.0, w)
            gap = other.capability - self.capability
            if gap > 0 and w * gap >= best_score and w * gap > 0:
                best, best_score, best_w = other, w * gap, w
        return best, best_w

    def expected_gains(self):
        m, p = self.model, self.model.p
        openness = 1.0 - p.technology.appropriability
        gains = {}
        # imitation
        model, w = self.imitation_model()
        self._imitation = (model, 0.0, 0.0)
        gain = 0.0
        if model is not None and model.kind == 0:
            absorb = (self.capability / model.capability) ** p.imitation.absorptive_exponent
            phi = p.imitation.rate * openness * absorb * w
            self._imitation = (model, phi, absorb)
            gain = phi * (model.capability - self.capability) / self.capability
            dg = model.generation - self.generation
            if dg > 0:
                gain += p.imitation.generation_transfer * openness * absorb * max(0.0, p.technology.ceiling_growth**dg
                                                                                    * p.imitation.switch_dip - 1.0)  # fmt: skip
        gains[1] = (p.imitation.success * gain, p.imitation.cost) if p.imitation.enabled else None
        # local
        self._pool, novelty = self.reach()
        ties = self.strength("economic") + p.local.knowledge_support * self.strength("knowledge")
        ties += sum(d["weight"] for o, d in (m.net["knowledge"][self].items() if self in m.net["knowledge"] else [])
                    if o.kind == ORG_KINDS["platform"])  # fmt: skip
        support = p.local.support_base + (1 - p.local.support_base) * ties / (ties + p.local.support_half)
        rigidity = (1 - p.local.novelty_weight) + p.local.novelty_weight * min(1.0, novelty / p.local.novelty_ref)
        self._local_chance = p.local.success * rd_effect(self.rd, p.local.rd_half, p.local.rd_exponent) * support * rigidity
        rel = p.local.rate * self.capability * max(0.0, 1.0 - self.capability / self.ceiling()) / self.capability
        gains[2] = (self._local_chance * rel, p.local.cost) if p.local.enabled else None
        # integrated
        self._novelty = novelty
        gains[3] = (
            (self.integrated_chance() * (p.technology.ceiling_growth - 1.0), p.integrated.cost) if p.integrated.enabled else None
        )
        return gains

    def integrated_chance(self) -> float:
        p = self.model.p.integrated
        ahead = any(nb.generation > self.generation for nb in self.neighbours("knowledge"))
        power = p.follower_power if ahead else p.mastery_power  # a partner already holds a higher generation
        chance = p.success * rd_effect(self.rd, p.rd_half, p.rd_exponent) * self.mastery() ** power
        chance *= min(1.0, self._novelty / p.novelty_ref)
        if p.capability_half > 0:
            chance *= self.capability / (self.capability + p.capability_half)
        if p.network_half > 0:
            k = self.strength("knowledge")
            chance *= k / (k + p.network_half)
        if p.pioneer_power > 0:  # a generation new to the cluster and to the world is far harder to create
            reach = p.pioneer_lead * self.model.frontier
            nxt = self.ceiling(self.generation + 1)
            if self.generation + 1 > self.model.top_generation and nxt > reach:
                chance *= (reach / nxt) ** p.pioneer_power
        return chance

    # -- per-agent steps -----------------------------------------------------------------------
    def choose_mode(self) -> None:
        m, p = self.model, self.model.p
        value = self.revenue * p.market.share_exponent * p.choice.horizon
        utilities = [0.0, -math.inf, -math.inf, -math.inf]
        costs = [0.0, 0.0, 0.0, 0.0]
        for code, gc in self.expected_gains().items():
            if gc is None:
                continue
            gain, cost = gc
            cost *= self.scale if self.scale > 0 else 1.0  # a larger firm's attempts cost more, in proportion
            if cost <= max(self.wealth, 0.0):
                utilities[code] = (value * gain - cost) / m.revenue_scale
                costs[code] = cost
        top = max(utilities)
        w = [math.exp(p.choice.intensity * (u - top)) if u > -math.inf else 0.0 for u in utilities]
        r = m.random.random() * sum(w)
        acc = 0.0
        self.mode = 3
        for code, wi in enumerate(w):
            acc += wi
            if r < acc:
                self.mode = code
                break
        self.wealth -= costs[self.mode]
        self.profit -= costs[self.mode]
        m.attempts[self.mode] += 1

    def imitate(self) -> None:
        m, p = self.model, self.model.p
        model, phi, absorb = self._imitation
        if model is None or model.kind != 0 or m.random.random() >= p.imitation.success:
            return
        m.successes[1] += 1
        openness = 1.0 - p.technology.appropriability
        a_old = self.capability
        if model.generation > self.generation and m.random.random() < p.imitation.generation_transfer * openness * absorb:
            self.capability = p.imitation.switch_dip * a_old
            self.generation = model.generation
        else:
            moved = min(a_old + phi * (model.capability - a_old), 0.999 * self.ceiling())
            self.capability = max(moved, a_old)
        self.knowledge = self.knowledge + p.imitation.knowledge_pull * (model.knowledge - self.knowledge)

    def kept_rent(self) -> float:
        """Share of an innovation's value its innovator keeps: rent_share x H(a) / H(0.5), H(a) = a^n / (a^n + h^n)."""
        p = self.model.p
        a, n, h = p.technology.appropriability, p.market.rent_power, p.market.rent_half
        hill = a**n / (a**n + h**n)
        return min(1.0, p.market.rent_share * (hill / (0.5**n / (0.5**n + h**n))))

    def innovate_locally(self) -> None:
        m, p = self.model, self.model.p
        if m.random.random() >= self._local_chance:
            return
        m.successes[2] += 1
        m.succeeded[2].add(self)
        self.rent += self.kept_rent()
        self.capability += p.local.rate * self.capability * max(0.0, 1.0 - self.capability / self.ceiling())
        home = self.segment % p.init.home_domains
        self.knowledge = self.knowledge * (1 - p.local.specialisation)
        self.knowledge[home] += p.local.specialisation

    def innovate_integrated(self) -> None:
        m, p = self.model, self.model.p
        if m.random.random() >= self.integrated_chance():
            return
        m.successes[3] += 1
        m.succeeded[3].add(self)
        self.rent += self.kept_rent()
        self.generation += 1
        self.capability *= p.integrated.dip
        nu = p.integrated.novelty_gain
        self.knowledge = (1 - nu) * self.knowledge + nu * self._pool


def rd_effect(rd: float, half: float, exponent: float) -> float:
    rn = rd**exponent
    denom = rn + half**exponent
    return rn / denom if denom > 0 else 0.0


class ClusterModel(mesa.Model):
    def __init__(self, scenario: str = "baseline", firms: int = 300, seed: int = 1) -> None:
        super().__init__(seed=seed)
        self.p = p = load_scenario(scenario, {"run.firms": firms})
        self.rng_np = np.random.default_rng(seed)
        self.net = {layer: nx.Graph() for layer in LAYERS}
        self.frontier = p.frontier.initial
        self.initial_firms = firms
        self.step_no = 0
        k, home = p.init.domains, min(p.init.home_domains, p.init.domains)
        self.hot_field = self.random.randrange(home, k) if k > home else 0
        self.external = np.full(k, 1.0 / k)
        profile = np.zeros(k)
        profile[:home] = 1.0 / home
        novel = np.zeros(k)
        if k > home:
            novel[home:] = 1.0 / (k - home)
        org_profile = (1 - p.organisations.novelty) * profile + p.organisations.novelty * (novel if k > home else profile)
        capacity = max(1, math.ceil(p.organisations.capacity * firms / 300))
        for kind, field in (("university", "universities"), ("institute", "institutes"), ("platform", "platforms"),
                            ("association", "associations")):  # fmt: skip
            for _ in range(getattr(p.organisations, field)):
                Org(self, ORG_KINDS[kind], org_profile, capacity)
        centres = [(0.1 + 0.8 * self.random.random(), 0.1 + 0.8 * self.random.random()) for _ in range(p.init.towns)]
        towns: dict[int, list[Firm]] = {}
        sigma = p.init.capability_sigma
        for _ in range(firms):
            f = Firm(self)
            t = self.random.randrange(p.init.towns)
            towns.setdefault(t, []).append(f)
            f.town = t
            f.x = min(max(self.random.gauss(centres[t][0], p.init.town_spread), 0.0), 1.0)
            f.y = min(max(self.random.gauss(centres[t][1], p.init.town_spread), 0.0), 1.0)
            f.segment = self.random.randrange(p.init.segments)
            c0 = p.technology.ceiling_base
            f.capability = min(
                max(c0 * p.init.mastery * math.exp(sigma * self.random.gauss(0, 1) - sigma**2 / 2), 1e-6 * c0), 0.9 * c0
            )
            f.knowledge[:home] = self.rng_np.dirichlet(np.full(home, p.init.knowledge_concentration))
            f.rd = min(max(self.random.gauss(p.init.rd, p.init.rd_sigma), 0.0), 1.0)
            f.wealth = p.init.wealth
        all_firms = self.firms()
        median = float(np.median([f.capability for f in all_firms]))
        for f in self.random.sample(all_firms, min(p.init.early_technology_firms, firms)):
            f.generation = 1
            f.capability = p.init.early_technology_capability * median
        per_firm = p.init.social_degree / 2
        whole = math.floor(per_firm)
        for f in all_firms:
            n_ties = whole + (1 if self.random.random() < per_firm - whole else 0)
            for _ in range(n_ties):
                other = self.random.choice(towns[f.town])
                if other is not f:
                    self.tie("social", f, other, 1.0)
        for org in self.orgs(ORG_KINDS["association"]):
            for member in self.random.sample(all_firms, min(org.capacity, firms)):
                self.tie("social", org, member, 1.0)
        self.rows: list[dict] = []
        self.attempts = [0, 0, 0, 0]
        self.successes = [0, 0, 0, 0]
        self.succeeded = {2: set(), 3: set()}
        self.entries = self.exits = 0
        self.record()

    # -- helpers -------------------------------------------------------------------------------
    def firms(self) -> list[Firm]:
        return list(self.agents_by_type[Firm]) if Firm in self.agents_by_type else []

    def orgs(self, kind: int | None = None) -> list[Org]:
        orgs = list(self.agents_by_type[Org]) if Org in self.agents_by_type else []
        return [o for o in orgs if kind is None or o.kind == kind]

    def tie(self, layer: str, a, b, w: float) -> None:
        if a is b:
            return
        g = self.net[layer]
        if g.has_edge(a, b):
            g[a][b]["weight"] = max(g[a][b]["weight"], w)
        else:
            g.add_edge(a, b, weight=w)

    def decay_and_drop(self, layer: str, factor_of, floor: float) -> None:
        g = self.net[layer]
        for a, b, d in list(g.edges(data=True)):
            d["weight"] = factor_of(a, b, d["weight"])
            if d["weight"] < floor:
                g.remove_edge(a, b)

    # -- the step: clusterup's schedule ---------------------------------------------------------
    def step(self) -> None:
        p = self.p
        self.attempts = [0, 0, 0, 0]
        self.successes = [0, 0, 0, 0]
        self.succeeded = {2: set(), 3: set()}
        self.entries = self.exits = 0
        self.spillover_volume = 0.0
        firms = self.agents_by_type[Firm] if Firm in self.agents_by_type else mesa.AgentSet([], random=self.random)
        for f in firms:
            f.age += 1
        if p.market.enabled:
            self.market()
        revenue = [f.revenue for f in firms]
        self.revenue_scale = float(np.mean(revenue)) if revenue and np.mean(revenue) > 0 else 1.0
        for f in firms:
            f.mode = 0
        self.top_generation = max((f.generation for f in firms), default=0)  # as it stands when firms choose
        if p.choice.enabled:
            firms.shuffle_do("choose_mode")
        firms.select(lambda f: f.mode == 1).do("imitate")
        firms.select(lambda f: f.mode == 2).do("innovate_locally")
        firms.select(lambda f: f.mode == 3).do("innovate_integrated")
        for name in ("spillover", "rd_learning", "knowledge", "obsolescence", "social", "economic", "knowledge_ties",
                     "pipelines", "demography", "frontier"):  # fmt: skip
            if getattr(p, name).enabled:
                getattr(self, f"process_{name}")()
        self.step_no += 1
        self.record()

    def market(self) -> None:
        p = self.p.market
        firms = self.firms()
        if not firms:
            return
        rel = float(np.mean([f.capability for f in firms])) / self.frontier
        level = min(p.saturation, rel**p.elasticity)
        demand = p.demand * self.initial_firms * level
        for f in firms:
            f.rent *= 1.0 - p.rent_decay
        # scale: 1 at the first market, entrants at entrant_scale of the mean (their cash in proportion), mean 1
        old = [f.scale for f in firms if f.scale > 0]
        for f in firms:
            if f.scale <= 0:
                if old:
                    f.scale = p.entrant_scale * float(np.mean(old))
                    f.wealth *= p.entrant_scale
                else:
                    f.scale = 1.0
        mean_scale = float(np.mean([f.scale for f in firms]))
        for f in firms:
            f.scale /= mean_scale
        weights = [f.capability**p.share_exponent * (1.0 + p.rent_premium * f.rent) * f.scale for f in firms]
        total = sum(weights)
        for f, w in zip(firms, weights, strict=True):
            f.revenue = demand * w / total if total > 0 else demand / len(firms)
            if p.rent_shield > 0 and 0 < level < 1:  # a rent keeps part of the demand a lagging cluster loses
                f.revenue *= 1.0 + min(1.0, p.rent_shield * f.rent) * (1.0 - level) / level
            f.profit = f.revenue - p.fixed_cost * f.scale - p.rd_cost * f.rd * f.revenue
            f.wealth += (1.0 - p.payout) * f.profit if f.profit > 0 else f.profit  # owners take their share
            growth = p.scale_shock * self.random.gauss(0, 1) - 0.5 * p.scale_shock**2  # Gibrat; no expansion at a loss
            f.scale *= math.exp(min(growth, 0.0) if f.profit < 0 else growth)

    def process_spillover(self) -> None:
        p = self.p.spillover
        openness = 1.0 - self.p.technology.appropriability
        if openness <= 0:
            return
        old = {f: f.capability for f in self.firms()}
        for f in old:
            inflow, best_gap = 0.0, 0.0
            for layer in LAYERS:
                rate = p.rate * getattr(p, layer)
                if rate <= 0 or f not in self.net[layer]:
                    continue
                for other, d in self.net[layer][f].items():
                    a_other = old.get(other, other.capability)
                    gap = max(a_other - old[f], 0.0)
                    inflow += rate * d["weight"] * gap * (1.0 if other.generation == f.generation else p.cross_generation)
                    best_gap = max(best_gap, gap)
            inflow *= openness
            inflow = min(inflow, best_gap, max(0.999 * f.ceiling() - old[f], 0.0))
            f.capability += inflow
            self.spillover_volume += inflow

    def process_rd_learning(self) -> None:
        p = self.p.rd_learning
        firms = self.firms()
        for f in firms:
            f.profit_avg = (1 - p.memory) * f.profit_avg + p.memory * f.profit
        old_rd = {f: f.rd for f in firms}
        old_avg = {f: f.profit_avg for f in firms}
        for f in firms:
            if self.random.random() >= p.review:
                continue
            neigh = list(dict.fromkeys(o for layer in LAYERS for o in f.neighbours(layer)))  # in tie order, not by id
            peers = []
            for _ in range(p.peers):
                o = self.random.choice(neigh) if neigh else None
                peers.append(o if o is not None and o.kind == 0 else self.random.choice(firms))
            peer = max(peers, key=lambda o: old_avg[o] / (o.scale or 1.0))  # profit per unit of scale
            rd = f.rd
            if old_avg[peer] / (peer.scale or 1.0) > old_avg[f] / (f.scale or 1.0):
                rd = rd + p.imitation * (old_rd[peer] - rd)
            f.rd = min(max(rd + p.mutation * self.random.gauss(0, 1), p.minimum), 1.0)

    def process_knowledge(self) -> None:
        p = self.p.knowledge
        g = self.net["knowledge"]
        old = {a: a.knowledge.copy() for a in list(self.agents)}
        for f in self.firms():
            q = old[f]
            new = q.copy()
            if f in g and g.degree(f):
                weight = sum(d["weight"] for _, _, d in g.edges(f, data=True))
                target = sum(d["weight"] * old[o] for o, d in g[f].items()) / weight
                new = q + p.drift * min(1.0, weight) * (target - q)
            new = new + p.pipeline_injection * f.pipeline * (self.external - new)
            s = new.sum()
            f.knowledge = new / s if s > 0 else np.full_like(new, 1.0 / new.size)

    def process_obsolescence(self) -> None:
        p = self.p.obsolescence
        firms = self.firms()
        gens = Counter(f.generation for f in firms)  # firms per generation, counted once a step
        for f in firms:
            above = sum(count for g, count in gens.items() if g > f.generation) / len(firms)
            rate = p.rate * (1.0 - p.rd_maintenance * rd_effect(f.rd, p.rd_half, p.rd_exponent)) + p.rate * p.generation_lag * above
            f.capability *= 1.0 - min(rate, 0.99)

    def process_social(self) -> None:
        p = self.p.social
        assoc = set(self.orgs(ORG_KINDS["association"]))
        econ = self.net["economic"]

        def social_weight(a, b, w):  # trade crowds out the social ties it does not run along
            if a in assoc or b in assoc:
                return 1.0
            rate = p.decay
            if p.crowding > 0 and not econ.has_edge(a, b):
                trade = sum(econ.degree(x, weight="weight") if x in econ else 0.0 for x in (a, b))
                rate *= 1.0 + p.crowding * 0.5 * trade
            return w * (1.0 - min(rate, 1.0))

        self.decay_and_drop("social", social_weight, p.floor)
        firms = self.firms()
        if len(firms) < 2:
            return
        for f in firms:
            if self.random.random() < p.proximity:
                cands = [self.random.choice(firms) for _ in range(5)]
                d = [math.hypot(c.x - f.x, c.y - f.y) if c is not f else math.inf for c in cands]
                best = int(np.argmin(d))
                if d[best] < p.radius:
                    self.tie("social", f, cands[best], 1.0)
        for f in firms:
            if self.random.random() < p.triadic:
                n1 = f.neighbours("social")
                if n1:
                    j = self.random.choice(n1)
                    n2 = j.neighbours("social")
                    if n2:
                        k = self.random.choice(n2)
                        if k is not f and k.kind == 0:
                            self.tie("social", f, k, 0.5)
        for org in assoc:
            members = org.neighbours("social")
            spare = org.capacity - len(members)
            if spare > 0:
                for _ in range(min(spare, 1 + int(self.rng_np.poisson(1.0)))):
                    self.tie("social", org, self.random.choice(firms), 1.0)
            pairs = int(self.rng_np.poisson(p.association * len(members)))
            if pairs and len(members) > 1:
                for _ in range(pairs):
                    self.tie("social", self.random.choice(members), self.random.choice(members), 0.5)

    def process_economic(self) -> None:
        p = self.p.economic
        self.decay_and_drop("economic", lambda a, b, w: w + p.adjustment * (min(a.mastery(), b.mastery()) - w), p.floor)
        firms = self.firms()
        if len(firms) < 2:
            return
        by_segment: dict[int, list[Firm]] = {}
        for f in firms:
            by_segment.setdefault(f.segment, []).append(f)
        segments = self.p.init.segments
        g = self.net["economic"]
        for f in firms:
            deg = g.degree(f) if f in g else 0
            if not (deg < p.ties_per_mastery * f.mastery() and self.random.random() < p.formation):
                continue
            step = 1 if self.random.random() < 0.5 else -1
            want = f.segment + step
            if want < 0 or want >= segments:
                want = f.segment - step
            want = min(max(want, 0), segments - 1)
            pool = by_segment.get(want, [])
            if not pool:
                continue
            best, best_score = None, 0.0
            for _ in range(p.candidates):
                c = self.random.choice(pool)
                if c is f or g.has_edge(f, c):
                    continue
                score = c.mastery() * (1.0 + p.embeddedness * self.net["social"].has_edge(f, c))
                if score > best_score:
                    best, best_score = c, score
            if best is not None:
                self.tie("economic", f, best, min(f.mastery(), best.mastery()))

    def process_knowledge_ties(self) -> None:
        p = self.p.knowledge_ties
        boost: dict = {}
        for code, amount in ((2, p.local_reinforcement), (3, p.reinforcement)):
            for f in self.succeeded[code]:
                boost[f] = max(boost.get(f, 0.0), amount)

        def reinforce(a, b, w):
            used = max(boost.get(a, 0.0), boost.get(b, 0.0))
            return min(1.0, w + used) if used > 0 else w * (1 - p.decay)

        self.decay_and_drop("knowledge", reinforce, p.floor)
        firms = self.firms()
        integ = [f for f in firms if f.mode == 3]
        local = [f for f in firms if f.mode == 2 and self.random.random() < p.local_rate]
        for group, partners in ((integ, p.partners), (local, 1)):
            for f in group:
                self.form_knowledge_ties(f, partners)
        g = self.net["knowledge"]
        for org in self.orgs():
            if org in g and g.degree(org) > org.capacity:
                edges = sorted(g.edges(org, data=True), key=lambda e: e[2]["weight"])
                for a, b, _ in edges[: g.degree(org) - org.capacity]:
                    g.remove_edge(a, b)

    def form_knowledge_ties(self, f: Firm, partners: int) -> None:
        p = self.p.knowledge_ties
        if partners == 0:
            return
        neigh = list(dict.fromkeys(o for layer in ("social", "economic") for o in f.neighbours(layer)))  # in tie order
        cands = [self.random.choice(neigh) for _ in range(p.candidates)] if neigh else []
        g = self.net["knowledge"]
        open_orgs = [o for o in self.orgs() if o.kind in (1, 2, 3) and (g.degree(o) if o in g else 0) < o.capacity]
        if open_orgs:
            cands += [self.random.choice(open_orgs) for _ in range(2)]
        scores = {}
        for c in cands:
            if c is f or c in scores:
                continue
            d = 0.5 * np.abs(f.knowledge - c.knowledge).sum()
            quality = 0.5 + c.mastery() if c.kind == 0 else 1.5
            scores[c] = 4.0 * d * (1.0 - d) * quality
        for c, s in sorted(scores.items(), key=lambda kv: -kv[1])[:partners]:
            if s > 0:
                self.tie("knowledge", f, c, p.initial)

    def process_pipelines(self) -> None:
        p = self.p.pipelines
        for f in self.firms():
            pipe = f.pipeline * (1.0 - p.decay)
            if self.random.random() < min(1.0, p.rate * f.mastery() ** p.capability_power * (1.0 + p.subsidy)):
                pipe = 1.0
            f.pipeline = pipe if pipe >= p.floor else 0.0

    def process_demography(self) -> None:
        p = self.p.demography
        firms = self.firms()
        if not firms:
            return
        mean_a = float(np.mean([f.capability for f in firms]))
        for f in firms:
            if f.wealth < p.exit_wealth or f.capability < p.exit_gap * mean_a:
                for layer in LAYERS:
                    if f in self.net[layer]:
                        self.net[layer].remove_node(f)
                f.remove()
                self.exits += 1
        firms = self.firms()
        if not firms:
            return
        revenue = sum(f.revenue for f in firms)
        margin = sum(f.profit for f in firms) / revenue if revenue > 0 else 0.0
        count = int(self.rng_np.poisson(len(firms) * (p.entry_rate * max(margin, 0.0) + p.newcomer_rate)))
        self.entries = count
        merit = list(itertools.accumulate(max(f.profit_avg, 0.0) + 1e-12 for f in firms))  # spin-off parents by merit
        init = self.p.init
        for _ in range(count):
            spin = self.random.random() < p.spinoff_share
            parent = self.random.choices(firms, cum_weights=merit)[0] if spin else self.random.choice(firms)
            e = Firm(self)
            e.capability = p.entrant_capability * parent.capability
            e.generation = parent.generation
            e.knowledge = parent.knowledge.copy()
            e.rd = parent.rd
            e.wealth = p.entrant_wealth
            e.segment = parent.segment if spin else self.random.randrange(init.segments)
            spread = init.town_spread if spin else 0.3
            e.x = min(max(parent.x + spread * self.random.gauss(0, 1), 0.0), 1.0)
            e.y = min(max(parent.y + spread * self.random.gauss(0, 1), 0.0), 1.0)
            self.tie("social", e, parent, 1.0 if spin else 0.5)
            friends = parent.neighbours("social")
            for _ in range(p.entrant_ties - 1):
                if friends:
                    self.tie("social", e, self.random.choice(friends), 0.5)

    def process_frontier(self) -> None:
        p = self.p.frontier
        self.frontier *= 1.0 + p.growth
        if self.random.random() < p.field_change:
            self.hot_field = self.random.randrange(self.external.size)
        self.external *= 1.0 - p.knowledge_drift
        self.external[self.hot_field] += p.knowledge_drift
        for org in self.orgs():
            org.knowledge = org.knowledge + p.organisation_renewal * (self.external - org.knowledge)

    # -- recording -------------------------------------------------------------------------------
    def record(self) -> None:
        firms = self.firms()
        a = np.array([f.capability for f in firms]) if firms else np.zeros(0)
        g = np.array([f.generation for f in firms]) if firms else np.zeros(0, int)
        row = {"step": self.step_no, "n_firms": len(firms), "n_entries": self.entries, "n_exits": self.exits,
               "cap_mean": float(a.mean()) if a.size else 0.0, "cap_median": float(np.median(a)) if a.size else 0.0,
               "cap_max": float(a.max()) if a.size else 0.0, "cap_total": float(a.sum()),
               "cap_rel_frontier": float(a.mean() / self.frontier) if a.size else 0.0, "frontier": self.frontier,
               "gap_cv": float(a.std() / a.mean()) if a.size and a.mean() > 0 else 0.0,
               "gen_max": int(g.max()) if g.size else 0, "gen_mean": float(g.mean()) if g.size else 0.0,
               "rd_mean": float(np.mean([f.rd for f in firms])) if firms else 0.0,
               "spillover_volume": getattr(self, "spillover_volume", 0.0),
               "n_pipelines": sum(1 for f in firms if f.pipeline > 0), "n_orgs": len(self.orgs())}  # fmt: skip
        total_attempts = sum(self.attempts[1:])
        for code, mode in enumerate(MODES[1:], start=1):
            row[f"attempts_{mode}"] = self.attempts[code]
            row[f"success_{mode}"] = self.successes[code]
            row[f"share_{mode}"] = self.attempts[code] / total_attempts if total_attempts else 0.0
        strengths = {layer: sum(d["weight"] for _, _, d in self.net[layer].edges(data=True)) for layer in LAYERS}
        total = sum(strengths.values())
        n_nodes = len(self.agents)
        for layer in LAYERS:
            ties = self.net[layer].number_of_edges()
            row[f"{layer}_ties"] = ties
            row[f"{layer}_mean_degree"] = 2 * ties / n_nodes if n_nodes else 0.0
            row[f"{layer}_strength"] = strengths[layer]
            row[f"{layer}_share"] = strengths[layer] / total if total > 0 else 0.0
        self.rows.append(row)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


def run(scenario: str, firms: int, steps: int, seed: int, timings: dict | None = None) -> tuple[pd.DataFrame, float]:
    """Run and return (time series, wall seconds); ``timings`` (if given) receives the build time and the
    number of steps done."""
    t0 = time.perf_counter()
    model = ClusterModel(scenario, firms, seed)
    built = time.perf_counter()
    done = 0
    for _ in range(steps):
        if not model.firms():
            break
        model.step()
        done += 1
    wall = time.perf_counter() - t0
    if timings is not None:
        timings.update(build_s=built - t0, steps=done)
    return model.frame(), wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firms", type=int, default=300)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    ts, wall = run(a.scenario, a.firms, a.steps, a.seed)
    a.out.mkdir(parents=True, exist_ok=True)
    ts.to_parquet(a.out / "timeseries.parquet", index=False)
    print(f"mesa reference: {a.scenario}, {a.firms} firms x {a.steps} steps in {wall:.1f} s -> {a.out}")


if __name__ == "__main__":
    main()
