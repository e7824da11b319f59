"""Cluster data as the columns a run starts with, and the initial state of a scenario as data (the round trip).

What the tables give is used as given; what they leave out is drawn by the one builder
(:func:`clusterup.state.build.build_state`), with the same rules and the same ``init`` random stream as a
scenario's own initial state:

- organisations: the ``organisations`` table replaces the scenario's counts; without it the
  scenario's organisations are created as usual;
- positions: ``x``/``y``; else ``region`` (firms of one region around a random centre); else towns;
- capability: ``capability``; else ``size`` scaled so that the median firm has the scenario's initial
  mastery (``init.mastery x technology.ceiling_base``), clipped to (0, 0.9 x ceiling];
- ties: the ``ties`` table is the whole initial network; without it, social ties within regions/towns
  and association memberships are drawn as usual.

So a state exported with :func:`initial_data` and rebuilt from those tables is identical and the run that
follows is the same run (tested).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..state import FIRM, KIND_NAMES, ORG_KINDS, State
from ..state.build import InitialData
from .tables import ClusterData, DataError, _key

if TYPE_CHECKING:
    from ..params import Params


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


MAX_NODE_ID = 2**30 - 1  # the largest data id a run keeps as its node id (larger ones are mapped)


@dataclass
class DataStart:
    """A run's start from cluster data: the parameters the data implies, the columns it fixes for the builder
    (:func:`clusterup.state.build.build_state`), and its node ids."""

    params: Params
    initial: InitialData
    ids: list  # node ids as the data gives them: organisations, then firms
    source: str

    def assign_ids(self, state: State, slots: np.ndarray) -> pd.DataFrame | None:
        """Give the data's nodes their ids (integers from 0 to :data:`MAX_NODE_ID` as given; otherwise 0.. in
        table order and the map (id, data_id) returned)."""
        pop = state.pop
        numeric = [_as_int(v) for v in self.ids]
        # the run's node ids pack two into one 64-bit tie key (compiled.id_keys), each below 2**31: the data's up
        # to 2**30 - 1 leave a billion ids above them for the entrants; larger ones are mapped, as text ids are
        if all(v is not None and 0 <= v <= MAX_NODE_ID for v in numeric):
            given = np.array(numeric, dtype=np.int64)
            pop.id[slots] = given
            others = np.setdiff1d(np.arange(pop.n), slots)  # organisations the scenario created: ids after the data's
            pop.id[others] = given.max() + 1 + np.arange(others.size)
            pop.next_id = int(pop.id[: pop.n].max() + 1)
            return None
        return pd.DataFrame({"id": pop.id[slots], "data_id": [str(v) for v in self.ids]})


def start_from_data(data: ClusterData, params: Params, firms: int | None = None) -> DataStart:
    """The parameters and initial columns a run from ``data`` starts with; ``firms`` (if given) must agree."""
    implied = data_overrides(data, params)
    if firms is not None and firms != implied["run.firms"]:
        raise ConfigError(f"--firms {firms} conflicts with the data ({implied['run.firms']} firms); drop --firms")
    params = params.with_overrides(implied)
    k = params.init.domains
    firms_df = data.firms
    n = len(firms_df)
    given = InitialData(firms=n)
    orgs = data.organisations
    org_ids: list = []
    if orgs is not None:
        given.org_kind = orgs["kind"].astype(str).map(ORG_KINDS).to_numpy(dtype=np.int8)
        given.org_knowledge = _knowledge(orgs, k)
        if "capacity" in orgs.columns:
            given.org_capacity = orgs["capacity"].to_numpy(dtype=np.int64)
        if "x" in orgs.columns:
            given.org_x, given.org_y = orgs["x"].to_numpy(dtype=np.float64), orgs["y"].to_numpy(dtype=np.float64)
        org_ids = list(orgs["id"])
    if "region" in firms_df.columns:
        labels = sorted(firms_df["region"].astype(str).unique())
        given.town = firms_df["region"].astype(str).map({v: i for i, v in enumerate(labels)}).to_numpy(dtype=np.int64)
        given.towns = len(labels)
    if "x" in firms_df.columns:
        given.x, given.y = firms_df["x"].to_numpy(dtype=np.float64), firms_df["y"].to_numpy(dtype=np.float64)
    given.segment = segment_codes(firms_df)
    if "generation" in firms_df.columns:
        given.generation = firms_df["generation"].to_numpy(dtype=np.int64)
    if "capability" in firms_df.columns:
        a = firms_df["capability"].to_numpy(dtype=np.float64)
        t = params.technology
        gen = given.generation if given.generation is not None else np.zeros(n, np.int64)
        ceiling = t.ceiling_base * t.ceiling_growth ** gen.astype(np.float64)
        over = a > ceiling
        if over.any():
            r = int(np.flatnonzero(over)[0])
            fname = Path(data.files.get("firms", "firms.csv")).name
            raise DataError(
                f"{fname}: row {r + 1}, column 'capability': {a[r]:g} exceeds its generation's ceiling {ceiling[r]:g} "
                "(technology.ceiling_base x technology.ceiling_growth ^ generation)"
            )
        given.capability = a
    else:
        given.size = firms_df["size"].to_numpy(dtype=np.float64)
    given.knowledge = _knowledge(firms_df, k)
    if "rd" in firms_df.columns:
        given.rd = firms_df["rd"].to_numpy(dtype=np.float64)
    if "wealth" in firms_df.columns:
        given.wealth = firms_df["wealth"].to_numpy(dtype=np.float64)
    ids = org_ids + list(firms_df["id"])
    row_of = {_key(v): r for r, v in enumerate(ids)}
    if data.ties is not None:
        ties = data.ties
        src = ties["source"].map(lambda v: row_of[_key(v)]).to_numpy(dtype=np.int64)
        dst = ties["target"].map(lambda v: row_of[_key(v)]).to_numpy(dtype=np.int64)
        given.tie_rows = (src, dst)
        given.tie_weight = pd.to_numeric(ties["weight"]).to_numpy(dtype=np.float64)
        given.tie_layer = ties["layer"].astype(str).to_numpy()
    if data.pipelines is not None:
        p = data.pipelines
        given.pipeline_rows = p["id"].map(lambda v: row_of[_key(v)]).to_numpy(dtype=np.int64)
        given.pipeline_strength = p["strength"].to_numpy(dtype=np.float64)
    return DataStart(params, given, ids, data.source)


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
    live = pop.nodes()
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
