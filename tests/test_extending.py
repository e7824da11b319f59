"""docs/extending.md is a working example: its files are written out, its commands and code run, its tests
pass, its error message is the one the CLI prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from clusterup.cli import main

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"
BLOCK = re.compile(r"```(\w+)(?: file=(\S+))?\n(.*?)```", re.S)


def _blocks() -> list[tuple[str, str | None, str]]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    for _, name, text in _blocks():
        if name:
            (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_doc_names_its_files():
    names = [name for _, name, _ in _blocks() if name]
    assert names == ["rd_subsidy.py", "subsidy.toml", "test_rd_subsidy.py"]


def test_the_commands_of_the_doc_work_as_shown(workdir, capsys):
    bash = next(text for lang, _, text in _blocks() if lang == "bash")
    lines = [ln.split("#")[0] for ln in bash.splitlines() if ln.startswith("clusterup ")]
    assert main(lines[0].split()[1:] + ["--firms", "80", "--quiet"]) == 0
    ts = pd.read_parquet(workdir / "runs" / "subsidy" / "timeseries.parquet")
    assert len(ts) == 81 and ts["subsidy_paid"].iloc[41:].gt(0).all() and ts["subsidy_paid"].iloc[:41].eq(0).all()
    firms = pd.read_parquet(workdir / "runs" / "subsidy" / "firms.parquet")
    assert "subsidy_received" in firms
    config = (workdir / "runs" / "subsidy" / "config.toml").read_text()
    assert "rd_subsidy.py:RDSubsidy" in config and "[rd_subsidy]" in config
    assert main(lines[1].split()[1:] + ["--steps", "3", "--firms", "40"]) == 0
    plan = capsys.readouterr().out
    assert plan.index("market") < plan.index("rd_subsidy") < plan.index("mode_choice")
    assert main(lines[2].split()[1:]) == 2
    expected = re.search(r"# (error: .*)", bash).group(1)
    assert capsys.readouterr().err.strip() == expected
    assert not (workdir / "runs" / "bad").exists()


def test_a_rerun_from_the_saved_configuration_is_the_same_run(workdir):
    assert main(["run", "subsidy.toml", "--steps", "50", "--firms", "60", "--out", "a", "--quiet"]) == 0
    assert main(["run", "a/config.toml", "--out", "b", "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet("a/timeseries.parquet"), pd.read_parquet("b/timeseries.parquet"))


def test_the_python_example_runs(workdir, monkeypatch):
    monkeypatch.syspath_prepend(str(workdir))
    code = next(text for lang, name, text in _blocks() if lang == "python" and not name)
    exec(compile(code, str(DOC), "exec"), {})


def test_the_tests_of_the_doc_pass(workdir):
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_rd_subsidy.py"],
                         cwd=workdir, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "2 passed" in res.stdout
