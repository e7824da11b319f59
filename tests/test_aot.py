"""Kernels compiled ahead of time (``clusterup compile``, clusterup.aot): the same numbers as the kernels
compiled just in time, used only where every input of their key matches, and never in the way."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from clusterup import aot, compiled
from clusterup.cli import main

# Whole runs in a fresh process: the hashes of their time series and final state, how many signatures came
# from the module compiled ahead of time, and how many signatures of any kernel Numba still compiled or loaded
# itself. The last run calls every kernel as from compiled.PARALLEL_ROWS rows on (the row kernels' shares on
# two threads, the recorder's calls of their own), as a large run does.
_RUNS = r"""
import hashlib, sys
import numba
import numpy as np
from numba.core.registry import CPUDispatcher
from clusterup import Simulation, aot
import clusterup.compiled as C

out = []
for preset, seed, firms, steps in (("baseline", 1, None, 120), ("opportunism", 2, None, 80), ("bass", 3, 2000, 40),
                                   ("policy-pipelines", 4, 1500, 40), ("lock-in-university-at-40", 5, None, 60),
                                   ("baseline", 6, None, 40)):
    if seed == 6:
        C.PARALLEL_ROWS = C.PARALLEL_ITEMS = 1
        numba.config.NUMBA_NUM_THREADS = 2
    sim = Simulation(preset, seed=seed, firms=firms, steps=steps)
    series = sim.run().timeseries.to_numpy(dtype=float, na_value=-999)
    pop = sim.state.pop
    h = hashlib.sha256(series.tobytes())
    for field in ("capability", "generation", "knowledge", "rd", "wealth", "mode"):
        h.update(np.ascontiguousarray(pop.view(field)).tobytes())
    for layer in sim.state.net:
        h.update(layer.keys.tobytes() + layer.w.tobytes())
    out.append(f"{preset}:{h.hexdigest()[:16]}")
print(" ".join(out))
print(len(aot.attached()), sum(len(d.signatures) for d in vars(C).values() if isinstance(d, CPUDispatcher)))
"""


def _runs(env: dict[str, str]) -> tuple[str, int, int]:
    done = subprocess.run([sys.executable, "-c", _RUNS], env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    series, counts = done.stdout.strip().splitlines()[-2:]
    attached, jit = map(int, counts.split())
    return series, attached, jit


def test_runs_with_kernels_compiled_ahead_of_time_are_the_same_bit_for_bit(built):  # built: tests/conftest.py
    ahead, attached, jit = _runs({aot.PLACE: str(built)})
    just_in_time, none, _ = _runs({aot.SWITCH: "0", aot.PLACE: str(built)})
    assert ahead == just_in_time
    assert none == 0
    # the module served the runs, large ones too: it holds the kernels a simulation calls, and Numba compiled
    # or loaded no kernel itself
    assert attached >= 30
    assert jit == 0


# The same runs in a process that never imports Numba: kernels compiled ahead of time called through the
# build's lean functions (aot.tests_source). The large run's two threads come from NUMBA_NUM_THREADS in the
# environment (as Numba would read it).
_LEAN_RUNS = _RUNS.replace("import numba\n", "").replace("numba.config.NUMBA_NUM_THREADS = 2", "pass").replace(
    "from numba.core.registry import CPUDispatcher\n", "").replace(
    "print(len(aot.attached()), sum(len(d.signatures) for d in vars(C).values() if isinstance(d, CPUDispatcher)))",
    "print(C._LEAN is not None, 'numba' in sys.modules)")  # fmt: skip


def test_a_process_that_never_imports_numba_runs_the_same_machine_code(built):
    just_in_time, _, _ = _runs({aot.SWITCH: "0", aot.PLACE: str(built)})
    env = {**os.environ, aot.PLACE: str(built), "NUMBA_NUM_THREADS": "2"}
    # lean throughout; Numba's from the first run's middle; Numba's from the start, as a pool's parent does
    for budget, started, first in ((10**12, "False", ""), (3_000, "True", ""), (10**12, "True", "C.for_workers()")):
        script = _LEAN_RUNS.replace("out = []", f"C._LEAN_BUDGET[0] = {budget}\n{first}\nout = []")
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        series, modes = done.stdout.strip().splitlines()[-2:]
        assert series == just_in_time
        assert modes == f"True {started}"  # the kernels were the lean ones; Numba started only once they spent the budget


def test_small_runs_find_every_signature_in_the_build(built):
    """Runs so small that a layer holds one tie or none (its ends, views of the keys' halves, are then typed as
    contiguous arrays, not strided ones) find their signatures in the build too, and so do the processes'
    passes called one by one (as from PARALLEL_ROWS nodes on) in their serial forms: the process never imports
    Numba (aot.signatures compiles each signature with strided arrays in C layout as well)."""
    script = """
