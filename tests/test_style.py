"""The code passes the project's linter (ruff, configured in pyproject.toml): unused imports and the
like fail the suite rather than pile up."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_VENV_RUFF = Path(sys.executable).parent / "ruff"  # the venv's, when its bin is not on PATH
RUFF = shutil.which("ruff") or (str(_VENV_RUFF) if _VENV_RUFF.exists() else None)


@pytest.mark.skipif(RUFF is None and not os.environ.get("CI"), reason="ruff is a test extra (required under CI)")
def test_ruff_finds_nothing():
    assert RUFF is not None, "ruff is not installed (pip install -e '.[test]')"
    out = subprocess.run([RUFF, "check", "--no-cache", "src", "tests", "benchmarks", "scripts"], cwd=ROOT,
                         capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
