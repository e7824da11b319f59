"""Replicate per-seed statements of the validation on fresh sets of seeds: how often does a verdict repeat?

    python scripts/replicate.py --firms 150 --bases 20261210,20261211,20261212,20261213,20261214 \
        --statements 2,3a,4,5c --workers 2

For each base seed, runs the arms the statements read for ``--seeds`` seeds spawned from it (as
``clusterup validate`` does) and prints each statement's passes, then a Markdown table with the pooled rate.
``--failures`` also prints, for every seed where a statement fails, its measure's numbers (statements read
from one arm; the others, the seed alone): why it failed there.
Use base seeds that were never used in tuning, and report every one you ran (docs/validation.md lists
those used so far).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor

from clusterup import analysis as an
from clusterup import validation as v


def _details(p: v.Phenomenon, ens: v.Ensemble, seed: int) -> dict:
    """The numbers of ``p``'s measure on one seed, where the measure reads one arm's time series."""
    f = getattr(an, p.measure.removeprefix("analysis."), None)
    if f is None or len(p.arms) != 1:
        return {}
    return {k: round(x, 3) if isinstance(x, float) else x for k, x in f(ens.get(p.arms[0], seed)).items() if k != "holds"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--firms", type=int, default=None, help="initial firms (default: the presets' size)")
    ap.add_argument("--steps", type=int, default=None, help="steps (default: the presets')")
    ap.add_argument("--bases", required=True, help="comma-separated base seeds")
    ap.add_argument("--statements", required=True, help="comma-separated per-seed statement ids, e.g. 2,3a")
    ap.add_argument("--seeds", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--failures", action="store_true", help="print each failing seed with its measure's numbers")
    args = ap.parse_args(argv)
    per_seed = {p.id: p for p in v.PHENOMENA if p.kind == "per_seed"}
    ids = [i.strip() for i in args.statements.split(",") if i.strip()]
    unknown = [i for i in ids if i not in per_seed]
    try:
        bases = [int(b) for b in args.bases.split(",") if b.strip()]
    except ValueError:
        print(f"--bases must be comma-separated integers; got {args.bases!r}", file=sys.stderr)
        return 2
    if unknown or not ids:
        print(f"--statements: per-seed statements are {', '.join(per_seed)}; got {args.statements!r}", file=sys.stderr)
        return 2
    if not bases or args.seeds < 1 or args.workers < 1:
        print("--bases needs at least one base seed; --seeds and --workers must be >= 1", file=sys.stderr)
        return 2
    phen = tuple(per_seed[i] for i in ids)
    arms = set().union(*(p.arms for p in phen))
    passes: dict[int, dict[str, int]] = {}
    with ProcessPoolExecutor(args.workers) as ex:
        for b in bases:
            ens = v.run_ensemble(args.seeds, b, steps=args.steps, firms=args.firms, executor=ex, only=arms, bass=False)
            passes[b] = {r["id"]: int(r["passes"]) for r in v.evaluate(ens, phen, seed=b)}
            print(b, passes[b], flush=True)
            for p in phen if args.failures else ():
                for s in ens.seeds:
                    if not p.test(ens, s):
                        print(f"  {p.id} fails on seed {s}: {_details(p, ens, s)}", flush=True)
    n = args.seeds
    print("\n| base seed | " + " | ".join(ids) + " |\n|---|" + "---|" * len(ids))
    for b, row in passes.items():
        print(f"| {b} | " + " | ".join(f"{row[i]}/{n}" for i in ids) + " |")
    total = n * len(bases)
    pooled = [sum(row[i] for row in passes.values()) for i in ids]
    print("| pooled | " + " | ".join(f"{k}/{total} ({100 * k / total:.1f}%)" for k in pooled) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
