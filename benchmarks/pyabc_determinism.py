"""Are pyabc's samplers reproducible from one seed? (docs/experiments.md, "Why not pyabc")

Needs pyabc (not a clusterup dependency: pip install pyabc). Runs a three-generation ABC-SMC of a toy model
(theta ~ U(-3, 3), y = theta + N(0, 0.5), observed y = 1, 100 particles) twice per sampler with
np.random.seed(7) and prints the posterior mean and the number of simulations:

    python benchmarks/pyabc_determinism.py single   # SingleCoreSampler
    python benchmarks/pyabc_determinism.py mc1      # MulticoreEvalParallelSampler, 1 process
    python benchmarks/pyabc_determinism.py mc2      # MulticoreEvalParallelSampler, 2 processes
    python benchmarks/pyabc_determinism.py mcp2     # MulticoreParticleParallelSampler, 2 processes
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile

import numpy as np
import pyabc

for name in ("ABC", "Sampler", "Epsilon", "Distance", "Acceptor", "History", "Population", "Transition", "Adaptation"):
    logging.getLogger(name).setLevel(logging.WARNING)


def model(p):
    return {"y": p["theta"] + np.random.normal(0, 0.5)}


def run(sampler, seed: int) -> tuple[float, int]:
    """Posterior mean of theta after three generations, and the number of simulations."""
    np.random.seed(seed)
    prior = pyabc.Distribution(theta=pyabc.RV("uniform", -3, 6))
    abc = pyabc.ABCSMC(model, prior, pyabc.PNormDistance(p=1), population_size=100, sampler=sampler)
    abc.new("sqlite:///" + os.path.join(tempfile.mkdtemp(), "t.db"), {"y": 1.0})
    history = abc.run(max_nr_populations=3)
    df, w = history.get_distribution()
    return float(np.sum(df["theta"].to_numpy() * w)), int(history.total_nr_simulations)


SAMPLERS = {
    "single": lambda: pyabc.sampler.SingleCoreSampler(),
    "mc1": lambda: pyabc.sampler.MulticoreEvalParallelSampler(n_procs=1),
    "mc2": lambda: pyabc.sampler.MulticoreEvalParallelSampler(n_procs=2),
    "mcp2": lambda: pyabc.sampler.MulticoreParticleParallelSampler(n_procs=2),
}

if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) > 1 else "single"
    for rep in range(2):
        print(kind, rep, run(SAMPLERS[kind](), 7))
