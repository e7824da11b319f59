"""Kernels compiled ahead of time: ``clusterup compile`` builds them once per machine, later processes start
without loading them.

A process that runs a simulation with kernels compiled just in time pays each time for Numba to start its
compiler and to load every kernel from its disk cache: about 0.3 s of the 1.5 s of ``clusterup run
baseline`` (docs/performance.md). ``clusterup compile`` runs every shipped scenario for a few steps to learn
which kernels a simulation calls with which argument types, compiles those into one extension module with
Numba's ahead-of-time compiler (``numba.pycc``, for this machine's processor, with a C compiler), and keeps
it in :func:`directory`. Afterwards, an import of :mod:`clusterup.compiled` in a process that has not
imported Numba calls the compiled functions without starting Numba at all (:func:`lean`; Numba's import is
about 0.2 s): each kernel is a Python function, written by ``clusterup compile`` into the build beside the
module (:data:`TESTS`, with its bytecode), that tests its arguments' types against its compiled signatures
exactly as Numba's dispatcher would (:func:`kernel_source`). Such a call costs about half a
microsecond more than Numba's dispatcher, so after ``compiled.LEAN_CALLS`` calls (a long process: an
ensemble's worker) the process starts Numba after all and every kernel goes through its dispatcher, which
is what a process that imported Numba first does from the start: the compiled functions are handed to the
kernels' own dispatchers (:func:`attach`). A call with exactly the argument types of a compiled signature
runs the compiled function, any other call is compiled or loaded just in time as before.

The numbers are the same either way: the same Numba compiles the same functions for the same processor
(tests/test_aot.py compares whole runs bit for bit). The module is found under a key of everything it
depends on (the kernels' source, the Python, NumPy, Numba and llvmlite versions, the processor and its
features, Numba's code-generation settings), so a change of any of them, an upgrade or a copy to another
machine, means it is not used (and ``clusterup compile`` builds another). Telling the processor's features
needs llvmlite, so a build also records a quick key, told from ``/proc/cpuinfo`` and the libraries' version
files without importing either (:func:`quick_key`, Linux only); a process without Numba finds its build
under that. ``CLUSTERUP_AOT=0`` switches it
off; ``CLUSTERUP_AOT_DIR`` chooses the directory. A process that uses a build stamps it (:data:`USED`, once a
day at most), and ``clusterup compile`` removes the builds that none used for :data:`STALE_DAYS` days
(:func:`prune`). The parallel forms of the row kernels (from
``compiled.PARALLEL_ROWS`` rows on) are the same compiled functions called on shares of the rows from
several threads, so large runs need nothing compiled just in time either.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from .errors import ClusterupError

MODULE = "clusterup_kernels"  # the extension module's name (its init function is PyInit_<MODULE>)
TABLE = "kernels.json"  # (kernel, export, argument types) of every compiled signature
SWITCH = "CLUSTERUP_AOT"  # "0": do not use kernels compiled ahead of time
PLACE = "CLUSTERUP_AOT_DIR"  # where they are kept (default: the user's cache directory)
STEPS = 60  # steps of each shipped scenario run to learn the kernels' argument types
BEHIND_STEPS = 5  # and with the recorder's measures taken behind the next step (recorder.BEHIND_FROM)
USED = "used"  # a build's stamp: its modification time is when a process last used the build (to the day)
STALE_DAYS = 30  # ``clusterup compile`` removes the other builds that no process used for this many days
KEY_LENGTH = 24  # hexadecimal digits of a build's key: its directory's name
LEAN = "lean"  # directory()/lean/<quick key> names the build a process may use without importing Numba (lean)
QUICK_SKIPS = ("NUMBA_NUM_THREADS", "NUMBA_CACHE_DIR")  # NUMBA_ settings that change no machine code
_CPU_FIELDS = frozenset({"vendor_id", "cpu family", "model", "model name", "stepping", "flags",  # x86
                         "CPU implementer", "CPU architecture", "CPU variant", "CPU part", "CPU revision", "Features"})  # fmt: skip

_attached: list[tuple[str, tuple]] = []  # the signatures handed over; keeps their types alive (see attach)
_modules: dict[Path, Any] = {}  # the extension module of each build this process loaded (lean, then attach)
_lean_count = [0]  # signatures lean() found


class CompileError(ClusterupError):
    """Building the kernels ahead of time failed (no C compiler, say); the message is one line."""


def directory() -> Path:
    """Where compiled kernels are kept: ``CLUSTERUP_AOT_DIR``, else ``clusterup/aot`` in the user's cache
    directory (``XDG_CACHE_HOME`` or ``~/.cache``)."""
    if os.environ.get(PLACE):
        return Path(os.environ[PLACE])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "clusterup" / "aot"


def key(source: str | Path | None = None) -> str:
    """The key of the compiled kernels this process can use: a hash of the kernels' source (``source``,
    default :mod:`clusterup.compiled`'s file) and of everything else their machine code depends on."""
    import llvmlite
    import llvmlite.binding as ll
    import numba
    import numpy

    if source is None:
        source = Path(__file__).with_name("compiled.py")
    h = hashlib.sha256(Path(source).read_bytes())
    config = numba.config
    for part in (
        sys.version,
        sys.implementation.cache_tag,
        platform.machine(),
        numpy.__version__,
        numba.__version__,
        llvmlite.__version__,
        ll.get_host_cpu_name(),
        ll.get_host_cpu_features().flatten(),
        repr((config.OPT, config.BOUNDSCHECK, config.DEBUGINFO_DEFAULT)),
        importlib.machinery.EXTENSION_SUFFIXES[0],
    ):
        h.update(b"\0" + str(part).encode())
    return h.hexdigest()[:KEY_LENGTH]


