"""The simulation: builds the state, walks the schedule, feeds the recorder. No science here."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ConfigError
from .params import Params, load_scenario
from .recorder import Recorder, snapshot
from .result import Result
from .rng import stream
from .schedule import Schedule
from .state import Population
from .state.build import build_state

if TYPE_CHECKING:
    from .data import ClusterData

BYTES_PER_FIRM_OVERHEAD = 1200  # ties, CSR copies and temporaries per firm (measured, rounded up)


def available_memory() -> int | None:
    """Bytes of memory available now (Linux ``MemAvailable``), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def estimate_memory(params: Params) -> int:
    """A generous estimate of peak bytes for a run of this size (population may grow ~4x)."""
    per_firm = 3 * Population.bytes_per_slot(params.init.domains) + BYTES_PER_FIRM_OVERHEAD
    return int(4 * params.run.firms * per_firm + 16 * params.run.steps * 64)


def check_fits(params: Params) -> None:
    need = estimate_memory(params)
    have = available_memory()
    if have is not None and need > have:
        raise ConfigError(
            f"run.firms = {params.run.firms} needs about {need / 2**30:.1f} GiB of memory; "
            f"about {have / 2**30:.1f} GiB is available (lower run.firms)"
        )


def resolve(
    params: Params | str,
    *,
    seed: int | None = None,
    steps: int | None = None,
    firms: int | None = None,
    overrides: dict[str, Any] | None = None,
) -> Params:
    """A preset name, TOML path or Params, with run settings and dotted overrides applied."""
    extra = dict(overrides or {})
    for key, value in (("run.seed", seed), ("run.steps", steps), ("run.firms", firms)):
        if value is not None:
            extra[key] = value
    if isinstance(params, Params):
        return params.with_overrides(extra) if extra else params
    return load_scenario(params, extra)


class Simulation:
    """A steppable run. ``Simulation(params).run()`` returns a :class:`Result`."""

    def __init__(
        self,
        params: Params | str,
        *,
        seed: int | None = None,
        steps: int | None = None,
        firms: int | None = None,
        overrides: dict[str, Any] | None = None,
        schedule: Schedule | None = None,
        snapshot_every: int = 0,
        data: ClusterData | str | Path | None = None,
    ) -> None:
        self.params = resolve(params, seed=seed, steps=steps, firms=firms, overrides=overrides)
        self.data_ids = None
        self.data_source: str | None = None
        if data is not None:
            from .data import ClusterData, build_state_from_data, data_overrides, load_data

            if not isinstance(data, ClusterData):
                data = load_data(data, domains=self.params.init.domains)
            implied = data_overrides(data, self.params)
            if firms is not None and firms != implied["run.firms"]:
                raise ConfigError(f"--firms {firms} conflicts with the data ({implied['run.firms']} firms); drop --firms")
            self.params = self.params.with_overrides(implied)
            self.data_source = data.source
        check_fits(self.params)
        self.seed = self.params.run.seed
        self.schedule = schedule or Schedule.default(self.params)
        self.schedule.bind()
        if data is not None:
            self.state, self.data_ids = build_state_from_data(self.params, data, stream(self.seed, "init"))
        else:
            self.state = build_state(self.params, stream(self.seed, "init"))
        self._rngs: dict[str, np.random.Generator] = {}
        if snapshot_every < 0:
            raise ConfigError(f"--snapshots must be an integer >= 0; got {snapshot_every}")
        self.recorder = Recorder(self.params.run.steps, snapshot_every, self.params.run.network_every)
        self.state.flows.reset()
        self.recorder.record(self.state)
        self.wall_time = 0.0
        self.timings: dict[str, float] = {}  # seconds spent per process (and the recorder)
        self.extinct = False

    @property
    def steps_done(self) -> int:
        return self.state.step

    @property
    def finished(self) -> bool:
        return self.extinct or self.state.step >= self.params.run.steps

    def rng(self, name: str) -> np.random.Generator:
        if name not in self._rngs:
            self._rngs[name] = stream(self.seed, name)
        return self._rngs[name]

    def step(self) -> None:
        """Advance one step: every active process in order, then record."""
        if self.finished:
            raise RuntimeError("the run is finished")
        t0 = time.perf_counter()
        state = self.state
        state.flows.reset()
        state.scratch.clear()
        for process in self.schedule.active():
            t = time.perf_counter()
            process.step(state, self.rng(process.name))
            self.timings[process.name] = self.timings.get(process.name, 0.0) + time.perf_counter() - t
        t = time.perf_counter()
        state.step += 1
        self.recorder.record(state)
        self.timings["recorder"] = self.timings.get("recorder", 0.0) + time.perf_counter() - t
        if state.pop.is_firm.sum() == 0:
            self.extinct = True
        self.wall_time += time.perf_counter() - t0

    def run(self, progress: Callable[[int, int], None] | None = None) -> Result:
        """Run to the end (or to extinction); ``progress(done, total)`` is called after each step."""
        total = self.params.run.steps
        while not self.finished:
            self.step()
            if progress is not None:
                progress(self.state.step, total)
        return self.result()

    def result(self) -> Result:
        meta: dict[str, Any] = {
            "scenario": self.params.name,
            "seed": self.seed,
            "steps": self.state.step,
            "steps_requested": self.params.run.steps,
            "firms_initial": self.params.run.firms,
            "extinct": self.extinct,
            "simulation_seconds": round(self.wall_time, 4),
        }
        if self.extinct:
            meta["message"] = f"every firm exited by step {self.state.step}; the run ended there"
        if self.data_source:
            meta["data"] = self.data_source
        snapshots = dict(self.recorder.snapshots)
        if self.recorder.snapshot_every and self.state.step not in snapshots:
            snapshots[self.state.step] = snapshot(self.state)  # the last step is always included
        result = Result.from_state(self.recorder.frame(), self.params, self.state, meta, snapshots)
        result.data_ids = self.data_ids
        result.generations = self.recorder.generations()
        return result


def simulate(
    scenario: Params | str = "baseline",
    *,
    seed: int | None = None,
    steps: int | None = None,
    firms: int | None = None,
    overrides: dict[str, Any] | None = None,
    data: ClusterData | str | Path | None = None,
) -> Result:
    """Run one simulation of a preset, a TOML file or a :class:`Params` and return its Result.

    ``data``: start from a real cluster (a data directory, ``"example"``, or a :class:`ClusterData`;
    docs/data-format.md) instead of the scenario's generated initial state.
    """
    return Simulation(scenario, seed=seed, steps=steps, firms=firms, overrides=overrides, data=data).run()


__all__ = ["Simulation", "estimate_memory", "simulate"]
