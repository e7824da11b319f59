"""Where runs execute: anything with the ``concurrent.futures.Executor`` interface.

``local``      a process pool on this machine (the default; ``workers`` processes)
``dask-local`` a Dask ``LocalCluster`` with ``workers`` single-threaded worker processes
``dask``       an existing Dask cluster at ``address`` (``tcp://host:port``); on SLURM or PBS start it
               with dask-jobqueue (docs/experiments.md)
``serial``     in this process, one run after another (debugging; no pickling)

Every run is a pure function of its parameters and seed, so the executor and the number of workers
never change a result.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from ..errors import ConfigError

EXECUTORS = ("local", "dask-local", "dask", "serial")


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
def make_executor(kind: str = "local", workers: int = 1, address: str | None = None) -> Iterator[Executor]:
    """An executor of the given kind; closed (and its cluster stopped) on exit."""
    if kind not in EXECUTORS:
        raise ConfigError(f"--executor must be one of {', '.join(EXECUTORS)}; got {kind!r}")
    if workers < 1:
        raise ConfigError(f"--workers must be an integer >= 1; got {workers}")
    if address is not None and kind != "dask":
        raise ConfigError("--address applies to --executor dask only")
    if kind == "serial":
        yield SerialExecutor()
        return
    if kind == "local":
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
