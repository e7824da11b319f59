"""Benchmark note: where NumPy's float64 functions and a Numba kernel's disagree (issue 21).

    python benchmarks/last_bits.py [--n 1000000] [--seed 0]

A compiled pass keeps a run bit-identical only if each operation in it rounds as NumPy's does. NumPy 2.x
computes float64 ``exp`` and ``log`` with its own SIMD code on some CPUs (AVX-512, for one), while a Numba
kernel's ``math`` functions and ``**`` come from LLVM and the C library. This counts, for ``--n`` arguments each, how many
results differ in any bit between NumPy's ufunc on the array and an ``@numba.njit`` loop applying the
``math`` function or ``**`` to each element. Prints a Markdown table for docs/performance.md; the counts
depend on the CPU and on the NumPy build.
"""

from __future__ import annotations

import argparse
import math
import sys

import numba
import numpy as np


@numba.njit(cache=False)
def _each(x: np.ndarray, which: int) -> np.ndarray:
    out = np.empty_like(x)
    for k in range(x.size):
        v = x[k]
        if which == 0:
            out[k] = math.exp(v)
        elif which == 1:
            out[k] = math.log(v)
        else:
            out[k] = math.log1p(v)
    return out


@numba.njit(cache=False)
def _power(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.empty_like(a)
    for k in range(a.size):
        out[k] = a[k] ** y[k]
    return out


def rows(n: int, seed: int) -> list[tuple[str, str, int]]:
    """(function, arguments, results that differ) for ``n`` arguments each."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 5.0, n)
    a = rng.uniform(0.0, 10.0, n)
    y = rng.uniform(0.0, 3.0, n)
    a = np.where(a > 0.0, a, 1.0)  # log's argument must be positive
    uniform = "uniform on (0, 10)"
    same = np.ones_like(a)  # one exponent for all: NumPy's ``a ** c`` against the kernel's per-element power

    def differ(ours: np.ndarray, numpy: np.ndarray) -> int:
        return int(np.count_nonzero(ours.view(np.int64) != numpy.view(np.int64)))

    return [
        ("`exp`", "normal, mean 0, sd 5", differ(_each(x, 0), np.exp(x))),
        ("`log`", uniform, differ(_each(a, 1), np.log(a))),
        ("`log1p`", uniform, differ(_each(a, 2), np.log1p(a))),
        ("`power`, an exponent per element", f"base {uniform}, exponent uniform on (0, 3)", differ(_power(a, y), np.power(a, y))),
        ("`a ** 0.7`", f"base {uniform}", differ(_power(a, 0.7 * same), a**0.7)),
        ("`a ** 2.0`", f"base {uniform}", differ(_power(a, 2.0 * same), a**2.0)),
        ("`a ** 0.5`", f"base {uniform}", differ(_power(a, 0.5 * same), a**0.5)),
    ]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="arguments per function (>= 1)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the arguments (>= 0)")
    args = ap.parse_args()
    if args.n < 1 or args.seed < 0:
        print("--n must be >= 1 and --seed >= 0", file=sys.stderr)
        sys.exit(2)
    print(f"NumPy {np.__version__}, Numba {numba.__version__}; {args.n:,} arguments each (seed {args.seed})\n")
    print("| function | arguments | different results |\n|---|---|---|")
    for name, what, count in rows(args.n, args.seed):
        print(f"| {name} | {what} | {count:,} |")


if __name__ == "__main__":
    main()