import sys
import clusterup.compiled as C
from clusterup import Simulation
C._LEAN_BUDGET[0] = 10**12
for preset, firms, steps in (("baseline", 2, 5), ("baseline", 3, 10), ("baseline", 5, 5), ("baseline", 40, 3),
                             ("policy-institutions", 4, 6), ("opportunism", 6, 6)):
    Simulation(preset, seed=1, firms=firms, steps=steps).run()
# as from PARALLEL_ROWS nodes on: the processes' passes one by one, each in its serial form (few ties or seekers)
C.PARALLEL_ROWS = 20
for preset in ("baseline", "policy-institutions"):
    Simulation(preset, seed=1, firms=200, steps=8).run()
print(C._LEAN is not None, "numba" in sys.modules)
"""
    env = {**os.environ, aot.PLACE: str(built)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "True False"


_OTHER_TYPES = r"""
import sys
import numpy as np
import clusterup.compiled as C
from clusterup import Simulation
assert C._LEAN is not None and "numba" not in sys.modules
a = C._end_sums  # as another module holds it: from clusterup.compiled import _end_sums
keys, w = np.array([1, 2], dtype=np.int32), np.array([0.5, 0.25], dtype=np.float32)  # types no run passes
out = a(keys, keys, w, 3)
ref = a.py_func(keys, keys, w, 3)
from numba.core.registry import CPUDispatcher
from clusterup import aot
print(np.array_equal(out, ref), isinstance(C._end_sums, CPUDispatcher),
      len(aot.attached()) >= 30)
series = Simulation("baseline", seed=1, steps=20).run().timeseries.to_numpy(dtype=float, na_value=-999)
print(series.sum())
"""


def test_a_call_of_other_types_hands_every_kernel_to_numba(built):
    done = subprocess.run([sys.executable, "-c", _OTHER_TYPES], env={**os.environ, aot.PLACE: str(built)},
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    handed, total = done.stdout.strip().splitlines()[-2:]
    # the odd call got Numba's answer; every kernel is Numba's dispatcher now, with the compiled signatures
    assert handed == "True True True"
    plain = subprocess.run([sys.executable, "-c", _OTHER_TYPES.split("assert C._LEAN")[0] + "from clusterup import "
                            "Simulation\nprint(Simulation('baseline', seed=1, steps=20).run().timeseries.to_numpy("
                            "dtype=float, na_value=-999).sum())"], env={**os.environ, aot.SWITCH: "0"},
                           capture_output=True, text=True, timeout=900)  # fmt: skip
    assert plain.returncode == 0, plain.stderr[-3000:]
    assert total == plain.stdout.strip().splitlines()[-1]


class _OwnGenerator(__import__("numpy").random.Generator):
    """A subclass of NumPy's Generator (Numba types it as one)."""


def _values():
    """Arguments of every kind Numba's dispatcher tells apart."""
    import numpy as np

    c2 = np.zeros((3, 4))
    readonly = np.zeros(5)
    readonly.flags.writeable = False
    unaligned = np.frombuffer(bytearray(8 * 5 + 1), dtype=np.uint8)[1:].view(np.float64)
    return [np.zeros(5), np.zeros(5, dtype=np.int64), np.zeros(5, dtype=np.int32), np.zeros(5, dtype=bool),
            np.zeros(5, dtype=np.float32), np.zeros(5, dtype=np.longlong), c2, np.asfortranarray(c2), c2[:, ::2],
            np.zeros(10)[::2], np.zeros((3, 1)), np.zeros((1, 3), order="F"), np.zeros(()), readonly, unaligned,
            np.zeros(5, dtype=">f8"), 1, 2**63 - 1, 2**63, -(2**63),
            2.5, True, np.int64(3), np.int32(3), np.float64(1.5), np.float32(1.5),
            np.bool_(False), np.uint8(1), np.ma.zeros(5), [1.0], None, np.random.default_rng(1),
            np.random.Generator(np.random.MT19937(2)), _OwnGenerator(np.random.PCG64(3)), np.random.RandomState(4),
            np.random.PCG64(5)]  # fmt: skip


