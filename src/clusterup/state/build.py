"""The one builder of the initial state: from parameters and the ``init`` random stream, taking each
column from cluster data where the data gives it and drawing it otherwise.

Draws happen in one fixed order, whatever the data gives (a column the data gives is simply not drawn):

1. the outside world's first hot field, among the domains the cluster lacks;
2. organisations: the scenario's counts at random locations, or the data's table (locations drawn where
   it has none);
3. firms: places (town centres and memberships, or the data's regions or positions), positions around
   them, value-chain segments, capability (log-normal around ``init.mastery`` of the generation-0
   ceiling, or from a size proxy), knowledge profiles over the home domains, R&D propensity, cash;
4. the early-technology firms of path 2 (unless the data gives generations);
5. social ties within places and association memberships (unless the data gives ties), then pipelines.

So a scenario's initial state exported as data (:func:`clusterup.data.initial_data`) and read back is
the same state, and the run that follows is the same run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..kernels import sample_from_groups
from .firms import FIRM, ORG_KINDS, FieldSpec, Population
from .multiplex import LAYERS, Multiplex
from .world import State

if TYPE_CHECKING:
    from ..params import Params

_ORG_COUNTS = {"university": "universities", "institute": "institutes", "platform": "platforms", "association": "associations"}


@dataclass
class InitialData:
    """What cluster data fixes about the initial state, as arrays in table order; None where it is silent.

    Node rows number the organisations first, then the firms (the order of the data's tables); ties and
    pipelines refer to nodes by row."""

    firms: int
    capability: np.ndarray | None = None
    size: np.ndarray | None = None  # a size proxy, used where capability is not given
    segment: np.ndarray | None = None
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    town: np.ndarray | None = None  # region codes 0..towns-1
    towns: int | None = None
    generation: np.ndarray | None = None
    rd: np.ndarray | None = None
    wealth: np.ndarray | None = None
    knowledge: np.ndarray | None = None
    org_kind: np.ndarray | None = None  # None: the scenario's organisations
    org_knowledge: np.ndarray | None = None
    org_capacity: np.ndarray | None = None
    org_x: np.ndarray | None = None
    org_y: np.ndarray | None = None
    tie_rows: tuple[np.ndarray, np.ndarray] | None = None
    tie_weight: np.ndarray | None = None
    tie_layer: np.ndarray | None = None
    pipeline_rows: np.ndarray | None = None
    pipeline_strength: np.ndarray | None = None


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


def found_organisations(state: State, rng: np.random.Generator) -> dict[str, int]:
    """Found the organisations that ``state.params.organisations`` counts beyond those the cluster has (an
    intervention raised a count): each at a random place, with the organisations' knowledge profile and a
    capacity scaled to today's firms. Returns the number founded per kind."""
    params, pop = state.params, state.pop
    kinds = pop.view("kind")[pop.view("active")]
    founded = {}
    for kind, field in _ORG_COUNTS.items():
        missing = getattr(params.organisations, field) - int(np.sum(kinds == ORG_KINDS[kind]))
        if missing > 0:
            idx = pop.add(missing, ORG_KINDS[kind])
            pop.knowledge[idx] = org_profile(params)
            pop.capacity[idx] = org_capacity(params, int(pop.is_firm.sum()))
            pop.x[idx] = rng.random(missing)
            pop.y[idx] = rng.random(missing)
            founded[kind] = missing
    return founded


def _world(state: State, rng: np.random.Generator) -> None:
    k = state.params.init.domains
    home = min(state.params.init.home_domains, k)
    state.hot_field = int(rng.integers(home, k)) if k > home else 0
    state.external_knowledge = np.full(k, 1.0 / k)


def _organisations(state: State, data: InitialData, rng: np.random.Generator) -> np.ndarray:
    """Organisation slots (in the data's row order; the scenario's by kind when the data has none)."""
    params, pop = state.params, state.pop
    profile = org_profile(params)
    capacity = org_capacity(params, data.firms)
    if data.org_kind is None:
        for kind, field in _ORG_COUNTS.items():
            count = getattr(params.organisations, field)
            if count:
                idx = pop.add(count, ORG_KINDS[kind])
                pop.knowledge[idx] = profile
                pop.capacity[idx] = capacity
                pop.x[idx] = rng.random(count)
                pop.y[idx] = rng.random(count)
        return np.zeros(0, dtype=np.int64)
    m = data.org_kind.size
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    idx = pop.add(m, FIRM)
    pop.set_kind(idx, data.org_kind)
    pop.knowledge[idx] = data.org_knowledge if data.org_knowledge is not None else profile
    pop.capacity[idx] = data.org_capacity if data.org_capacity is not None else capacity
    if data.org_x is not None:
        pop.x[idx], pop.y[idx] = data.org_x, data.org_y
    else:
        pop.x[idx] = rng.random(m)
        pop.y[idx] = rng.random(m)
    return idx


def _places(state: State, idx: np.ndarray, data: InitialData, rng: np.random.Generator) -> np.ndarray:
    """Positions of the firms ``idx``; returns each firm's place (town or region) for its social ties."""
    init, pop = state.params.init, state.pop
    n = idx.size
    towns = data.towns if data.town is not None else init.towns
    town = data.town
    if data.x is not None:
        pop.x[idx], pop.y[idx] = data.x, data.y
        if town is None:  # places for drawn social ties: the nearest of `towns` centres spread over the firms
            centres = np.column_stack([pop.x[idx], pop.y[idx]])[rng.choice(n, min(towns, n), replace=False)]
            d2 = (pop.x[idx, None] - centres[None, :, 0]) ** 2 + (pop.y[idx, None] - centres[None, :, 1]) ** 2
            town = np.argmin(d2, axis=1)
        return town
    centres = 0.1 + 0.8 * rng.random((towns, 2))
    if town is None:
        town = rng.integers(0, towns, n)
    pop.x[idx] = np.clip(centres[town, 0] + init.town_spread * rng.standard_normal(n), 0, 1)
    pop.y[idx] = np.clip(centres[town, 1] + init.town_spread * rng.standard_normal(n), 0, 1)
    return town


def _capability(params: Params, generation: np.ndarray, data: InitialData, rng: np.random.Generator) -> np.ndarray:
    init = params.init
    t = params.technology
    if data.capability is not None:
        return data.capability
    ceiling = t.ceiling_base * t.ceiling_growth ** generation.astype(np.float64)
    if data.size is not None:
        a = ceiling * init.mastery * data.size / np.median(data.size)
        return np.clip(a, 1e-6 * ceiling, 0.9 * ceiling)
    ceiling0 = t.ceiling_base
    sigma = init.capability_sigma
    a = ceiling0 * init.mastery * np.exp(sigma * rng.standard_normal(data.firms) - sigma**2 / 2)
    return np.clip(a, 1e-6 * ceiling0, 0.9 * ceiling0)


def _early_technology(state: State, idx: np.ndarray, rng: np.random.Generator) -> None:
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


def _social_ties(state: State, idx: np.ndarray, town: np.ndarray, rng: np.random.Generator) -> None:
    """Kinship and place: about ``init.social_degree`` / 2 partners per firm from its own place, strength 1;
    each association tied to ``capacity`` random firms."""
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


def build_state(
    params: Params, rng: np.random.Generator, fields: Sequence[FieldSpec] = (), data: InitialData | None = None
) -> tuple[State, np.ndarray]:
    """The initial state, and the slots of the data's node rows (organisations, then firms)."""
    init = params.init
    data = data if data is not None else InitialData(firms=params.run.firms)
    n = data.firms
    k = init.domains
    home = min(init.home_domains, k)
    pop = Population(k, capacity=int(n * 1.5) + 16, fields=fields)
    state = State(params=params, pop=pop, net=Multiplex(), frontier=params.frontier.initial, initial_firms=n)
    _world(state, rng)
    org_slots = _organisations(state, data, rng)

    idx = pop.add(n, FIRM)
    town = _places(state, idx, data, rng)
    pop.segment[idx] = data.segment if data.segment is not None else rng.integers(0, init.segments, n)
    generation = data.generation if data.generation is not None else np.zeros(n, np.int64)
    pop.generation[idx] = generation
    pop.capability[idx] = _capability(params, generation, data, rng)
    if data.knowledge is not None:
        pop.knowledge[idx] = data.knowledge
    else:
        q = np.zeros((n, k))
        q[:, :home] = rng.dirichlet(np.full(home, init.knowledge_concentration), n)
        pop.knowledge[idx] = q
    pop.rd[idx] = data.rd if data.rd is not None else np.clip(init.rd + init.rd_sigma * rng.standard_normal(n), 0.0, 1.0)
    pop.wealth[idx] = data.wealth if data.wealth is not None else init.wealth
    if data.generation is None:
        _early_technology(state, idx, rng)

    slots = np.concatenate([org_slots, idx])
    if data.tie_rows is not None:
        src, dst = slots[data.tie_rows[0]], slots[data.tie_rows[1]]
        for name in LAYERS:
            sel = data.tie_layer == name
            if sel.any():
                state.net[name].add(src[sel], dst[sel], data.tie_weight[sel])
    else:
        _social_ties(state, idx, town, rng)
    if data.pipeline_rows is not None:
        pop.pipeline[slots[data.pipeline_rows]] = data.pipeline_strength
    return state, slots
