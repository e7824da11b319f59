"""Provenance: every run and experiment directory carries ``ro-crate-metadata.json``, an RO-Crate of the
Process Run Crate profile (the Workflow Run Crate family's profile for a tool run without a workflow
file; https://w3id.org/ro/wfrun/process/0.5), read back by the ``rocrate`` package in the tests. It records

- the software (clusterup and its version; Python and the versions of the packages results depend on),
- the exact parameters (``config.toml`` or the plan) and the seeds,
- the command line, the machine (platform, processor, cores), the start and end times,
- every output file with its size and SHA-256 checksum.

:func:`verify` recomputes the checksums and reruns a stated sample of runs to confirm that they
reproduce bit for bit (``clusterup verify DIR``).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import sys
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from .errors import ConfigError

CRATE = "ro-crate-metadata.json"
PROFILE = "https://w3id.org/ro/wfrun/process/0.5"
DERIVED = {"results.duckdb"}  # rebuilt from the other files at every query: not part of the record
PACKAGES = ("numpy", "numba", "scipy", "pandas", "pyarrow", "pydantic", "networkx", "SALib", "duckdb", "matplotlib")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(directory: Path) -> list[Path]:
    out = []
    for p in sorted(directory.rglob("*")):
        rel = p.relative_to(directory)
        if p.is_file() and rel.name != CRATE and rel.name not in DERIVED and not any(part.startswith(".") for part in rel.parts):
            out.append(rel)
    return out


def _normal(name: str) -> str:
    """A distribution's name as the packaging specifications compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _dist_info_versions(packages: tuple[str, ...]) -> dict[str, str]:
    """The versions in the names of the first ``NAME-VERSION.dist-info`` directory of each package on ``sys.path``."""
    wanted = {_normal(name): name for name in packages}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for item in names:
            if item.endswith(".dist-info"):
                name, _, number = item[: -len(".dist-info")].rpartition("-")
                package = wanted.get(_normal(name))
                if package and number and package not in found:
                    found[package] = number
        if len(found) == len(wanted):
            break
    return found


@cache
def _versions() -> dict[str, str]:
    """The installed version of each of :data:`PACKAGES` (those installed), as ``importlib.metadata.version``
    gives it. Read from the names of the ``NAME-VERSION.dist-info`` directories on ``sys.path`` (the first
    one found, as importlib.metadata takes it), which takes about a millisecond where parsing each package's
    metadata took some 25 ms of every run; a package installed otherwise is asked of importlib.metadata."""
    from importlib.metadata import PackageNotFoundError, version

    found = _dist_info_versions(PACKAGES)
    for name in PACKAGES:
        if name not in found:
            try:
                found[name] = version(name)
            except PackageNotFoundError:
                pass
    return {name: found[name] for name in PACKAGES if name in found}


def write_crate(directory: Path, *, name: str, kind: str, command: str, config: str | None, seeds: list[int],
                started: datetime, ended: datetime, extra: dict[str, Any] | None = None) -> Path:  # fmt: skip
    """Describe the finished ``directory`` (a run or an experiment, ``kind``) as an RO-Crate; ``config`` is
    the relative path of the file holding the exact parameters. Returns the metadata file's path.

    The JSON-LD is written here rather than through the ``rocrate`` package: importing that package costs
    about 0.23 s, a quarter of a small run. The tests read every crate back with ``rocrate``."""
    from .io_utils import write_text_atomic
    from .version import __version__

    directory = Path(directory)
    files = []
    for rel in _files(directory):
        p = directory / rel
        files.append({"@id": rel.as_posix(), "@type": "File", "sha256": sha256(p), "contentSize": p.stat().st_size})
    requirements = [{"@id": f"#software-{k}", "@type": "SoftwareApplication", "name": k, "version": v}
                    for k, v in {"python": sys.version.split()[0], **_versions()}.items()]  # fmt: skip
    word = command.split(" ", 1)
    if word and Path(word[0]).name in ("clusterup", "__main__.py"):
        command = " ".join(["clusterup", *word[1:]])
    action = {
        "@id": "#run", "@type": "CreateAction", "name": f"clusterup {kind} {name}", "description": command,
        "instrument": {"@id": "https://pypi.org/project/clusterup/"},
        "object": ([{"@id": config}] if config in {f["@id"] for f in files} else []) + [{"@id": "#seeds"}],
        "result": [{"@id": f["@id"]} for f in files], "startTime": started.isoformat(), "endTime": ended.isoformat(),
        "actionStatus": {"@id": "http://schema.org/CompletedActionStatus"}, "location": {"@id": "#machine"},
        **(extra or {}),
    }  # fmt: skip
    graph = [
        {"@id": CRATE, "@type": "CreativeWork", "about": {"@id": "./"},
         "conformsTo": [{"@id": "https://w3id.org/ro/crate/1.1"}, {"@id": PROFILE}]},
        {"@id": "./", "@type": "Dataset", "name": f"clusterup {kind}: {name}",
         "description": f"A clusterup {kind} with its parameters, seeds, environment and every output file's checksum.",
         "datePublished": ended.isoformat(), "license": {"@id": "https://spdx.org/licenses/MIT"},
         "conformsTo": [{"@id": PROFILE}], "hasPart": [{"@id": f["@id"]} for f in files], "mentions": [{"@id": "#run"}]},
        {"@id": PROFILE, "@type": "CreativeWork", "name": "Process Run Crate", "version": "0.5"},
        {"@id": "https://pypi.org/project/clusterup/", "@type": "SoftwareApplication", "name": "clusterup",
         "version": __version__, "license": {"@id": "https://spdx.org/licenses/MIT"},
         "softwareRequirements": [{"@id": r["@id"]} for r in requirements]},
        *requirements,
        {"@id": "#machine", "@type": "Place", "name": platform.node() or "unknown",
         "description": f"{platform.platform()}; {platform.machine()}; {os.cpu_count() or 1} cores"},
        {"@id": "#seeds", "@type": "PropertyValue", "name": "seeds", "value": json.dumps([int(x) for x in seeds])},
        action,
        *files,
    ]  # fmt: skip
    doc = {"@context": "https://w3id.org/ro/crate/1.1/context", "@graph": graph}
    return write_text_atomic(directory / CRATE, json.dumps(doc, indent=1))


