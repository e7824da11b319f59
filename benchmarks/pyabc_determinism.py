"""Are pyabc's samplers reproducible from one seed? (docs/experiments.md, "Why not pyabc")

Needs pyabc (not a clusterup dependency: pip install pyabc). Runs a three-generation ABC-SMC of a toy model
(theta ~ U(-3, 3), y = theta + N(0, 0.5), observed y = 1, 100 particles) twice per sampler with
np.random.seed(7) and prints the posterior mean and the number of simulations:

    python benchmarks/pyabc_determinism.py single   # SingleCoreSampler
    python benchmarks/pyabc_determinism.py mc1      # MulticoreEvalParallelSampler, 1 process
    python benchmarks/pyabc_determinism.py mc2      # MulticoreEvalParallelSampler, 2 processes
    python benchmarks/pyabc_determinism.py mcp2     # MulticoreParticleParallelSampler, 2 processes
"""

import sys, numpy as np, pyabc, tempfile, os, logging
logging.getLogger().setLevel(logging.WARNING)
for n in ("ABC", "Sampler", "Epsilon", "Distance", "Acceptor", "History", "Population", "Transition", "Adaptation"):
    logging.getLogger(n).setLevel(logging.WARNING)
def model(p):
    return {"y": p["theta"] + np.random.normal(0, 0.5)}
def run(sampler, seed):
    np.random.seed(seed)
    prior = pyabc.Distribution(theta=pyabc.RV("uniform", -3, 6))
    abc = pyabc.ABCSMC(model, prior, pyabc.PNormDistance(p=1), population_size=100, sampler=sampler)
    db = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "t.db")
    abc.new(db, {"y": 1.0})
    h = abc.run(max_nr_populations=3)
    df, w = h.get_distribution()
    return float(np.sum(df["theta"].to_numpy() * w)), h.total_nr_simulations
kind = sys.argv[1]
for rep in range(2):
    if kind == "single":
        s = pyabc.sampler.SingleCoreSampler()
    elif kind == "mc1":
        s = pyabc.sampler.MulticoreEvalParallelSampler(n_procs=1)
    elif kind == "mc2":
        s = pyabc.sampler.MulticoreEvalParallelSampler(n_procs=2)
    elif kind == "mcp2":
        s = pyabc.sampler.MulticoreParticleParallelSampler(n_procs=2)
    print(kind, rep, run(s, 7))
