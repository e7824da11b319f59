"""A real SIGINT to the CLI process: exit code 130, one line saying what was kept, finished work kept."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _interrupt(args: list[str], wait_for: Path | None, timeout: float = 120.0) -> subprocess.CompletedProcess:
    from clusterup import simulate

    simulate("baseline", seed=1, steps=2, firms=20)  # compile (and cache) the kernels first: the signal must hit the work
    # a job started in the background by a non-interactive shell (as CI may run us) inherits SIGINT ignored,
    # and an ignored signal stays ignored across exec: give the child the default disposition, as a terminal does
    p = subprocess.Popen([sys.executable, "-c", _CHILD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    start = time.time()
    while time.time() - start < timeout:  # interrupt once there is work to keep (or after a few seconds)
        if wait_for is None and time.time() - start > 8:
            break
        if wait_for is not None and wait_for.exists() and len(list(wait_for.glob("*"))) >= 2:
            break
        time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        # never leave the run going for the rest of the suite; say where it was instead
        masks = _signal_masks(p.pid)
        p.send_signal(signal.SIGUSR1)  # faulthandler writes every thread's stack to stderr
        time.sleep(2)
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"still running 180 s after SIGINT; signal masks by thread: {masks}; stderr:\n{err[-6000:]}")
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


# ``python -m clusterup`` (what runpy does for -m), with every thread's stack written to stderr on SIGUSR1
_CHILD = ("import faulthandler, runpy, signal; faulthandler.register(signal.SIGUSR1, all_threads=True); "
          "runpy.run_module('clusterup', run_name='__main__', alter_sys=True)")  # fmt: skip


def _signal_masks(pid: int) -> dict[str, str]:
    """Each thread's blocked and pending signals (Linux), for the message of a run that did not stop."""
    tasks = Path(f"/proc/{pid}/task")
    found = {}
    for t in sorted(tasks.iterdir()) if tasks.is_dir() else []:
        try:
            lines = (t / "status").read_text().splitlines()
            name = (t / "comm").read_text().strip()
        except OSError:
            continue
        found[f"{t.name} {name}"] = " ".join(x.replace("\t", "") for x in lines if x.startswith(("SigBlk", "SigPnd", "ShdPnd")))
    return found


def test_an_interrupted_run_exits_130_and_writes_nothing_partial(tmp_path):
    out = tmp_path / "r"
    res = _interrupt(["run", "baseline", "--steps", "100000", "--firms", "2000", "--out", str(out), "--quiet"], None)
    assert res.returncode == 130, res.stderr
    assert res.stderr.strip().startswith("interrupted") and len(res.stderr.strip().splitlines()) == 1
    assert not out.exists()  # no partial run directory


def test_an_interrupted_ensemble_exits_130_and_keeps_finished_runs(tmp_path):
    out = tmp_path / "e"
    res = _interrupt(["ensemble", "baseline", "--runs", "200", "--steps", "30", "--firms", "60", "--workers", "1",
                      "--out", str(out)], out / "runs")  # fmt: skip
    assert res.returncode == 130, res.stderr
    assert "finish with --resume" in res.stderr and "runs kept" in res.stderr