def quick_key(source: str | Path | None = None) -> str | None:
    """A key told without importing Numba or llvmlite (their start costs about 0.2 s), of everything :func:`key`
    depends on: the kernels' source, the Python, NumPy, Numba's and llvmlite's version files, the processor as
    ``/proc/cpuinfo`` describes its first core (vendor, family, model, stepping, feature flags), the ``NUMBA_``
    settings in the environment that can change machine code (all but :data:`QUICK_SKIPS`). Equal quick keys
    mean equal keys; a build records its quick key (:data:`LEAN`) so that a later process with the same one can
    use it without Numba (:func:`lean`). None where this cannot be told cheaply: no ``/proc/cpuinfo`` (other
    systems than Linux), Numba or llvmlite not found, or Numba's settings file ``.numba_config.yaml`` in the
    working directory."""
    import numpy

    if os.path.exists(".numba_config.yaml"):
        return None
    if source is None:
        source = Path(__file__).with_name("compiled.py")
    try:
        h = hashlib.sha256(Path(source).read_bytes())
        for package in ("numba", "llvmlite"):
            spec = importlib.util.find_spec(package)
            if spec is None or not spec.submodule_search_locations:
                return None
            h.update(b"\0" + (Path(list(spec.submodule_search_locations)[0]) / "_version.py").read_bytes())
        cpu = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").strip().split("\n\n")[0]
    except (OSError, ValueError, ImportError):
        return None
    described = sorted(line.strip() for line in cpu.splitlines() if line.split(":")[0].strip() in _CPU_FIELDS)
    settings = sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith("NUMBA_") and k not in QUICK_SKIPS)
    for part in (sys.version, sys.implementation.cache_tag, platform.machine(), numpy.__version__, described,
                 settings, importlib.machinery.EXTENSION_SUFFIXES[0]):  # fmt: skip
        h.update(b"\0" + str(part).encode())
    return h.hexdigest()[:KEY_LENGTH]


def _library(place: Path) -> Path:
    return place / f"{MODULE}{importlib.machinery.EXTENSION_SUFFIXES[0]}"


def _module(place: Path) -> Any:
    """The extension module of the build in ``place``, loaded once per process."""
    if place not in _modules:
        spec = importlib.util.spec_from_file_location(MODULE, _library(place))
        if spec is None or spec.loader is None:
            raise ImportError(f"no extension module in {place}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _modules[place] = module
    return _modules[place]


# NumPy's array flags (``ndarray.flags.num``) that Numba's array types tell apart
_C, _F, _WRITEABLE = 0x1, 0x2, 0x400

GENERATOR = {"object": "Generator"}  # a numpy.random.Generator argument, as a build's table describes it


@functools.cache
def _scalar_types() -> dict[str, frozenset[type]]:
    """The Python and NumPy scalar types of each of Numba's scalar types (``numba.typeof`` of their values)."""
    import numpy as np

    kinds: dict[str, set[type]] = {"bool": {bool}, "float64": {float}, "complex128": {complex}}  # int: see _test
    for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.float32,
              np.float64, np.intc, np.uintc, np.longlong, np.ulonglong, np.intp, np.uintp, np.complex128):  # fmt: skip
        kinds.setdefault(np.dtype(t).name, set()).add(t)
    return {name: frozenset(types) for name, types in kinds.items()}


