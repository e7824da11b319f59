"""The package builds a wheel and an sdist (`python -m build`) that each install into a fresh virtual
environment and run `clusterup run baseline` there. Slow-ish (two fresh environments; pip's cache makes
the dependencies quick after the first time), so it runs once per CI run."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _sh(*cmd, cwd=None, timeout=1200):
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_wheel_and_sdist_install_into_fresh_environments_and_run(tmp_path):
    dist = tmp_path / "dist"
    _sh(sys.executable, "-m", "build", "--outdir", dist, ROOT)
    wheel = next(dist.glob("clusterup-*.whl"))
    sdist = next(dist.glob("clusterup-*.tar.gz"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "clusterup/scenarios/baseline.toml" in names and "clusterup/data/example/firms.csv" in names
    assert not any(n.startswith("tests/") for n in names)
    for kind, artefact in (("wheel", wheel), ("sdist", sdist)):
        env = tmp_path / f"venv-{kind}"
        _sh(sys.executable, "-m", "venv", env)
        _sh(env / "bin" / "python", "-m", "pip", "install", "--quiet", artefact)
        printed = _sh(env / "bin" / "clusterup", "run", "baseline", "--steps", "10", "--firms", "30", cwd=tmp_path)
        assert "baseline seed 1: 10 steps" in printed, printed
        assert _sh(env / "bin" / "clusterup", "--version").strip() == "clusterup 0.1.0"
