"""Is the ABC-SMC posterior calibrated? Coverage of its 90% interval over repeated fits to synthetic data.

For k = 1..N a true ``local.rate`` is drawn from the prior U(0.05, 0.8), data are simulated with it
(baseline, 60 firms, 60 steps, mean capability every 3rd step, a seed of its own) and fitted by
``clusterup calibrate``'s ABC-SMC (prior U(0.05, 0.8), the spec below). A calibrated posterior holds
the truth in its 90% interval in about 90% of the fits; the script prints the share with its Wilson 95%
interval (docs/experiments.md quotes the result).

    python benchmarks/abc_coverage.py [N] [WORKERS]
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from clusterup import simulate
from clusterup.analysis.stats import wilson
from clusterup.experiments.calibrate import CalibrationSpec, abc_smc

LO, HI = 0.05, 0.8


def main(n: int = 20, workers: int = 2) -> None:
    rng = np.random.default_rng(20261202)
    truths = rng.uniform(LO, HI, n)
    hits, rows = 0, []
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers) as ex:
        for k, truth in enumerate(truths):
            ts = simulate("baseline", seed=1000 + k, steps=60, firms=60, overrides={"local.rate": float(truth)}).timeseries
            obs = ts[["step", "cap_mean"]].rename(columns={"cap_mean": "value"}).iloc[::3].reset_index(drop=True)
            spec = CalibrationSpec.model_validate({"scenario": "baseline", "seed": k, "firms": 60, "steps": 60,
                                                   "observed": "synthetic", "indicator": "cap_mean", "particles": 40,
                                                   "generations": 4, "parameters": {"local.rate": [LO, HI]}})  # fmt: skip
            s = abc_smc(spec, obs, ex)["summary"]["local.rate"]
            inside = s["q05"] <= truth <= s["q95"]
            hits += inside
            rows.append((truth, s["q05"], s["median"], s["q95"], inside))
            print(f"fit {k + 1:2d}: truth {truth:.3f}  90% interval [{s['q05']:.3f}, {s['q95']:.3f}]  "
                  f"{'inside' if inside else 'OUTSIDE'}", flush=True)
    lo, hi = wilson(hits, n)
    width = np.median([r[3] - r[1] for r in rows])
    print(f"coverage of the 90% interval: {hits}/{n} = {hits / n:.2f} (Wilson 95% [{lo:.2f}, {hi:.2f}]); "
          f"median interval width {width:.3f}; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