def _checked(d: Any) -> None:
    """Raise ValueError unless ``d`` is a type as :func:`_describe` writes it into a build's table."""
    import numpy as np

    if not isinstance(d, dict):
        raise ValueError(f"not a described type: {d!r}")
    if set(d) == {"scalar"} and d["scalar"] in _scalar_types() or d == GENERATOR:
        return
    if (set(d) != {"dtype", "ndim", "layout", "readonly", "aligned"} or d["layout"] not in ("C", "F", "A")
            or type(d["ndim"]) is not int or not 0 <= d["ndim"] <= 32 or type(d["readonly"]) is not bool
            or type(d["aligned"]) is not bool or not isinstance(d["dtype"], str)):  # fmt: skip
        raise ValueError(f"not a described type: {d!r}")
    try:
        np.dtype(d["dtype"])
    except TypeError as exc:
        raise ValueError(f"not a described type: {d!r}") from exc


def _test(i: int, d: dict[str, Any]) -> str:
    """The Python test that argument ``a{i}`` has the Numba type :func:`_describe` gave ``d`` for, exactly as
    Numba's dispatcher tells types: a scalar by its Python or NumPy type; an array by being an ``ndarray`` (not
    a subclass), its dtype, dimensions, layout (``C`` where C-contiguous, else ``F`` where Fortran-contiguous,
    else ``A``) and whether it is writeable (Numba's array types say "aligned" whatever the array's flag); a
    Python int as Numba types it (int64 below 2**63, uint64 up to 2**64); a NumPy ``Generator`` (a kernel that
    draws from a process's stream) by being one. It names the dtype ``D_<name>`` and
    the scalar types ``S_<name>`` (:data:`TESTS_HEADER` defines them); ``d`` is checked first (:func:`_checked`),
    so nothing but those names and integers goes into the test."""
    import numpy as np

    a = f"a{i}"
    _checked(d)
    if d == GENERATOR:  # Numba types a Generator, and an instance of a subclass, whatever its bit generator
        return f"isinstance({a}, Generator)"
    if "scalar" in d:
        kind = f"S_{d['scalar']}"
        ints = {"int64": (-(2**63), 2**63), "uint64": (2**63, 2**64)}.get(d["scalar"])  # Python ints Numba types so
        if ints:
            return f"(type({a}) is int and {ints[0]} <= {a} < {ints[1]} or type({a}) in {kind})"
        return f"type({a}) in {kind}"
    if not d["aligned"]:  # Numba types every array as aligned (numba.typeof), whatever its flag
        return "False"
    dtype = f"D_{np.dtype(d['dtype']).name}"
    wanted = 0 if d["readonly"] else _WRITEABLE
    mask = _WRITEABLE | _C
    if d["layout"] == "C":
        wanted |= _C
    else:
        mask |= _F
        wanted |= _F if d["layout"] == "F" else 0
    return (f"type({a}) is ndarray and ({a}.dtype is {dtype} or {a}.dtype == {dtype}) and {a}.ndim == {int(d['ndim'])} "
            f"and {a}.flags.num & {mask} == {wanted}")  # fmt: skip


TESTS = "lean_tests.py"  # a build's kernels as lean functions (tests_source), beside its module
TESTS_HEADER = '''"""Written by ``clusterup compile`` (clusterup.aot.tests_source): each kernel compiled ahead of time as a
Python function that tests its arguments' types against the kernel's compiled signatures, exactly as Numba's
dispatcher tells them, and calls the compiled function (k0, k1, ...: set by clusterup.aot.lean from the
build's module), or once the calls' budget is spent or none matches, numba(name) (set by clusterup.compiled)."""

import numpy as np

from clusterup.aot import _scalar_types

ndarray = np.ndarray
Generator = np.random.Generator
numba = budget = None
globals().update({f"S_{name}": kinds for name, kinds in _scalar_types().items()})
'''