def run_crate(directory: Path, meta: dict[str, Any]) -> Path:
    """The crate of a run directory written by :meth:`Result.save` (times from its metadata)."""
    ended = datetime.now(UTC)
    started = ended - timedelta(seconds=float(meta.get("wall_seconds", meta.get("simulation_seconds", 0.0))))
    return write_crate(directory, name=str(meta.get("scenario")), kind="run", command=str(meta.get("command", "")),
                       config="config.toml", seeds=[int(meta.get("seed", 0))], started=started, ended=ended)  # fmt: skip


# ---------------------------------------------------------------- verification


def read_crate(directory: Path) -> dict[str, Any]:
    path = Path(directory) / CRATE
    if not Path(directory).exists():
        raise ConfigError(f"{directory} does not exist")
    if not path.is_file():
        raise ConfigError(f"{directory} has no {CRATE} (written by clusterup 0.1 and later with every run)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None


def check_files(directory: Path) -> dict[str, list[str]]:
    """Files whose checksum differs, files listed but missing, files present but not listed."""
    crate = read_crate(directory)
    listed = {e["@id"]: e for e in crate["@graph"] if e.get("@type") == "File"}
    changed, missing = [], []
    for rel, e in sorted(listed.items()):
        p = Path(directory) / rel
        if not p.is_file():
            missing.append(rel)
        elif sha256(p) != e.get("sha256"):
            changed.append(rel)
    unlisted = [rel.as_posix() for rel in _files(Path(directory)) if rel.as_posix() not in listed]
    return {"changed": changed, "missing": missing, "unlisted": unlisted, "checked": sorted(listed)}


def _same(a, b) -> bool:
    """Two time series equal bit for bit (NaN where both have NaN counts as equal)."""
    x, y = a.to_numpy(float, na_value=-999.0), b.to_numpy(float, na_value=-999.0)
    return x.shape == y.shape and bool((x == y).all())


def rerun(directory: Path, sample: int, seed: int = 0) -> list[dict[str, Any]]:
    """Rerun ``sample`` runs of the directory (a run: itself; an experiment: a sample drawn with ``seed``)
    and compare their time series bit for bit with the stored ones."""
    import numpy as np

    from .experiments import ExperimentStore, is_experiment_dir
    from .result import Result, is_run_dir

    d = Path(directory)
    out = []
    if is_run_dir(d):
        res = Result.load(d)
        if res.metadata.get("data"):
            return [{"run": str(d), "reproduced": None, "why": "started from cluster data: rerun it with --from-data"}]
        from .simulation import Simulation

        again = Simulation(res.params).run().timeseries
        return [{"run": str(d), "reproduced": _same(again, res.timeseries)}]
    if not is_experiment_dir(d):
        raise ConfigError(f"{d} is neither a clusterup run nor an experiment directory")
    from .experiments.runner import execute_run

    store = ExperimentStore.open(d)
    done = sorted(store.finished_ids())
    runs = {r.run_id: r for r in store.plan().runs}
    pick = np.random.default_rng(seed).choice(done, size=min(sample, len(done)), replace=False) if done else []
    for run_id in sorted(int(x) for x in pick):
        _, status, payload, _ = execute_run(runs[run_id])
        stored = store.timeseries(run_id)
        if status != "ok":
            out.append({"run": run_id, "reproduced": False, "why": "the rerun failed"})
            continue
        cols = [c for c in stored.columns if c in payload.columns]
        out.append({"run": run_id, "reproduced": _same(payload[cols], stored[cols])})
    return out