def test_the_lean_kernels_tell_argument_types_exactly_as_numba_does():
    import numba

    values = _values()
    for want in values:
        try:
            described = aot._describe(numba.typeof(want))
        except Exception:  # noqa: BLE001 - a value Numba cannot type: no signature has it
            continue
        if described is None:
            continue
        space: dict = {}
        exec(aot.tests_source([("k", "k0", [described])], {"k": 1}), space)  # what clusterup compile writes
        space.update(k0=lambda a: "compiled", numba=lambda name: lambda a: "numba", budget=[10**9])
        lean = space["k"]
        for value in values:
            try:
                same = numba.typeof(value) == numba.typeof(want)
            except Exception:  # noqa: BLE001
                same = False
            assert lean(value) == ("compiled" if same else "numba"), (want, value)
    # a spent budget sends every call to Numba's dispatcher
    space["budget"][0] = 0
    assert space["k"](values[0]) == "numba"


def test_the_quick_key_follows_the_source_and_numbas_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_OPT", raising=False)
    before = aot.quick_key()
    assert before is not None and before == aot.quick_key(compiled.__file__)
    source = tmp_path / "compiled.py"
    source.write_bytes(Path(compiled.__file__).read_bytes() + b"\n")
    assert aot.quick_key(source) != before
    monkeypatch.setenv("NUMBA_NUM_THREADS", "7")  # changes no machine code
    assert aot.quick_key() == before
    monkeypatch.setenv("NUMBA_OPT", "1")
    assert aot.quick_key() != before
    monkeypatch.delenv("NUMBA_OPT")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".numba_config.yaml").write_text("opt: 1\n")  # Numba's settings from a file: no quick key
    assert aot.quick_key() is None


def test_the_build_holds_one_module_and_its_table_and_releases_the_gil(built):
    (place,) = [p for p in built.iterdir() if aot._is_build(p)]
    # a process that has not imported Numba finds it under its quick key
    assert (built / aot.LEAN / aot.quick_key()).read_text().strip() == place.name
    assert place.name == aot.key()
    # the module, its table and the stamp of its last use (a new build counts as used: compile prunes the others)
    assert sorted(p.name for p in place.iterdir()) == sorted([aot.TABLE, aot._library(place).name, aot.USED, aot.TESTS,
                                                              "__pycache__"])  # fmt: skip
    # compiled.concurrently runs serial kernels side by side on threads: their compiled forms must let go of the GIL
    assert b"PyEval_SaveThread" in aot._library(place).read_bytes()


def test_a_build_for_other_kernels_or_another_machine_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setenv(aot.PLACE, str(tmp_path))
    monkeypatch.delenv(aot.SWITCH, raising=False)
    other = tmp_path / ("0" * 24)  # what another source, Numba, Python or processor would be filed under
    other.mkdir()
    (other / aot.TABLE).write_bytes(b"not read")
    assert aot.attach({"__file__": compiled.__file__}) == 0
    # the key follows the kernels' source byte for byte
    source = tmp_path / "compiled.py"
    source.write_bytes(Path(compiled.__file__).read_bytes() + b"\n")
    assert aot.key(source) != aot.key() == aot.key(compiled.__file__)


def test_a_broken_build_warns_once_and_leaves_the_kernels_as_they_were(tmp_path, monkeypatch):
    monkeypatch.setenv(aot.PLACE, str(tmp_path))
    monkeypatch.delenv(aot.SWITCH, raising=False)
    place = tmp_path / aot.key()
    place.mkdir()
    (place / aot.TABLE).write_text("[]")  # a table, but no module beside it
    namespace = {"__file__": compiled.__file__}
    with pytest.warns(RuntimeWarning, match="cannot be used"):
        assert aot.attach(namespace) == 0
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        assert aot.attach(namespace) == 0  # once per module: no second warning
    assert again == []
    monkeypatch.setenv(aot.SWITCH, "0")
    assert aot.attach({"__file__": compiled.__file__}) == 0


