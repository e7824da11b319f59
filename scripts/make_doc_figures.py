"""Redraw every figure the documentation shows (docs/figures/), from the code as it is.

    python scripts/make_doc_figures.py [--skip-validation]

Run it after a change to the model: README's baseline overview, the adoption curves and Figure 1 of
baseline seed 1, Figure 2 of eight seeds of the baseline and of lock-in, and the validation figure
(`clusterup validate --sizes 150,300,1000 --seeds 128`, about 25 minutes on 2 cores; --skip-validation leaves
it), which also rewrites docs/validation.json; paste the tables it prints (or `--markdown`) into
docs/validation.md, whose test checks them against the JSON.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import clusterup
from clusterup.plots import figure2, save_figure

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"


def cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "clusterup", *args], check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-validation", action="store_true")
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "baseline-seed1"
        cli("run", "baseline", "--seed", "1", "--snapshots", "10", "--out", str(run))
        cli("plot", str(run))
        for made, shown in (("overview.png", "baseline.png"), ("adoption.png", "adoption-baseline.png"),
                            ("figure1.png", "figure1-baseline.png")):  # fmt: skip
            shutil.copyfile(run / made, FIGURES / shown)
    for preset, label in (("baseline", "Baseline"), ("lock-in", "Lock-in")):
        runs = [clusterup.simulate(preset, seed=s).timeseries for s in range(1, 9)]
        save_figure(figure2(runs, f"{label} (8 seeds)"), FIGURES / f"figure2-{preset}.png")
    if not opts.skip_validation:
        (FIGURES.parent / "validation.json").unlink(missing_ok=True)  # validate never overwrites
        cli("validate", "--sizes", "150,300,1000", "--seeds", "128", "--workers", "2",
            "--out", str(FIGURES.parent / "validation.json"), "--figure", str(FIGURES / "validation.png"))  # fmt: skip


if __name__ == "__main__":
    main()
