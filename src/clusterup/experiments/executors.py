"""Where runs execute: anything with the ``concurrent.futures.Executor`` interface.

``local``      a process pool on this machine (the default; ``workers`` processes)
``dask-local`` a Dask ``LocalCluster`` with ``workers`` single-threaded worker processes
``dask``       an existing Dask cluster at ``address`` (``tcp://host:port``)
``slurm``      ``workers`` SLURM batch jobs, each one Dask worker, submitted with ``sbatch`` through
               dask-jobqueue's ``SLURMCluster``; queue, account, cores, memory and walltime from a small
               TOML file (``--cluster-config``) or dask-jobqueue's own configuration
``mpi``        ``mpi4py.futures.MPIPoolExecutor``: the ranks of an MPI job, where MPI is the site's way
               (``mpiexec -n N python -m mpi4py.futures -m clusterup sweep ... --executor mpi``: rank 0
               runs the command, the other N - 1 ranks the runs)
``serial``     in this process, one run after another (debugging; no pickling)

Every run is a pure function of its parameters and seed, so the executor and the number of workers
never change a result.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError

EXECUTORS = ("local", "dask-local", "dask", "slurm", "mpi", "serial")


class SlurmSpec(BaseModel):
    """A cluster-config file for ``--executor slurm`` (every key optional; unset keys fall back to
    dask-jobqueue's configuration, ~/.config/dask/jobqueue.yaml, then to these defaults)."""

    model_config = ConfigDict(extra="forbid")
    queue: str | None = None  # the partition (sbatch -p)
    account: str | None = None  # sbatch -A
    cores: int = Field(1, ge=1, le=1024)  # per worker job; each job runs one single-process worker
    memory: str = "2GB"  # per worker job
    walltime: str = "01:00:00"
    python: str | None = None  # the interpreter on the compute nodes (default: this one)
    job_script_prologue: list[str] = Field(default_factory=list)  # e.g. ["module load python", "source venv/bin/activate"]
    job_extra_directives: list[str] = Field(default_factory=list)  # extra #SBATCH lines, e.g. ["--qos=short"]
    local_directory: str | None = None  # worker scratch space on the node
    log_directory: str | None = None  # where the jobs' output goes
    interface: str | None = None  # network interface the workers and the scheduler talk on (e.g. "ib0")


def load_cluster_config(path: str | Path | None) -> SlurmSpec:
    """The cluster-config TOML (``--cluster-config``), checked; bad keys or values give one line (exit 2)."""
    if path is None:
        return SlurmSpec()
    import tomllib

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"--cluster-config {p}: no such file")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
        return SlurmSpec(**data)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--cluster-config {p}: not valid TOML ({exc})") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        what = "unknown key; allowed: " + ", ".join(SlurmSpec.model_fields) if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(f"--cluster-config {p}: {where}: {what}") from None


def _ignore_sigint() -> None:  # pragma: no cover - runs in worker processes
    # Ctrl-C is the parent's to handle: it cancels what has not started and keeps what has finished.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class SerialExecutor(Executor):
    """Runs each submitted call at once, in this process."""

    window = 1  # submit one run at a time, so each is written as soon as it is computed

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(exc)
        return fut


@contextmanager
def make_executor(kind: str = "local", workers: int = 1, address: str | None = None,
                  cluster_config: str | Path | None = None) -> Iterator[Executor]:  # fmt: skip
    """An executor of the given kind; closed (and its cluster stopped, its batch jobs cancelled) on exit."""
    if kind not in EXECUTORS:
        raise ConfigError(f"--executor must be one of {', '.join(EXECUTORS)}; got {kind!r}")
    if workers < 1:
        raise ConfigError(f"--workers must be an integer >= 1; got {workers}")
    if address is not None and kind != "dask":
        raise ConfigError("--address applies to --executor dask only")
    if cluster_config is not None and kind != "slurm":
        raise ConfigError("--cluster-config applies to --executor slurm only")
    if kind == "mpi":
        from ..errors import require

        require("mpi4py", "mpi", "--executor mpi")
        from mpi4py import MPI
        from mpi4py.futures import MPIPoolExecutor

        if MPI.COMM_WORLD.Get_size() < 2:
            raise ConfigError("--executor mpi runs under MPI with at least two ranks: "
                              "mpiexec -n N python -m mpi4py.futures -m clusterup ... --executor mpi")  # fmt: skip
        with MPIPoolExecutor() as ex:
            yield ex
        return
    if kind == "slurm":
        spec = load_cluster_config(cluster_config)  # checked before anything is submitted
        with slurm_executor(spec, workers) as ex:
            yield ex
        return
    if kind == "serial":
        yield SerialExecutor()
        return
    if kind == "local":
        from .. import compiled

        compiled.for_workers()  # the workers, forked from here, start with Numba's dispatchers
        with ProcessPoolExecutor(workers, initializer=_ignore_sigint) as ex:
            yield ex
        return
    from ..errors import require

    require("distributed", "dask", f"--executor {kind}")
    from distributed import Client, LocalCluster
    if kind == "dask":
        if not address:
            raise ConfigError("--executor dask needs --address tcp://HOST:PORT of a running scheduler")
        try:
            client = Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"--address {address}: cannot reach a Dask scheduler ({exc})") from None
        try:
            yield client.get_executor(pure=False)
        finally:
            client.close()
        return
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                           host="127.0.0.1")  # fmt: skip
    client = Client(cluster)
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
        cluster.close()


@contextmanager
def slurm_executor(spec: SlurmSpec, jobs: int) -> Iterator[Executor]:
    """``jobs`` SLURM jobs (``sbatch``), each one single-process Dask worker, and an executor on them. A job
    that ends (scancel, walltime, node failure) takes its worker with it; Dask reruns its unfinished runs on
    the others, and ``--resume`` finishes any run that was lost. The jobs are cancelled on exit."""
    import shutil
    import sys

    from ..errors import require

    require("dask_jobqueue", "dask", "--executor slurm")
    if shutil.which("sbatch") is None:
        raise ConfigError("--executor slurm needs SLURM's sbatch on this machine (run it on the cluster's login node)")
    from dask_jobqueue import SLURMCluster
    from distributed import Client

    opts: dict[str, Any] = {"cores": spec.cores, "processes": 1, "memory": spec.memory, "walltime": spec.walltime,
                            "python": spec.python or sys.executable,
                            "worker_extra_args": [f"--nthreads={spec.cores}"]}  # fmt: skip
    for key in ("queue", "account", "local_directory", "log_directory", "interface"):
        if getattr(spec, key) is not None:
            opts[key] = getattr(spec, key)
    if spec.job_script_prologue:
        opts["job_script_prologue"] = spec.job_script_prologue
    if spec.job_extra_directives:
        opts["job_extra_directives"] = spec.job_extra_directives
    cluster = SLURMCluster(**opts, scheduler_options={"dashboard_address": ":0"})
    try:
        cluster.scale(jobs=jobs)
        client = Client(cluster)
        try:
            yield client.get_executor(pure=False)
        finally:
            client.close()
    finally:
        cluster.close()