def test_compile_without_a_c_compiler_fails_in_one_line_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(aot.PLACE, str(tmp_path))
    monkeypatch.setenv("CC", "/bin/false")  # numba.pycc finds no working C compiler
    assert main(["compile"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("compile: compiling the kernels ahead of time failed: "), err
    assert list(tmp_path.iterdir()) == []


def test_the_key_depends_on_the_processor_and_versions(monkeypatch):
    import llvmlite.binding as ll

    before = aot.key()
    monkeypatch.setattr(ll, "get_host_cpu_name", lambda: "another-processor")
    assert aot.key() != before


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_during_compile_exits_130_and_leaves_nothing(tmp_path):
    import signal
    import time

    env = {**os.environ, aot.PLACE: str(tmp_path)}
    env.pop(aot.SWITCH, None)
    # as a terminal does: the default SIGINT disposition (a background job of a non-interactive shell ignores it)
    default = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    p = subprocess.Popen([sys.executable, "-m", "clusterup", "compile"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, preexec_fn=default)  # fmt: skip
    start = time.time()
    while not list(tmp_path.glob(".building-*")) and time.time() - start < 120:  # the build under way
        time.sleep(0.1)
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err[-2000:]
    assert err.strip().splitlines() == ["interrupted: nothing finished was lost, nothing partial was written"]
    assert list(tmp_path.iterdir()) == []


def test_no_place_for_builds_is_no_error(tmp_path, monkeypatch):
    """No home directory, or a cache directory that cannot be read: the kernels compile just in time, silently."""
    monkeypatch.delenv(aot.PLACE, raising=False)
    monkeypatch.delenv(aot.SWITCH, raising=False)

    def homeless():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(homeless))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert aot.attach({"__file__": compiled.__file__}) == 0
        monkeypatch.setenv(aot.PLACE, str(tmp_path / "aot"))

        def unreadable(self):
            raise PermissionError(13, "Permission denied", str(self))

        monkeypatch.setattr(Path, "is_dir", unreadable)
        assert aot.attach({"__file__": compiled.__file__}) == 0


def test_compile_without_a_writable_place_fails_in_one_line(tmp_path, monkeypatch, capsys):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    monkeypatch.setenv(aot.PLACE, str(blocked / "aot"))
    assert main(["compile"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "set CLUSTERUP_AOT_DIR to a writable directory" in err[0], err


def test_constants_that_kernels_pass_each_other_are_left_out_of_the_table():
    # With Numba's cache cold, a kernel called by another with a constant (``_spill_rows(..., 0, n)``) lists
    # that call among its signatures, typed Literal[int](0). No process calls it so, and NumPy has no such
    # dtype: the first `clusterup compile` on a fresh machine failed on it ("data type 'Literal[int](0)' not
    # understood"). The table leaves such types to the kernels compiled just in time.
    from numba.core import types

    assert aot._describe(types.literal(0)) is None
    assert aot._describe(types.literal(True)) is None
    assert aot._describe(types.int64) == {"scalar": "int64"}


def _fake_build(root: Path, key: str, used_days_ago: float | None, now: float, table_days_ago: float = 400) -> Path:
    place = root / key
    place.mkdir(parents=True)
    (place / aot.TABLE).write_text("[]")
    (place / f"{aot.MODULE}.so").write_bytes(b"\0" * 1000)
    os.utime(place / aot.TABLE, (now - table_days_ago * 86_400,) * 2)
    if used_days_ago is not None:
        (place / aot.USED).touch()
        os.utime(place / aot.USED, (now - used_days_ago * 86_400,) * 2)
    return place


def test_prune_removes_builds_unused_for_thirty_days_and_nothing_else(tmp_path, monkeypatch):
    """Builds of earlier versions are never used again: ``clusterup compile`` removes those no process used for
    STALE_DAYS days, and what interrupted builds left; the build in use, recent ones and other files stay."""
    import time

    monkeypatch.setenv(aot.PLACE, str(tmp_path))
    now = time.time()
    old = _fake_build(tmp_path, "a" * 24, used_days_ago=31, now=now)
    unstamped = _fake_build(tmp_path, "b" * 24, used_days_ago=None, now=now)  # from before stamps: its table's age
    recent = _fake_build(tmp_path, "c" * 24, used_days_ago=2, now=now)
    current = _fake_build(tmp_path, "d" * 24, used_days_ago=365, now=now)
    leftover = tmp_path / ".building-1-abc"
    leftover.mkdir()
    os.utime(leftover, (now - 2 * 86_400,) * 2)
    under_way = tmp_path / ".building-2-def"
    under_way.mkdir()
    mine = tmp_path / "notes"  # not a build: never touched
    mine.mkdir()
    (tmp_path / aot.LEAN).mkdir()
    (tmp_path / aot.LEAN / ("1" * 24)).write_text(old.name + "\n")  # names a build that goes
    (tmp_path / aot.LEAN / ("2" * 24)).write_text(recent.name + "\n")
    removed = aot.prune(keep=current.name, now=now)
    assert sorted(p.name for p, _ in removed) == sorted([old.name, unstamped.name, leftover.name])
    assert [p.name for p in (tmp_path / aot.LEAN).iterdir()] == ["2" * 24]
    assert dict((p.name, b) for p, b in removed)[old.name] == 1002
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([recent.name, current.name, under_way.name, "notes",
                                                                 aot.LEAN])  # fmt: skip
    assert aot.prune(keep=current.name, now=now) == []


def test_a_used_build_is_stamped_at_most_once_a_day(tmp_path):
    import time

    aot._mark_used(tmp_path)
    stamp = tmp_path / aot.USED
    assert time.time() - stamp.stat().st_mtime < 60
    os.utime(stamp, (time.time() - 3600,) * 2)  # an hour ago: left as it is
    aot._mark_used(tmp_path)
    assert time.time() - stamp.stat().st_mtime > 3000
    os.utime(stamp, (time.time() - 2 * 86_400,) * 2)  # two days ago: stamped again
    aot._mark_used(tmp_path)
    assert time.time() - stamp.stat().st_mtime < 60
    aot._mark_used(tmp_path / "gone")  # no such place: silently nothing


def test_compile_reports_what_it_pruned(tmp_path, monkeypatch, capsys):
    import time

    monkeypatch.setenv(aot.PLACE, str(tmp_path))
    now = time.time()
    _fake_build(tmp_path, "a" * 24, used_days_ago=40, now=now)
    fresh = _fake_build(tmp_path, "e" * 24, used_days_ago=0, now=now)
    monkeypatch.setattr(aot, "build", lambda: (fresh, 67))
    assert main(["compile"]) == 0
    said = capsys.readouterr().out
    assert "67 kernel signatures compiled" in said and "removed 1 build(s) unused for 30 days or more" in said, said
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name]


def test_a_table_that_tries_to_put_code_into_the_lean_kernels_is_refused():
    """The lean kernels are Python that ``clusterup compile`` writes from the table of what it compiled
    (aot.tests_source): only checked types and names go into it, anything else stops the build."""
    good = {"dtype": "float64", "ndim": 1, "layout": "C", "readonly": False, "aligned": True}
    assert "def k(a0, a1):" in aot.tests_source([("k", "k0", [good, {"scalar": "int64"}])], {"k": 2})
    assert "isinstance(a0, Generator)" in aot.tests_source([("k", "k0", [aot.GENERATOR])], {"k": 1})
    for bad in ({**good, "dtype": "float64') or __import__('os').system('true') or ('"}, {**good, "ndim": "1 or True"},
                {**good, "layout": "C' or 'A"}, {"scalar": "int64 or True"}, {**good, "readonly": "no"},
                {"object": "__import__('os')"}, {"object": "Generator", "scalar": "int64"}):  # fmt: skip
        with pytest.raises(ValueError, match="not a described type"):
            aot.tests_source([("k", "k0", [bad])], {"k": 1})
    for name, export in (("k(): pass\nimport os\ndef k", "k0"), ("k", "k0(); import os; k0")):
        with pytest.raises(ValueError, match="name"):
            aot.tests_source([(name, export, [good])], {name: 1})
