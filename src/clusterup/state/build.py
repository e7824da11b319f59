"""Build the initial state from parameters and the ``init`` random stream."""

from __future__ import annotations

import math

import numpy as np

from ..params import Params
from ..processes.kernels import sample_from_groups
from .firms import FIRM, ORG_KINDS, Population
from .multiplex import Multiplex
from .world import State

_ORG_COUNTS = {"university": "universities", "institute": "institutes", "platform": "platforms", "association": "associations"}


def build_state(params: Params, rng: np.random.Generator) -> State:
    init = params.init
    n = params.run.firms
    k = init.domains
    home = min(init.home_domains, k)
    orgs = params.organisations
    pop = Population(k, capacity=int(n * 1.5) + 16)
    state = State(params=params, pop=pop, net=Multiplex(), frontier=params.frontier.initial, initial_firms=n)
    # the outside world: broad, leaning toward a first hot field outside the cluster's home domains
    state.hot_field = int(rng.integers(home, k)) if k > home else 0
    external = np.full(k, 1.0 / k)
    state.external_knowledge = external

    # supporting organisations: broad profiles, rich in the domains the cluster lacks
    home_profile = np.zeros(k)
    home_profile[:home] = 1.0 / home
    novel = np.zeros(k)
    if k > home:
        novel[home:] = 1.0 / (k - home)
    org_profile = (1 - orgs.novelty) * home_profile + orgs.novelty * (novel if k > home else home_profile)
    capacity = max(1, math.ceil(orgs.capacity * n / 300))
    for kind, field in _ORG_COUNTS.items():
        count = getattr(orgs, field)
        if count:
            idx = pop.add(count, ORG_KINDS[kind])
            pop.knowledge[idx] = org_profile
            pop.capacity[idx] = capacity
            pop.x[idx] = rng.random(count)
            pop.y[idx] = rng.random(count)

    # firms: clustered in towns, similar and weak at first
    idx = pop.add(n, FIRM)
    centres = 0.1 + 0.8 * rng.random((init.towns, 2))
    town = rng.integers(0, init.towns, n)
    pop.x[idx] = np.clip(centres[town, 0] + init.town_spread * rng.standard_normal(n), 0, 1)
    pop.y[idx] = np.clip(centres[town, 1] + init.town_spread * rng.standard_normal(n), 0, 1)
    pop.segment[idx] = rng.integers(0, init.segments, n)
    ceiling0 = params.technology.ceiling_base
    sigma = init.capability_sigma
    a = ceiling0 * init.mastery * np.exp(sigma * rng.standard_normal(n) - sigma**2 / 2)
    pop.capability[idx] = np.clip(a, 1e-6 * ceiling0, 0.9 * ceiling0)
    q = np.zeros((n, k))
    q[:, :home] = rng.dirichlet(np.full(home, init.knowledge_concentration), n)
    pop.knowledge[idx] = q
    pop.rd[idx] = np.clip(init.rd + init.rd_sigma * rng.standard_normal(n), 0.0, 1.0)
    pop.wealth[idx] = init.wealth
    early = min(init.early_technology_firms, n)
    if early:
        chosen = idx[rng.choice(n, early, replace=False)]
        pop.generation[chosen] = 1
        pop.capability[chosen] = init.early_technology_capability * np.median(pop.capability[idx])

    # social ties: kinship and place, within towns
    per_firm = init.social_degree / 2
    draws = int(math.floor(per_firm)) + 1
    u = rng.random((n, draws))
    pick = sample_from_groups(town, town, u)
    col = np.arange(draws)[None, :]
    whole = math.floor(per_firm)
    use = (col < whole) | ((col == whole) & (rng.random((n, 1)) < per_firm - whole))
    src = np.broadcast_to(idx[:, None], pick.shape)
    ok = use & (pick >= 0)
    state.net["social"].add(src[ok], idx[np.maximum(pick, 0)][ok], 1.0)
    assoc = np.flatnonzero(pop.view("kind") == ORG_KINDS["association"])
    for org in assoc:
        members = idx[rng.choice(n, min(int(pop.capacity[org]), n), replace=False)]
        state.net["social"].add(np.full(members.size, org), members, 1.0)
    return state
