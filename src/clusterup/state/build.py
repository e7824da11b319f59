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


def start_world(state: State, rng: np.random.Generator) -> None:
    """The outside world: broad knowledge, leaning toward a first hot field outside the cluster's home
    domains (the first draw of the ``init`` stream)."""
    k = state.params.init.domains
    home = min(state.params.init.home_domains, k)
    state.hot_field = int(rng.integers(home, k)) if k > home else 0
    state.external_knowledge = np.full(k, 1.0 / k)


def org_profile(params: Params) -> np.ndarray:
    """Supporting organisations' knowledge: broad, rich in the domains the cluster lacks."""
    k = params.init.domains
    home = min(params.init.home_domains, k)
    home_profile = np.zeros(k)
    home_profile[:home] = 1.0 / home
    novel = np.zeros(k)
    if k > home:
        novel[home:] = 1.0 / (k - home)
    nu = params.organisations.novelty
    return (1 - nu) * home_profile + nu * (novel if k > home else home_profile)


def org_capacity(params: Params, firms: int) -> int:
    """Ties one organisation can serve, scaled with the number of firms."""
    return max(1, math.ceil(params.organisations.capacity * firms / 300))


def add_scenario_organisations(state: State, rng: np.random.Generator, profile: np.ndarray, capacity: int) -> None:
    """The scenario's organisation counts, at random locations."""
    pop = state.pop
    for kind, field in _ORG_COUNTS.items():
        count = getattr(state.params.organisations, field)
        if count:
            idx = pop.add(count, ORG_KINDS[kind])
            pop.knowledge[idx] = profile
            pop.capacity[idx] = capacity
            pop.x[idx] = rng.random(count)
            pop.y[idx] = rng.random(count)


def seed_early_technology(state: State, idx: np.ndarray, rng: np.random.Generator) -> None:
    """``init.early_technology_firms`` of the firms ``idx`` start one generation ahead (path 2), at
    ``init.early_technology_capability`` x the median firm's capability, with
    ``init.early_technology_wealth`` x their cash."""
    init = state.params.init
    pop = state.pop
    early = min(init.early_technology_firms, idx.size)
    if early:
        chosen = idx[rng.choice(idx.size, early, replace=False)]
        pop.generation[chosen] = 1
        pop.capability[chosen] = init.early_technology_capability * np.median(pop.capability[idx])
        pop.wealth[chosen] *= init.early_technology_wealth


def draw_social_ties(state: State, idx: np.ndarray, town: np.ndarray, rng: np.random.Generator) -> None:
    """Kinship and place: about ``init.social_degree`` / 2 partners per firm from its own town (or
    region), strength 1; each association tied to ``capacity`` random firms."""
    init = state.params.init
    pop = state.pop
    n = idx.size
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


def build_state(params: Params, rng: np.random.Generator) -> State:
    init = params.init
    n = params.run.firms
    k = init.domains
    home = min(init.home_domains, k)
    pop = Population(k, capacity=int(n * 1.5) + 16)
    state = State(params=params, pop=pop, net=Multiplex(), frontier=params.frontier.initial, initial_firms=n)
    start_world(state, rng)
    add_scenario_organisations(state, rng, org_profile(params), org_capacity(params, n))

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
    seed_early_technology(state, idx, rng)
    draw_social_ties(state, idx, town, rng)
    return state
