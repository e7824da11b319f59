"""The stored reference ensemble: the model's distributions at one version, the guard for optimisations.

    python benchmarks/reference/ensemble.py make      # writes benchmarks/reference/reference.parquet (+ .json)
    python benchmarks/reference/ensemble.py check     # the full comparison (64 fresh seeds per preset)

The reference holds, for every cluster preset, 64 runs of 300 initial firms and 200 steps, seeds spawned
from ``REFERENCE_SEED``, and per run the indicators of :data:`INDICATORS` (final values and time means).
A later version is compared with it on fresh seeds (spawned from ``CHECK_SEED``): a two-sample
Kolmogorov-Smirnov test per preset and indicator, with Holm's correction over the whole family at a
family-wise error of 1%. An optimisation that changes numbers must pass it; a change that moves a
distribution is a model change and is named as one (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference.parquet"
PRESETS = ("baseline", "no-integrated", "lock-in", "opportunism", "path2-early-technology", "policy-institutions",
           "policy-pipelines", "policy-ip-protection")  # fmt: skip
REFERENCE_SEED, CHECK_SEED = 31_415, 27_182
FIRMS, STEPS = 300, 200
FWER = 0.01


def indicators(ts: pd.DataFrame) -> dict[str, float]:
    """What the reference keeps of one run: final state and time means of the main indicators."""
    last = ts.iloc[-1]
    return {
        "final_cap_mean": float(last["cap_mean"]), "final_cap_total": float(last["cap_total"]),
        "final_n_firms": float(last["n_firms"]), "final_gen_max": float(last["gen_max"]),
        "final_rd_mean": float(last["rd_mean"]), "final_gap_cv": float(last["gap_cv"]),
        "final_knowledge_share": float(last["knowledge_share"]),
        "mean_cap_rel_frontier": float(ts["cap_rel_frontier"].mean()),
        "mean_share_imitation": float(ts["share_imitation"].mean()),
        "mean_share_integrated": float(ts["share_integrated"].mean()),
        "mean_knowledge_diversity": float(ts["knowledge_diversity"].mean()),
    }  # fmt: skip




def _one(job: tuple[str, int, dict]) -> dict:
    from clusterup import simulate

    preset, seed, overrides = job
    ts = simulate(preset, seed=seed, steps=STEPS, firms=FIRMS, overrides=overrides or None).timeseries
    return {"preset": preset, "seed": seed, **indicators(ts)}


def run(presets: tuple[str, ...], n_seeds: int, base_seed: int, workers: int = 2,
        overrides: dict | None = None) -> pd.DataFrame:  # fmt: skip
    from clusterup.rng import replicate_seeds

    jobs = [(p, s, overrides or {}) for p in presets for s in replicate_seeds(base_seed, n_seeds)]
    with ProcessPoolExecutor(workers) as ex:
        return pd.DataFrame(list(ex.map(_one, jobs)))


def compare(reference: pd.DataFrame, current: pd.DataFrame, fwer: float = FWER) -> pd.DataFrame:
    """Two-sample KS per preset and indicator (asymptotic where values tie, as integer counts do), Holm-corrected."""
    from scipy.stats import ks_2samp

    rows = []
    cols = [c for c in reference.columns if c not in ("preset", "seed")]
    for preset in sorted(set(current["preset"])):
        a, b = reference[reference["preset"] == preset], current[current["preset"] == preset]
        for c in cols:
            x, y = a[c].to_numpy(), b[c].to_numpy()
            ties = len(np.unique(np.concatenate([x, y]))) < x.size + y.size
            rows.append({"preset": preset, "indicator": c,
                         "p": float(ks_2samp(x, y, method="asymp" if ties else "auto").pvalue)})  # fmt: skip
    out = pd.DataFrame(rows).sort_values("p").reset_index(drop=True)
    m = len(out)
    holm = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * out["p"].to_numpy()))
    out["p_holm"] = holm
    out["rejected"] = holm < fwer
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["make", "check"])
    ap.add_argument("--seeds", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    from clusterup import __version__

    if a.what == "make":
        if REFERENCE.exists():
            sys.exit(f"{REFERENCE} exists; a reference is made once per model version (delete it on purpose)")
        df = run(PRESETS, a.seeds, REFERENCE_SEED, a.workers)
        tmp = REFERENCE.with_suffix(".tmp")
        df.to_parquet(tmp, index=False)
        tmp.replace(REFERENCE)
        meta = {"clusterup_version": __version__, "date": date.today().isoformat(), "seeds": a.seeds,
                "base_seed": REFERENCE_SEED, "firms": FIRMS, "steps": STEPS, "presets": list(PRESETS)}  # fmt: skip
        REFERENCE.with_suffix(".json").write_text(json.dumps(meta, indent=2))
        print(f"wrote {REFERENCE} ({len(df)} runs)")
    else:
        res = compare(pd.read_parquet(REFERENCE), run(PRESETS, a.seeds, CHECK_SEED, a.workers))
        print(res.head(10).to_string(index=False))
        print(f"{int(res['rejected'].sum())} of {len(res)} tests rejected at a family-wise error of {FWER}")
        sys.exit(1 if res["rejected"].any() else 0)


if __name__ == "__main__":
    main()
