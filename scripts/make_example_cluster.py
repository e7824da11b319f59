"""Make the synthetic example cluster shipped with clusterup (src/clusterup/data/example/).

    python scripts/make_example_cluster.py [--out src/clusterup/data/example] [--seed 2011]

A plausible small manufacturing cluster, made up (no real firm is described): 150 firms in three
towns along a four-stage value chain (materials -> components -> assembly -> distribution), firm size
in employees (log-normal, median about 25), a university, a research institute, a technology
platform and an industry association. Ties:

- social: kinship and neighbourhood, about two per firm, almost all within a town; association
  members (the 40 largest firms) tied to the association;
- economic: supplier-customer ties between adjacent value-chain stages, about 1.5 per firm, favouring
  larger customers and the same town;
- knowledge: the 12 largest firms with the university or the institute, and a few between large firms;
- pipelines: the three largest firms have links outside the cluster.

Weights are in (0, 1]: tie strength. The files are CSV so that a reader can open them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

STAGES = ["1-materials", "2-components", "3-assembly", "4-distribution"]
TOWNS = ["Dongshan", "Xiqiao", "Nanhe"]


def make(seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 150
    ids = [f"F{i:03d}" for i in range(1, n + 1)]
    town = rng.choice(len(TOWNS), n, p=[0.5, 0.3, 0.2])
    stage = rng.choice(len(STAGES), n, p=[0.15, 0.4, 0.3, 0.15])
    size = np.round(np.exp(np.log(25) + 0.9 * rng.standard_normal(n))).clip(2, 2000).astype(int)
    firms = pd.DataFrame({"id": ids, "size": size, "segment": [STAGES[s] for s in stage],
                          "region": [TOWNS[t] for t in town]})  # fmt: skip
    orgs = pd.DataFrame({"id": ["U1", "I1", "P1", "A1"], "kind": ["university", "institute", "platform", "association"]})
    ties: list[tuple[str, str, str, float]] = []
    seen: set[tuple[str, str, str]] = set()

    def tie(a: str, b: str, layer: str, w: float) -> None:
        key = (layer, *sorted((a, b)))
        if a != b and key not in seen:
            seen.add(key)
            ties.append((a, b, layer, round(float(w), 3)))

    for i in range(n):  # social: mostly the same town
        for _ in range(rng.poisson(1.0) + 1):
            same = np.flatnonzero(town == town[i]) if rng.random() < 0.9 else np.arange(n)
            tie(ids[i], ids[int(rng.choice(same))], "social", rng.uniform(0.5, 1.0))
    for i in np.argsort(-size)[:40]:
        tie(ids[i], "A1", "social", 0.6)
    for i in range(n):  # economic: to the next stage, larger customers and the same town preferred
        nxt = np.flatnonzero(stage == stage[i] + 1)
        if nxt.size == 0:
            continue
        p = size[nxt] * np.where(town[nxt] == town[i], 3.0, 1.0)
        for j in rng.choice(nxt, min(nxt.size, rng.poisson(1.5)), replace=False, p=p / p.sum()):
            tie(ids[i], ids[int(j)], "economic", rng.uniform(0.2, 0.9))
    big = np.argsort(-size)[:12]
    for i in big:
        tie(ids[i], "U1" if rng.random() < 0.6 else "I1", "knowledge", rng.uniform(0.3, 0.8))
    for _ in range(6):
        a, b = rng.choice(big, 2, replace=False)
        tie(ids[int(a)], ids[int(b)], "knowledge", rng.uniform(0.2, 0.6))
    pipelines = pd.DataFrame({"id": [ids[i] for i in np.argsort(-size)[:3]], "strength": [0.8, 0.6, 0.5]})
    return {"firms": firms, "organisations": orgs, "ties": pd.DataFrame(ties, columns=["source", "target", "layer", "weight"]),
            "pipelines": pipelines}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "src/clusterup/data/example")
    ap.add_argument("--seed", type=int, default=2011)
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    for name, df in make(a.seed).items():
        df.to_csv(a.out / f"{name}.csv", index=False)
        print(f"{a.out / f'{name}.csv'}: {len(df)} rows")


if __name__ == "__main__":
    main()