def kernel_source(name: str, count: int, signatures: list[tuple[str, list[dict[str, Any]]]]) -> str:
    """Python source of the lean function of kernel ``name`` (``count`` arguments) with ``signatures``, each
    the name of its compiled function and its described argument types (:func:`_describe`): each call takes one
    off ``budget[0]`` and, while some is left, runs the first compiled function whose types the arguments have
    (:func:`_test`); otherwise ``numba(name)`` (the kernel's Numba dispatcher). A call costs about half a
    microsecond more than through Numba's dispatcher, whose start (about 0.2 s) it saves."""
    if not name.isidentifier():
        raise ValueError(f"not a kernel's name: {name!r}")
    params = ", ".join(f"a{i}" for i in range(count))
    lines = [f"def {name}({params}):", "    budget[0] -= 1  # (threads may race here: a call more or less)",
             "    if budget[0] < 0:", f"        return numba({name!r})({params})"]  # fmt: skip
    for export, args in signatures:
        if not export.isidentifier():
            raise ValueError(f"not a compiled function's name: {export!r}")
        if len(args) != count:
            continue
        tests = " and ".join(_test(i, d) for i, d in enumerate(args)) or "True"
        lines += [f"    if {tests}:", f"        return {export}({params})"]
    lines.append(f"    return numba({name!r})({params})")
    return "\n".join(lines) + "\n"


def tests_source(table: list[tuple[str, str, list[dict[str, Any]]]], counts: dict[str, int]) -> str:
    """The module :data:`TESTS` of a build: :data:`TESTS_HEADER`, the dtypes its tests name, and
    :func:`kernel_source` of each kernel in ``table`` (``counts``: each kernel's number of arguments)."""
    import numpy as np

    by_kernel: dict[str, list[tuple[str, list[dict[str, Any]]]]] = {}
    for name, export, args in table:
        by_kernel.setdefault(name, []).append((export, args))
    kernels = [kernel_source(name, counts[name], signatures) for name, signatures in by_kernel.items()]  # checks
    dtypes = sorted({np.dtype(d["dtype"]).name for _, _, args in table for d in args if "dtype" in d})
    return "\n".join([TESTS_HEADER, *(f"D_{t} = np.dtype({t!r})" for t in dtypes), *(f"\n{k}" for k in kernels)])


