"""The walls of the architecture (docs/extending.md), checked on the source: which part may import which,
only the CLI exits, and importing the package has no global side effect."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "clusterup"


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in SRC.rglob("*.py")}


def _imports(name: str) -> list[tuple[str, list[str], int]]:
    """(imported clusterup module, names taken from it, line) for every import of a module, also inside
    functions and TYPE_CHECKING blocks."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "clusterup":
                out.append((target, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "clusterup":
                    out.append((a.name, [], node.lineno))
    return out


def _part(module: str) -> str:
    """The architectural part a module belongs to: clusterup.state.firms -> state."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _targets(module: str, taken: list[str]) -> set[str]:
    """The parts an import reaches (a name taken from a package may be a subpackage)."""
    found = {_part(module)}
    if module == "clusterup":
        found = {n for n in taken if f"clusterup.{n}" in MODULES} or {""}
    return found


def _violations(parts: set[str], allowed: set[str]) -> list[str]:
    bad = []
    for name in sorted(MODULES):
        if _part(name) not in parts:
            continue
        for target, taken, line in _imports(name):
            reached = _targets(target, taken) - {_part(name)}
            if reached - allowed:
                bad.append(f"{name}:{line} imports {target} ({', '.join(sorted(reached - allowed))})")
    return bad


def test_state_imports_no_process():
    assert _violations({"state"}, {"kernels", "compiled", "params", "errors"}) == []


def test_processes_import_only_state_kernels_params_rng():
    assert _violations({"processes"}, {"state", "kernels", "compiled", "params", "rng"}) == []


def test_simulation_imports_no_plots():
    assert [i for i in _imports("clusterup.simulation") if _part(i[0]) in ("plots", "explorer", "report", "cli")] == []


@pytest.mark.parametrize("part", ["plots", "report", "explorer"])
def test_plots_report_and_explorer_read_results_not_the_state(part):
    forbidden = {"state", "recorder", "schedule", "processes", "checkpoint"}
    if part != "explorer":
        forbidden.add("simulation")  # the explorer runs simulations; it reads them through Results and public API
    hits = [f"{name}:{line} {target}" for name in MODULES if _part(name) == part
            for target, taken, line in _imports(name) if _targets(target, taken) & forbidden]  # fmt: skip
    assert hits == []


def test_experiments_use_the_public_api():
    hits = []
    for name in MODULES:
        if _part(name) != "experiments":
            continue
        for target, taken, line in _imports(name):
            if _part(target) in ("experiments",):
                continue
            if _part(target) in ("state", "recorder", "schedule", "processes", "checkpoint", "compiled", "kernels"):
                hits.append(f"{name}:{line} reaches into {target}")
            hits += [f"{name}:{line} takes the private {t} from {target}" for t in taken if t.startswith("_")]
    assert hits == []


def test_no_private_name_crosses_a_part():
    hits = [f"{name}:{line} takes {t} from {target}" for name in MODULES for target, taken, line in _imports(name)
            if _part(target) != _part(name) for t in taken if t.startswith("_") and t != "__version__"]  # fmt: skip
    assert hits == []


def test_only_the_cli_exits():
    hits = []
    for name, path in MODULES.items():
        if name in ("clusterup.cli", "clusterup.__main__", "clusterup.entry"):  # the command line and its entry points
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = ast.unparse(node.func)
                if f in ("sys.exit", "exit", "quit", "os._exit", "typer.Exit"):
                    hits.append(f"{name}:{node.lineno} calls {f}")
            if isinstance(node, ast.Raise) and node.exc is not None and "SystemExit" in ast.unparse(node.exc):
                hits.append(f"{name}:{node.lineno} raises SystemExit")
    assert hits == []


_GLOBAL_EFFECTS = ("matplotlib.use", "np.random.seed", "numpy.random.seed", "signal.signal", "set_start_method",
                   "plt.switch_backend", "warnings.simplefilter", "warnings.filterwarnings", "logging.basicConfig")  # fmt: skip


def test_no_module_level_call_has_a_global_effect():
    hits = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for stmt in tree.body:  # module level only: inside functions such calls happen when a user asks
            for node in ast.walk(stmt) if not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) else ():
                if isinstance(node, ast.Call) and ast.unparse(node.func) in _GLOBAL_EFFECTS:
                    hits.append(f"{name}:{node.lineno} {ast.unparse(node.func)}")
    assert hits == []


def test_importing_every_module_leaves_the_process_as_it_was():
    code = f"""
import importlib, signal, sys, threading
import numpy as np
handlers = {{s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}}
state = np.random.get_state()[1].copy()
threads = threading.active_count()
for name in {sorted(n for n in MODULES if not n.startswith("clusterup.explorer.app") and n != "clusterup.__main__")!r}:
    importlib.import_module(name)
assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
import matplotlib
assert not matplotlib.rcParams._get_backend_or_none() or matplotlib.get_backend() == matplotlib.rcParamsDefault["backend"]
assert {{s: signal.getsignal(s) for s in handlers}} == handlers, "a signal handler changed"
assert (np.random.get_state()[1] == state).all(), "the global NumPy random state changed"
assert threading.active_count() == threads, "a thread was started"
print("ok")
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr[-2000:]


def test_a_run_imports_neither_scipy_sparse_nor_the_analysis_stack():
    """A simulation needs NumPy and the compiled kernels only: SciPy's sparse matrices are for users who ask
    for ``Layer.adjacency`` (start-up time, docs/performance.md)."""
    code = """
import sys
from clusterup import Simulation
Simulation("baseline", firms=40, steps=3).run()
loaded = sorted(m for m in ("scipy.sparse", "matplotlib", "networkx", "SALib", "dask", "duckdb") if m in sys.modules)
print(loaded)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and res.stdout.strip() == "[]", res.stdout + res.stderr[-2000:]


def test_a_quiet_run_imports_no_console_library():
    """``clusterup run --quiet`` prints nothing, so it imports none of rich (its console, tables and progress
    bars: 40-50 ms of start-up, docs/performance.md); a run that prints makes its console when it first prints."""
    code = """
import sys
from clusterup.cli import main
import tempfile
with tempfile.TemporaryDirectory() as tmp:
    assert main(["run", "--firms", "40", "--steps", "3", "--out", tmp + "/r", "--quiet"]) == 0
    print(sorted(m for m in sys.modules if m.split(".")[0] == "rich"))
    assert main(["run", "--firms", "40", "--steps", "3", "--out", tmp + "/s"]) == 0
    print("rich.console" in sys.modules)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip().splitlines()[0] == "[]" and res.stdout.strip().splitlines()[-1] == "True", res.stdout
