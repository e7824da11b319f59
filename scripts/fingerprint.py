"""Fingerprints of a few preset runs: to check that a refactoring changed no result, bit for bit.

    python scripts/fingerprint.py > before.txt      # on the old commit
    python scripts/fingerprint.py > after.txt       # on the new one
    diff before.txt after.txt                       # empty: the same numbers

Each line hashes a run's whole time series (SHA-256 of the float64 table, NaN as -999) and its final
state (every slot's capability, every layer's ties as saved and their weights). Runs cover the presets whose rules
differ most, at 300 firms and one at 2,000. About 15 s. Hashes are for comparing commits on one machine:
NumPy's vectorised math may differ in the last bit between CPUs.

    python scripts/fingerprint.py --large          # adds two short runs of 60,000 and 120,000 firms

The large runs reach the compiled kernels' parallel forms (from 50,000 rows on), which the small runs never
use; a change to a row kernel should be checked with them (about 5 s more).
"""

from __future__ import annotations

import hashlib

from clusterup import Simulation

RUNS = (
    ("baseline", 1, 300, 200),
    ("baseline", 2, 2000, 60),
    ("opportunism", 3, 300, 150),
    ("policy-institutions", 6, 300, 120),
    ("lock-in", 7, 300, 120),
    ("path2-early-technology", 4, 300, 150),
    ("bass", 5, 300, 100),
)


def fingerprint(preset: str, seed: int, firms: int, steps: int) -> str:
    sim = Simulation(preset, seed=seed, firms=firms, steps=steps)
    series = sim.run().timeseries.to_numpy(dtype=float, na_value=-999)
    state = sim.state
    # the ties as saved (Layer.state_dict: the keys' packing of every version), not as held in memory
    ties = (layer.state_dict() for layer in state.net)
    final = state.pop.capability[: state.n].tobytes() + b"".join(d["keys"].tobytes() + d["w"].tobytes() for d in ties)
    series_hash = hashlib.sha256(series.tobytes()).hexdigest()[:16]
    state_hash = hashlib.sha256(final).hexdigest()[:16]
    return f"{preset} seed {seed} firms {firms} steps {steps}: series {series_hash} state {state_hash}"


LARGE = (
    ("baseline", 9, 60_000, 8),
    ("opportunism", 8, 120_000, 4),
)


def main() -> None:
    import sys

    for run in RUNS + (LARGE if "--large" in sys.argv[1:] else ()):
        print(fingerprint(*run), flush=True)


if __name__ == "__main__":
    main()