def lean(source: str | Path | None = None) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The kernels compiled ahead of time, for a process that has not imported Numba: each kernel's lean
    function (the build's :data:`TESTS` module, written by ``clusterup compile``), and that module's namespace,
    where the caller puts ``numba`` (a kernel's name to its Numba dispatcher) and ``budget`` (the calls to make
    before every call goes to Numba's dispatchers, in a list of one). :mod:`clusterup.compiled` calls this once,
    at import. None (Numba's dispatchers from the start) where Numba is imported already, ``CLUSTERUP_AOT=0``,
    there is no quick key (:func:`quick_key`) or no build under it, or it cannot be read."""
    if os.environ.get(SWITCH, "1").strip() == "0" or "numba" in sys.modules:
        return None
    try:
        quick = quick_key(source)
        if quick is None:
            return None
        root = directory()
        place = root / (root / LEAN / quick).read_text(encoding="utf-8").strip()
        entries = json.loads((place / TABLE).read_text(encoding="utf-8"))
        module = _module(place)
        spec = importlib.util.spec_from_file_location(f"{MODULE}_tests", place / TESTS)
        if spec is None or spec.loader is None:
            return None
        tests = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(tests)
        space = vars(tests)
        for _, export, _ in entries:
            space[export] = getattr(module, export)
        functions = {name: space[name] for name, _, _ in entries}
    except (OSError, ValueError, KeyError, TypeError, ImportError, RuntimeError, SyntaxError):  # Numba's, then
        return None
    _mark_used(place)
    _lean_count[0] = len(entries)
    return functions, space


def _describe(t: Any) -> dict[str, Any] | None:
    """A Numba argument type as plain data (arrays of NumPy scalars, the scalars themselves and NumPy's random
    ``Generator``), or None for any other type (such a signature is left to the kernels compiled just in time)."""
    from numba.core import types

    if isinstance(t, types.Literal):  # a constant one kernel passes another (seen when compiled afresh): not a call's
        return None
    if isinstance(t, types.Array) and isinstance(t.dtype, types.Boolean | types.Integer | types.Float):
        return {"dtype": str(t.dtype), "ndim": t.ndim, "layout": t.layout, "readonly": not t.mutable, "aligned": t.aligned}
    if isinstance(t, types.Boolean | types.Integer | types.Float):
        return {"scalar": str(t)}
    if isinstance(t, types.NumPyRandomGeneratorType):
        return dict(GENERATOR)
    return None


def _type(d: dict[str, Any]) -> Any:
    """The Numba type :func:`_describe` gave ``d`` for (the same object: Numba keeps one of each type)."""
    import numba
    import numpy as np
    from numba.core import types

    if d == GENERATOR:
        return types.npy_rng
    if "scalar" in d:
        return numba.from_dtype(np.dtype(d["scalar"]))
    dtype = numba.from_dtype(np.dtype(d["dtype"]))
    return types.Array(dtype, int(d["ndim"]), str(d["layout"]), readonly=bool(d["readonly"]), aligned=bool(d["aligned"]))


def attach(namespace: dict[str, Any]) -> int:
    """Hand the kernels compiled ahead of time for this process's key to the dispatchers named in
    ``namespace`` (:mod:`clusterup.compiled`'s globals; it calls this once, at import). Returns how many
    signatures were handed over (0 where there are none, or ``CLUSTERUP_AOT=0``).

    Each goes in through the dispatcher's own table of compiled signatures, so Numba matches a call's argument
    types as always (exactly: an array's dtype, dimensions, layout and whether it is writeable) and runs the
    compiled function only for its own signature. Numba tells types apart by codes that live as long as the
    type objects do: :data:`_attached` keeps them. Where the module cannot be used, a warning says why and
    every kernel is compiled or loaded just in time."""
    if os.environ.get(SWITCH, "1").strip() == "0" or namespace.get("_ahead_of_time_attached"):
        return 0
    namespace["_ahead_of_time_attached"] = True  # once per module object (one imported again has new dispatchers)
    import numba

    try:  # no place for a build (no home directory, one that cannot be read): nothing to use, nothing to say
        place = directory()
        if numba.config.DISABLE_JIT or not place.is_dir():
            return 0
        place = place / key(namespace.get("__file__"))
        if not (place / TABLE).is_file():
            return 0
    except (OSError, RuntimeError, KeyError):
        return 0
    count = 0
    try:
        entries = [
            (name, export, tuple(_type(d) for d in args))
            for name, export, args in json.loads((place / TABLE).read_text(encoding="utf-8"))
        ]
        module = _module(place)
        for name, export, args in entries:
            function = getattr(module, export)
            namespace[name]._insert([a._code for a in args], function, False)
            _attached.append((name, args))
            count += 1
        _mark_used(place)
    except Exception as exc:  # noqa: BLE001 - any failure: compile just in time, as without the module
        warnings.warn(f"clusterup: the kernels compiled ahead of time in {place} cannot be used ({type(exc).__name__}: "
                      f"{exc}); compiling just in time (run `clusterup compile` again)", RuntimeWarning, stacklevel=2)  # fmt: skip
    return count


def _mark_used(place: Path) -> None:
    """Stamp a build as used now, at most once a day (one ``stat`` otherwise); silently nothing where the place
    cannot be written (a read-only cache shared by many users: their builds are theirs to prune)."""
    stamp = place / USED
    try:
        if time.time() - stamp.stat().st_mtime < 86_400:
            return
    except OSError:
        pass
    try:
        stamp.touch()
    except OSError:
        pass


def _last_used(build: Path) -> float:
    """When a build was last used: its stamp's time, or (a build from before stamps) its table's."""
    for name in (USED, TABLE):
        try:
            return (build / name).stat().st_mtime
        except OSError:
            continue
    return build.stat().st_mtime


def _is_build(path: Path) -> bool:
    name = path.name
    return path.is_dir() and len(name) == KEY_LENGTH and all(c in "0123456789abcdef" for c in name)


def prune(keep: str | None = None, days: float = STALE_DAYS, now: float | None = None) -> list[tuple[Path, int]]:
    """Remove from :func:`directory` the builds (other than ``keep``, a key) that no process used for ``days``
    days, and what interrupted builds left (``.building-*`` a day old: a build under way is younger); every
    other file there is left alone. Each build belongs to one combination of kernels, versions and processor,
    so after upgrades or edits of the kernels the old ones are never used again, and each is some 12 MB.
    Returns each removed path with its size in bytes."""
    import shutil

    now = time.time() if now is None else now
    try:
        entries = sorted(directory().iterdir())
    except OSError:  # no place yet (or none that can be read): nothing to prune
        return []
    removed = []
    for path in entries:
        try:
            if path.name.startswith(".building-") and path.is_dir():
                stale = now - path.stat().st_mtime > 86_400
            elif _is_build(path) and path.name != keep:
                stale = now - _last_used(path) > days * 86_400
            else:
                continue
            if not stale:
                continue
            size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            shutil.rmtree(path)
        except OSError:  # another user's, or going away as we look: left alone
            continue
        removed.append((path, size))
    try:  # the quick keys that name a build no longer there
        root = directory()
        for pointer in (root / LEAN).iterdir():
            try:
                if not (root / pointer.read_text(encoding="utf-8").strip() / TABLE).is_file():
                    pointer.unlink()
            except (OSError, ValueError):
                continue
    except OSError:
        pass
    return removed


def attached() -> list[tuple[str, tuple]]:
    """(kernel, argument types) of every signature this process runs from the kernels compiled ahead of time
    through Numba's dispatchers (:func:`attach`; none while the kernels are lean: :func:`lean_signatures`)."""
    return list(_attached)


def lean_signatures() -> int:
    """How many signatures of the kernels compiled ahead of time this process calls without Numba (0 where it
    found none to call so, :func:`lean`); where their call budget is spent, they went to Numba's dispatchers
    (:func:`attached`)."""
    return _lean_count[0]


def signatures(steps: int = STEPS) -> list[tuple[str, tuple]]:
    """(kernel, argument types) of every kernel signature that the shipped scenarios call in ``steps`` steps,
    in a fixed order. Each preset runs four times: first with every kernel in its serial form (whatever the
    scenario's size: the serial forms, and the processes' steps in one compiled call, are what a smaller run of
    it calls), then for a few steps with the recorder's measures taken behind the next step (as from
    ``recorder.BEHIND_FROM`` slots on), then with the processes' passes called one by one as they are from
    ``compiled.PARALLEL_ROWS`` rows on, first in their serial forms (fewer ties, entries or scores than
    ``PARALLEL_ITEMS``), then with every kernel in its parallel form (the row kernels' shares, the recorder's
    calls of their own) on two threads, so that larger runs find their signatures too. Run in a process that
    compiles just in time (``CLUSTERUP_AOT=0``)."""
    import numba
    from numba.core import types
    from numba.core.registry import CPUDispatcher

    from . import compiled, recorder
    from .params import example_names, preset_names
    from .simulation import Simulation

    rows, items, threads = compiled.PARALLEL_ROWS, compiled.PARALLEL_ITEMS, numba.config.NUMBA_NUM_THREADS
    behind = recorder.BEHIND_FROM

    def thresholds(rows_from: int, items_from: int) -> None:
        compiled.PARALLEL_ROWS = rows_from
        compiled.PARALLEL_ITEMS = items_from

    try:
        thresholds(2**62, 2**62)
        for name in preset_names():
            Simulation(name, seed=1, steps=steps).run()
        for name in example_names():  # interventions in time: their own length
            Simulation(name, seed=1).run()
        numba.config.NUMBA_NUM_THREADS = max(threads, 2)
        recorder.BEHIND_FROM = 1  # the recorder's measures in one call on its own thread (from 1,000 slots on)
        for name in preset_names():
            Simulation(name, seed=1, steps=BEHIND_STEPS).run()
        thresholds(1, 2**62)  # the processes' passes one by one (from PARALLEL_ROWS on), each in its serial form
        for name in preset_names():
            Simulation(name, seed=1, steps=steps).run()
        thresholds(1, 1)  # (and none behind: that stops at PARALLEL_ROWS slots)
        for name in preset_names():
            Simulation(name, seed=1, steps=steps).run()
    finally:
        thresholds(rows, items)
        numba.config.NUMBA_NUM_THREADS = threads
        recorder.BEHIND_FROM = behind
    found = []
    for name, value in sorted(vars(compiled).items()):
        if isinstance(value, CPUDispatcher):
            for args in list(value.signatures):
                if any(isinstance(a, types.Array) and a.layout == "A" for a in args):
                    value.compile(_contiguous(args))
            found += [(name, args) for args in sorted(value.signatures, key=str)]
    return found


def _contiguous(args: tuple) -> tuple:
    """A signature with its arrays of any layout ("A") in C layout: Numba types a strided view of one element
    or none as contiguous, and a layer's ends (views of its keys' halves) are such a view where the layer has
    fewer than two ties, which no shipped scenario's run need show the build."""
    from numba.core import types

    return tuple(a.copy(layout="C") if isinstance(a, types.Array) and a.layout == "A" else a for a in args)


def _compile_here(out: Path, steps: int) -> int:
    """Learn the signatures and compile them into ``out`` (in a process of its own: see :func:`build`)."""
    import numba.pycc.compiler as pycc_compiler
    from numba.pycc import CC

    from . import compiled

    cc = CC(MODULE)  # first: it looks for the C compiler
    found = signatures(steps)
    cc.output_dir = str(out)
    cc.target_cpu = "host"  # this machine's processor, as the kernels compiled just in time
    cc.verbose = False
    table = []
    for name, args in found:
        described = [_describe(a) for a in args]
        if any(d is None or _type(d) != a for d, a in zip(described, args, strict=True)):
            continue  # a type the table cannot name exactly: compiled just in time
        export = f"k{len(table)}"
        dispatcher = getattr(compiled, name)
        cc.export(export, dispatcher.overloads[args].signature)(dispatcher.py_func)
        table.append((name, export, described))
    # the serial kernels release the GIL (nogil) so that compiled.concurrently can run them side by side: so
    # must their compiled forms, which Numba's ahead-of-time compiler would not do by itself
    plain = pycc_compiler.Flags

    def flags() -> Any:
        f = plain()
        f.release_gil = True
        return f

    pycc_compiler.Flags = flags
    try:
        cc.compile()
    finally:
        pycc_compiler.Flags = plain
    import py_compile

    counts = {name: getattr(compiled, name).py_func.__code__.co_argcount for name, _, _ in table}
    (out / TESTS).write_text(tests_source(table, counts), encoding="utf-8")
    py_compile.compile(str(out / TESTS), doraise=True)  # its bytecode, so that no process compiles it again
    (out / TABLE).write_text(json.dumps(table, indent=1), encoding="utf-8")
    return len(table)


def build(steps: int = STEPS) -> tuple[Path, int]:
    """Compile the kernels ahead of time for this machine into ``directory()/key()`` (replacing what is there)
    and return the place and the number of signatures. The work runs in a fresh process that compiles just in
    time; the result is moved into place only when complete. Raises :class:`CompileError` with one line
    (what the build reported, or why there is no place for it) where it fails."""
    import shutil
    import subprocess
    import uuid

    try:
        root = directory()
        target = root / key()
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".building-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        tmp.mkdir()
    except (OSError, RuntimeError) as exc:
        why = f"no place to keep the kernels compiled ahead of time ({exc}); set {PLACE} to a writable directory"
        raise CompileError(why) from None
    try:
        env = {**os.environ, SWITCH: "0", "PYTHONWARNINGS": "ignore"}
        done = subprocess.run([sys.executable, "-m", "clusterup.aot", str(tmp), str(steps)], env=env,
                              capture_output=True, text=True)  # fmt: skip
        said = done.stdout.strip().splitlines()[-1:] or done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        if not said[0].startswith("compiled ") or not _library(tmp).is_file():
            raise CompileError(f"compiling the kernels ahead of time failed: {said[0].removeprefix('failed: ')}")
        count = int(said[0].split()[1])
        (tmp / USED).touch()
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
        _point(root, quick_key(), target.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target, count


def _point(root: Path, quick: str | None, name: str) -> None:
    """Record that the build ``name`` is the one for processes with the quick key ``quick`` (:func:`lean`), in
    one atomic write; nothing where there is no quick key or the place cannot be written (those processes then
    find the build through Numba: :func:`attach`)."""
    if quick is None:
        return
    try:
        (root / LEAN).mkdir(exist_ok=True)
        part = root / LEAN / f".{quick}.{os.getpid()}"
        part.write_text(name + "\n", encoding="utf-8")
        os.replace(part, root / LEAN / quick)
    except OSError:
        pass


def _child(out: Path, steps: int) -> None:
    """The process :func:`build` starts: its last line says ``compiled N`` or ``failed: why`` (one line)."""
    try:
        print(f"compiled {_compile_here(out, steps)}")
    except Exception as exc:  # noqa: BLE001 - reported to build() as one line
        print(f"failed: {type(exc).__name__}: {' '.join(str(exc).split())}")


if __name__ == "__main__":  # python -m clusterup.aot OUT STEPS
    _child(Path(sys.argv[1]), int(sys.argv[2]))
