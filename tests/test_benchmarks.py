"""benchmarks/run.py: bad arguments stop in one line; a tiny run prints both tables with their ratios."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RUN), *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "args,message",
    [
        (("--skip-scaling", "--mesa-firms", "10", "20", "--mesa-steps", "1", "2", "3"), "--mesa-steps takes one value"),
        (("--skip-mesa", "--set", "economic.no_such_thing=1"), "economic.no_such_thing"),
        (("--skip-scaling", "--repeats", "0"), "--repeats must be >= 1"),
        (("--skip-scaling", "--inner", "0"), "--inner must be >= 1"),
    ],
)
def test_bad_arguments_exit_2_in_one_line(args, message):
    done = _run(*args)
    assert done.returncode == 2
    assert message in done.stderr.strip().splitlines()[-1]
    assert "Traceback" not in done.stderr and "|" not in done.stdout  # no table printed


def test_tiny_run_prints_scaling_and_one_side_by_side_table_per_size():
    pytest.importorskip("mesa")
    done = _run("--scaling", "60", "--scaling-steps", "2", "--mesa-firms", "40", "60", "--mesa-steps", "2")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "### Scaling" in out and "| 60 | 2 |" in out
    assert "\nkernels: " in out and ("compiled ahead of time" in out or "just in time" in out)  # how they ran
    assert "40 firms x 2 steps" in out and "60 firms x 2 steps" in out
    mesa_rows = [line for line in out.splitlines() if line.startswith("| Mesa 3 reference")]
    assert len(mesa_rows) == 2 and all(row.rstrip().endswith("| 1x | 1x |") for row in mesa_rows)
    assert out.count("| clusterup, every indicator every step |") == 2


@pytest.mark.parametrize("inner", [1, 3])
def test_repeats_run_in_turns_and_give_paired_ratios(inner):
    """With --repeats, each implementation gives one figure per round (clusterup's the median of --inner runs),
    and the ratios are medians of the rounds'."""
    pytest.importorskip("mesa")
    done = _run("--skip-scaling", "--mesa-firms", "40", "--mesa-steps", "2", "--repeats", "2", "--inner", str(inner))
    assert done.returncode == 0, done.stderr
    assert ("the median of 3 runs a round" in done.stdout) == (inner == 3)
    rows = [line for line in done.stdout.splitlines() if line.startswith("| Mesa 3") or line.startswith("| clusterup,")]
    assert len(rows) == 3 and rows[0].rstrip().endswith("| 1x | 1x |")
    for row in rows:
        runs = row.split("|")[3]
        assert len(runs.split(",")) == 2  # two rounds each
        assert all(cell.strip().endswith("x") for cell in row.split("|")[6:8])


STARTUP = RUN.parent / "startup.py"


def test_startup_benchmark_refuses_bad_arguments_and_prints_both_tables():
    bad = subprocess.run([sys.executable, str(STARTUP), "--repeats", "0"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--repeats must be >= 1" in bad.stderr and "Traceback" not in bad.stderr
    done = subprocess.run([sys.executable, str(STARTUP), "--repeats", "1", "--firms", "40", "--steps", "3"],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and not line.startswith("| command")]
    names = [r.split("|")[1].strip() for r in rows]
    assert "clusterup run baseline --quiet" in names and "simulation" in names and "write the run directory" in names
    for r in rows[1:]:
        if r.split("|")[1].strip() != "phase of one `run baseline` (one process)":
            assert float(r.split("|")[2]) >= 0.0


def test_startup_benchmark_times_the_run_with_kernels_compiled_ahead_of_time(built):  # built: tests/conftest.py
    env = {**os.environ, "CLUSTERUP_AOT_DIR": str(built)}
    done = subprocess.run([sys.executable, str(STARTUP), "--repeats", "1", "--firms", "40", "--steps", "3", "--aot"],
                          capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "clusterup compile" not in done.stdout  # the build found in CLUSTERUP_AOT_DIR is used, not made again
    names = [line.split("|")[1].strip() for line in done.stdout.splitlines() if line.startswith("| ")]
    assert "clusterup run baseline --quiet, kernels compiled ahead of time" in names
    assert "phase of one `run baseline` (one process, kernels compiled ahead of time)" in names
    assert names.count("simulation") == 2


def test_last_bits_benchmark_refuses_bad_arguments_and_counts_within_range():
    script = RUN.parent / "last_bits.py"
    bad = subprocess.run([sys.executable, str(script), "--n", "0"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--n must be >= 1" in bad.stderr and "Traceback" not in bad.stderr
    done = subprocess.run([sys.executable, str(script), "--n", "2000"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| `")]
    assert [r.split("|")[1].strip() for r in rows] == ["`exp`", "`log`", "`log1p`", "`power`, an exponent per element",
                                                       "`a ** 0.7`", "`a ** 2.0`", "`a ** 0.5`"]  # fmt: skip
    assert all(0 <= int(r.split("|")[3].strip().replace(",", "")) <= 2000 for r in rows)


COMPARE = RUN.parent / "compare.py"


def test_compare_refuses_bad_arguments_and_prints_one_row():
    """benchmarks/compare.py: a revision that is not a commit, a bad count or preset stop in one line (exit 2);
    a tiny comparison of HEAD with the working tree, by CPU time and by the wall clock, prints its row and
    leaves no worktree behind."""
    for args, message in ((["no-such-revision"], "is not a commit"), (["HEAD", "--rounds", "0"], "--rounds must be >= 1"),
                          (["HEAD", "--preset", "no-such-preset"], "--preset")):  # fmt: skip
        bad = subprocess.run([sys.executable, str(COMPARE), *args], capture_output=True, text=True, timeout=120)
        assert bad.returncode == 2 and message in bad.stderr.strip().splitlines()[-1] and "Traceback" not in bad.stderr
    root = RUN.parents[1]
    if subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True).returncode:
        pytest.skip("not a git checkout")
    for clock in ("cpu", "wall"):
        done = subprocess.run([sys.executable, str(COMPARE), "HEAD", "--rounds", "2", "--firms", "40", "--steps", "3",
                               "--clock", clock], capture_output=True, text=True, timeout=600)  # fmt: skip
        assert done.returncode == 0, done.stderr
        row = done.stdout.strip().splitlines()[-1]
        assert row.startswith(f"| baseline, 40 firms x 3 steps, 2 rounds, {clock} |") and row.endswith("fastest |")
    worktrees = subprocess.run(["git", "-C", str(root), "worktree", "list"], capture_output=True, text=True).stdout
    assert "clusterup-compare-" not in worktrees


THRESHOLD = RUN.parent / "threshold.py"


def test_threshold_refuses_bad_arguments_and_prints_one_row():
    """benchmarks/threshold.py: bad values stop in one line (exit 2); a tiny run prints one table row with a
    time for each threshold (or pair of thresholds), the serial and the parallel forms taken in turns, and
    what handing a share to a thread costs (on two threads)."""
    for args, message in ((["300", "3"], "STEPS must be >= 5"), (["300", "8", "--rows", "a,b"], "--rows must be"),
                          (["300", "8", "--items", "0"], "--items values must be >= 1"),
                          (["300", "8", "--preset", "no-such-preset"], "--preset must be one of")):  # fmt: skip
        bad = subprocess.run([sys.executable, str(THRESHOLD), *args], capture_output=True, text=True, timeout=120)
        assert bad.returncode == 2 and message in bad.stderr.strip().splitlines()[-1] and "Traceback" not in bad.stderr
    env = {**os.environ, "NUMBA_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, str(THRESHOLD), "60", "6", "--rows", "50000,1", "--rounds", "1"],
                          capture_output=True, text=True, timeout=600, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    row, handover = done.stdout.strip().splitlines()[-2:]
    assert row.startswith("| 60 firms, steps 4-6, rows from 50,000 / 1 |") and row.count(" ms") == 2
    assert handover.startswith("hand-over of a share to a thread: ") and float(handover.split()[7]) > 0
    pairs = subprocess.run([sys.executable, str(THRESHOLD), "60", "6", "--rows", "1", "--items", "50000,1", "--rounds",
                            "1"], capture_output=True, text=True, timeout=600, env=env)  # fmt: skip
    assert pairs.returncode == 0, pairs.stderr
    row = pairs.stdout.strip().splitlines()[-2]
    assert row.startswith("| 60 firms, steps 4-6, rows and items from 1 and 50,000 / 1 and 1 |") and row.count(" ms") == 2


GLUE = RUN.parent / "glue.py"


def test_glue_refuses_bad_arguments_and_prints_the_kernels_share():
    """benchmarks/glue.py: bad values stop in one line (exit 2); a tiny run prints one row per process with
    time in kernels no more than time in all, and a last row for the whole step whose shares add to 100%."""
    for args, message in ((["1", "3"], "FIRMS must be >= 2"), (["60", "0"], "STEPS must be >= 1"),
                          (["60", "3", "--runs", "0"], "--runs must be >= 1"),
                          (["60", "3", "--network-every", "0"], "--network-every must be >= 1"),
                          (["60", "3", "--preset", "no-such-preset"], "--preset must be one of")):  # fmt: skip
        bad = subprocess.run([sys.executable, str(GLUE), *args], capture_output=True, text=True, timeout=120)
        assert bad.returncode == 2 and message in bad.stderr.strip().splitlines()[-1] and "Traceback" not in bad.stderr
    done = subprocess.run([sys.executable, str(GLUE), "60", "4", "--runs", "1"], capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("| baseline, 60 firms x 4 steps, 1 run(s) |")
    rows = {line.split(" | ")[0].lstrip("| "): line for line in lines[2:]}
    assert {"mode_choice", "recorder", "obsolescence", "whole step"} <= rows.keys()
    for name, line in rows.items():
        cells = [c.strip() for c in line.strip("|").split("|")]
        total, inside = float(cells[1]), float(cells[2].split()[0])
        assert 0 <= inside <= total, name
    whole = [c.strip() for c in rows["whole step"].strip("|").split("|")]
    shares = [int(c.split("(")[1].rstrip("%)")) for c in whole[2:4]]
    assert 99 <= sum(shares) <= 101 and float(whole[4]) > 10  # a step calls the kernels dozens of times


BEHIND = RUN.parent / "behind.py"


def test_behind_refuses_bad_arguments_and_prints_a_row_per_size():
    """benchmarks/behind.py: bad values stop in one line (exit 2); a tiny run on two threads prints one row per
    size with both ways' times and their ratio."""
    for args, message in ((["1"], "FIRMS must be >= 2"), (["60", "--steps", "0"], "--steps must be >= 1"),
                          (["60", "--rounds", "0"], "--rounds must be >= 1"),
                          (["60", "--preset", "no-such-preset"], "--preset must be one of")):  # fmt: skip
        bad = subprocess.run([sys.executable, str(BEHIND), *args], capture_output=True, text=True, timeout=120)
        assert bad.returncode == 2 and message in bad.stderr.strip().splitlines()[-1] and "Traceback" not in bad.stderr
    one = subprocess.run([sys.executable, str(BEHIND), "60", "--steps", "2"], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "NUMBA_NUM_THREADS": "1"})  # fmt: skip
    assert one.returncode == 2 and "needs two threads" in one.stderr.strip().splitlines()[-1]
    done = subprocess.run([sys.executable, str(BEHIND), "60", "80", "--steps", "3", "--rounds", "2"],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "NUMBA_NUM_THREADS": "2"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = done.stdout.strip().splitlines()[2:]
    assert [r.split(" | ")[0] for r in rows] == ["| 60 firms", "| 80 firms"]
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert float(cells[5]) > 0 and float(cells[1].split()[0]) > 0


LEAN = RUN.parent / "lean.py"


def test_lean_refuses_bad_arguments_and_needs_a_build(tmp_path):
    """benchmarks/lean.py: bad values stop in one line (exit 2), and so does a machine with no build to use."""
    for args, message in ((["--rounds", "0"], "--rounds must be >= 1"), (["--runs", "0"], "--runs must be >= 1"),
                          (["--firms", "-1"], "--firms must be >= 0"),
                          (["--preset", "no-such-preset"], "--preset must be one of")):  # fmt: skip
        bad = subprocess.run([sys.executable, str(LEAN), *args], capture_output=True, text=True, timeout=120)
        assert bad.returncode == 2 and message in bad.stderr.strip().splitlines()[-1] and "Traceback" not in bad.stderr
    none = subprocess.run([sys.executable, str(LEAN)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "CLUSTERUP_AOT_DIR": str(tmp_path)})  # fmt: skip
    assert none.returncode == 2 and "run `clusterup compile` first" in none.stderr.strip().splitlines()[-1]


def test_lean_times_both_ways_with_a_build(built):  # built: tests/conftest.py
    env = {**os.environ, "CLUSTERUP_AOT_DIR": str(built)}
    done = subprocess.run([sys.executable, str(LEAN), "--rounds", "2", "--runs", "1", "--firms", "40", "--steps", "5"],
                          capture_output=True, text=True, timeout=600, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    calls = [line for line in out.splitlines() if line.startswith("| `")]
    assert len(calls) >= 4  # the kernels a step calls most often were seen and timed both ways
    for line in calls:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert float(cells[2]) > 0 and float(cells[3]) > 0
    assert "| without Numba until LEAN_CALLS calls |" in out and "| Numba imported first |" in out
    assert "started it after all in 0 of 2 rounds" in out  # one 5-step run makes far fewer calls than LEAN_CALLS


WHERE = RUN.parent / "where.py"


def test_where_refuses_bad_arguments_and_a_machine_without_py_spy(tmp_path):
    """benchmarks/where.py: bad values stop in one line (exit 2); without py-spy on PATH, so does sampling."""
    for args, message in ((["--runs", "0"], "--runs must be >= 1"), (["--rate", "0"], "--rate must be >= 1"),
                          (["--raw", "x.txt"], "--raw and --lean go together"),
                          (["--raw", str(tmp_path / "no.txt"), "--lean", str(tmp_path / "no.py")],
                           "--raw must be a file")):  # fmt: skip
        bad = subprocess.run([sys.executable, str(WHERE), *args], capture_output=True, text=True, timeout=120)
        assert bad.returncode == 2 and message in bad.stderr.strip().splitlines()[-1] and "Traceback" not in bad.stderr
    empty = tmp_path / "bin"
    empty.mkdir()
    none = subprocess.run([sys.executable, str(WHERE), "--runs", "1"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PATH": str(empty)})  # fmt: skip
    assert none.returncode == 2 and "needs py-spy" in none.stderr.strip().splitlines()[-1]


def test_where_splits_samples_into_kernels_type_tests_and_between(tmp_path):
    """The split of py-spy's raw samples, on samples made up for it: 6 on a line that calls a compiled function,
    2 on a type test, 2 between kernels, 5 waiting for another thread's share of a kernel, and 5 of another
    thread (not counted)."""
    lean = tmp_path / "lean_tests.py"
    lean.write_text("def _a(a0):\n    budget[0] -= 1\n    if type(a0) is int:\n        return k0(a0)\n"
                    "    return numba('_a')(a0)\n")  # fmt: skip
    step = "<module> (run.py:1);Simulation.run (clusterup/simulation.py:260);Simulation.step (clusterup/simulation.py:231)"
    raw = tmp_path / "raw.txt"
    raw.write_text(f"{step};ModeChoice.step (clusterup/processes/mode_choice.py:62);_a (/d/lean_tests.py:4) 6\n"
                   f"{step};ModeChoice.step (clusterup/processes/mode_choice.py:62);_a (/d/lean_tests.py:3) 2\n"
                   f"{step};Market.step (clusterup/processes/market.py:134);full (numpy/_core/numeric.py:386) 2\n"
                   f"{step};Spillover.step (clusterup/processes/spillover.py:50);concurrently (clusterup/compiled.py:384);"
                   "Future.result (concurrent/futures/_base.py:451);wait (threading.py:327) 5\n"
                   "_bootstrap (threading.py:1002);_worker (concurrent/futures/thread.py:83) 5\n")  # fmt: skip
    done = subprocess.run([sys.executable, str(WHERE), "--raw", str(raw), "--lean", str(lean)], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "15 samples of the main thread" in out
    assert "| in a kernel (compiled work, arguments unboxed) | 40.0% |" in out
    assert "| the lean functions' type tests | 13.3% |" in out and "| between kernels (Python, NumPy, bookkeeping) | 13.3% |" in out
    assert "| waiting for a kernel's share on another thread | 33.3% |" in out
    assert "| ModeChoice.step | 40.0% | 13.3% | 0.0% | 0.0% |" in out and "| Market.step | 0.0% | 0.0% | 0.0% | 13.3% |" in out
    assert "| Spillover.step | 0.0% | 0.0% | 33.3% | 0.0% |" in out
    assert "| `Market.step (clusterup/processes/market.py:134)` | 13.33% |" in out and "concurrently" not in out.split("| line")[-1]
