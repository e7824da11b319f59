"""The initial state from cluster data, and the initial state of a scenario as data (the round trip).

What the tables give is used as given; what they leave out is drawn by the same rules (and the same
``init`` random stream) as a scenario's own initial state (``state/build.py``):

- organisations: the ``organisations`` table replaces the scenario's counts; without it the
  scenario's organisations are created as usual;
- positions: ``x``/``y``; else ``region`` (firms of one region around a random centre); else towns;
- capability: ``capability``; else ``size`` scaled so that the median firm has the scenario's initial
  mastery (``init.mastery x technology.ceiling_base``), clipped to (0, 0.9 x ceiling];
- ties: the ``ties`` table is the whole initial network; without it, social ties within regions/towns
  and association memberships are drawn as usual.

The first draw of the ``init`` stream is the outside world's hot field in both builders, so a state
exported with :func:`initial_data` and rebuilt with :func:`build_state_from_data` is identical and the
run that follows is the same run (tested).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..params import Params
from ..state.build import (
    add_scenario_organisations,
    draw_social_ties,
    org_capacity,
    org_profile,
    seed_early_technology,
    start_world,
)
from ..state.firms import FIRM, ORG_KINDS, Population
from ..state.multiplex import LAYERS, Multiplex
from ..state.world import State
from .tables import ClusterData, DataError, _key

KIND_NAMES = {v: k for k, v in ORG_KINDS.items()}


def segment_codes(firms: pd.DataFrame) -> np.ndarray | None:
    """Segments as integer codes: integers as given, text labels numbered in sorted order."""
    if "segment" not in firms.columns:
        return None
    s = firms["segment"]
    if pd.api.types.is_numeric_dtype(s) and s.dtype != bool:
        return s.to_numpy().astype(np.int64)
    labels = sorted(s.astype(str).unique())
    return s.astype(str).map({v: i for i, v in enumerate(labels)}).to_numpy(dtype=np.int64)


def data_overrides(data: ClusterData, params: Params) -> dict[str, int]:
    """Parameter changes the data implies: the firm count, and enough value-chain segments."""
    out = {"run.firms": len(data.firms)}
    codes = segment_codes(data.firms)
    if codes is None:
        return out
    seg = data.firms["segment"]
    if not (pd.api.types.is_numeric_dtype(seg) and seg.dtype != bool):
        out["init.segments"] = int(codes.max() + 1)  # text labels: the data's stages are the value chain
    elif codes.max() + 1 > params.init.segments:
        out["init.segments"] = int(codes.max() + 1)  # integer positions: at least as many as the data uses
    return out


def _knowledge(df: pd.DataFrame, k: int) -> np.ndarray | None:
    cols = [f"knowledge_{d}" for d in range(k)]
    if cols[0] not in df.columns:
        return None
    q = df[cols].to_numpy(dtype=np.float64)
    s = q.sum(axis=1, keepdims=True)
    off = np.abs(s - 1.0) > 1e-9
    return np.where(off, q / s, q)  # shares as given when they already sum to one


def build_state_from_data(params: Params, data: ClusterData, rng: np.random.Generator) -> tuple[State, pd.DataFrame | None]:
    """The initial state; and, when the data's ids are not non-negative integers, the map (id, data_id)."""
    init = params.init
    k = init.domains
    home = min(init.home_domains, k)
    firms = data.firms
    n = len(firms)
    pop = Population(k, capacity=int(n * 1.5) + 16)
    state = State(params=params, pop=pop, net=Multiplex(), frontier=params.frontier.initial, initial_firms=n)
    start_world(state, rng)  # the first draw, as in build_state
    profile = org_profile(params)
    capacity = org_capacity(params, n)

    # organisations first (as build_state does), then firms
    orgs = data.organisations
    org_ids: list = []
    org_slots = np.zeros(0, dtype=np.int64)
    if orgs is None:
        add_scenario_organisations(state, rng, profile, capacity)
    elif len(orgs):
        m = len(orgs)
        idx = pop.add(m, FIRM)
        pop.kind[idx] = orgs["kind"].astype(str).map(ORG_KINDS).to_numpy()
        kq = _knowledge(orgs, k)
        pop.knowledge[idx] = kq if kq is not None else profile
        pop.capacity[idx] = orgs["capacity"].to_numpy(dtype=np.int64) if "capacity" in orgs.columns else capacity
        if "x" in orgs.columns:
            pop.x[idx] = orgs["x"].to_numpy(dtype=np.float64)
            pop.y[idx] = orgs["y"].to_numpy(dtype=np.float64)
        else:
            pop.x[idx] = rng.random(m)
            pop.y[idx] = rng.random(m)
        org_ids = list(orgs["id"])
        org_slots = idx

    idx = pop.add(n, FIRM)
    if "region" in firms.columns:
        labels = sorted(firms["region"].astype(str).unique())
        town = firms["region"].astype(str).map({v: i for i, v in enumerate(labels)}).to_numpy(dtype=np.int64)
        towns = len(labels)
    else:
        towns = init.towns
        town = None
    if "x" in firms.columns:
        pop.x[idx] = firms["x"].to_numpy(dtype=np.float64)
        pop.y[idx] = firms["y"].to_numpy(dtype=np.float64)
        if town is None:  # towns for drawn social ties: the nearest of `towns` centres spread over the firms
            centres = np.column_stack([pop.x[idx], pop.y[idx]])[rng.choice(n, min(towns, n), replace=False)]
            d2 = (pop.x[idx, None] - centres[None, :, 0]) ** 2 + (pop.y[idx, None] - centres[None, :, 1]) ** 2
            town = np.argmin(d2, axis=1)
    else:
        centres = 0.1 + 0.8 * rng.random((towns, 2))
        if town is None:
            town = rng.integers(0, towns, n)
        pop.x[idx] = np.clip(centres[town, 0] + init.town_spread * rng.standard_normal(n), 0, 1)
        pop.y[idx] = np.clip(centres[town, 1] + init.town_spread * rng.standard_normal(n), 0, 1)
    codes = segment_codes(firms)
    pop.segment[idx] = codes if codes is not None else rng.integers(0, init.segments, n)
    gen = firms["generation"].to_numpy(dtype=np.int64) if "generation" in firms.columns else np.zeros(n, np.int64)
    pop.generation[idx] = gen
    t = params.technology
    ceiling = t.ceiling_base * t.ceiling_growth ** gen.astype(np.float64)
    if "capability" in firms.columns:
        a = firms["capability"].to_numpy(dtype=np.float64)
        over = a > ceiling
        if over.any():
            r = int(np.flatnonzero(over)[0])
            fname = Path(data.files.get("firms", "firms.csv")).name
            raise DataError(
                f"{fname}: row {r + 1}, column 'capability': {a[r]:g} exceeds its generation's ceiling {ceiling[r]:g} "
                "(technology.ceiling_base x technology.ceiling_growth ^ generation)"
            )
        pop.capability[idx] = a
    else:
        size = firms["size"].to_numpy(dtype=np.float64)
        a = ceiling * init.mastery * size / np.median(size)
        pop.capability[idx] = np.clip(a, 1e-6 * ceiling, 0.9 * ceiling)
    kq = _knowledge(firms, k)
    if kq is None:
        kq = np.zeros((n, k))
        kq[:, :home] = rng.dirichlet(np.full(home, init.knowledge_concentration), n)
    pop.knowledge[idx] = kq
    if "rd" in firms.columns:
        pop.rd[idx] = firms["rd"].to_numpy(dtype=np.float64)
    else:
        pop.rd[idx] = np.clip(init.rd + init.rd_sigma * rng.standard_normal(n), 0.0, 1.0)
    pop.wealth[idx] = firms["wealth"].to_numpy(dtype=np.float64) if "wealth" in firms.columns else init.wealth
    if "generation" not in firms.columns:
        seed_early_technology(state, idx, rng)

    # ids: the data's own when they are non-negative integers, else 0.. in table order (with a map)
    all_ids = org_ids + list(firms["id"])
    slots = np.concatenate([org_slots, idx])
    id_map = None
    numeric = [_as_int(v) for v in all_ids]
    if all(v is not None and v >= 0 for v in numeric):
        given = np.array(numeric, dtype=np.int64)
        pop.id[slots] = given
        others = np.setdiff1d(np.arange(pop.n), slots)  # organisations the scenario created: ids after the data's
        pop.id[others] = given.max() + 1 + np.arange(others.size)
        pop.next_id = int(pop.id[: pop.n].max() + 1)
    else:
        id_map = pd.DataFrame({"id": pop.id[slots], "data_id": [str(v) for v in all_ids]})
    slot_of = {_key(v): int(s) for v, s in zip(all_ids, slots, strict=True)}

    if data.ties is not None:
        ties = data.ties
        src = ties["source"].map(lambda v: slot_of[_key(v)]).to_numpy(dtype=np.int64)
        dst = ties["target"].map(lambda v: slot_of[_key(v)]).to_numpy(dtype=np.int64)
        w = pd.to_numeric(ties["weight"]).to_numpy(dtype=np.float64)
        layer = ties["layer"].astype(str).to_numpy()
        for name in LAYERS:
            sel = layer == name
            if sel.any():
                state.net[name].add(src[sel], dst[sel], w[sel])
    else:
        draw_social_ties(state, idx, town, rng)
    if data.pipelines is not None:
        p = data.pipelines
        pslots = p["id"].map(lambda v: slot_of[_key(v)]).to_numpy(dtype=np.int64)
        pop.pipeline[pslots] = p["strength"].to_numpy(dtype=np.float64)
    return state, id_map


def _as_int(v) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return int(v)
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return None  # text ids stay text (leading zeros matter: "007" is not 7)
    return None


def initial_data(state: State) -> ClusterData:
    """A state as data tables (ids, every attribute the builder reads, all ties, pipelines)."""
    pop = state.pop
    live = np.flatnonzero(pop.view("active"))
    kind = pop.kind[live]
    k = pop.domains
    f = live[kind == FIRM]
    o = live[kind != FIRM]
    firms = pd.DataFrame({
        "id": pop.id[f], "capability": pop.capability[f], "segment": pop.segment[f].astype(np.int64),
        "x": pop.x[f], "y": pop.y[f], "generation": pop.generation[f].astype(np.int64), "rd": pop.rd[f],
        "wealth": pop.wealth[f], **{f"knowledge_{d}": pop.knowledge[f, d] for d in range(k)},
    })  # fmt: skip
    orgs = pd.DataFrame({
        "id": pop.id[o], "kind": [KIND_NAMES[int(v)] for v in pop.kind[o]], "x": pop.x[o], "y": pop.y[o],
        "capacity": pop.capacity[o].astype(np.int64), **{f"knowledge_{d}": pop.knowledge[o, d] for d in range(k)},
    })  # fmt: skip
    ids = pop.view("id")
    ties = pd.concat(
        [
            pd.DataFrame({"source": ids[layer.i], "target": ids[layer.j], "layer": layer.name, "weight": layer.w})
            for layer in state.net
        ],
        ignore_index=True,
    )
    has = pop.pipeline[f] > 0
    pipelines = pd.DataFrame({"id": pop.id[f][has], "strength": pop.pipeline[f][has]})
    return ClusterData(firms, orgs, ties, pipelines)
