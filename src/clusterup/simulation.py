"""The simulation: builds the state, walks the schedule, feeds the recorder. No science here.

A run is watched through one hook: observers (:class:`Observer`) are told when the run starts, after
every step and when it ends; the CLI's progress bar, checkpoints every K steps, the explorer's live chart
and a user's own probe all use it. ``Simulation.iterate()`` gives the same steps as a loop.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .allocator import reused_memory
from .entry import settle
from .errors import ConfigError
from .params import Params, from_dict, load_scenario, parse_toml
from .recorder import Recorder, snapshot
from .result import Result
from .rng import stream
from .schedule import Schedule
from .state import State
from .state.build import build_state
from .state.firms import bytes_per_slot

if TYPE_CHECKING:
    from .data import ClusterData, DataStart

BYTES_PER_FIRM_OVERHEAD = 1200  # ties, CSR copies and temporaries per firm (measured, rounded up)
FORMAT_VERSION = 2  # of state_dict(); checkpoints of another format are refused


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


def estimate_memory(params: Params, schedule: Schedule | None = None) -> int:
    """A generous estimate of peak bytes for a run of this size (population may grow ~4x)."""
    fields = (schedule or Schedule.default(params)).fields()
    per_firm = 3 * bytes_per_slot(params.init.domains, fields) + BYTES_PER_FIRM_OVERHEAD
    return int(4 * params.run.firms * per_firm + 16 * params.run.steps * 64)


def check_fits(params: Params, schedule: Schedule | None = None) -> None:
    need = estimate_memory(params, schedule)
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


def resolve_run(
    params: Params | str,
    *,
    seed: int | None = None,
    steps: int | None = None,
    firms: int | None = None,
    overrides: dict[str, Any] | None = None,
    data: ClusterData | DataStart | str | Path | None = None,
) -> tuple[Params, DataStart | None]:
    """The run's settings, resolved once: the scenario with its run settings and overrides, and, for a run
    from cluster data, the data's start (which fixes the firm count: ``firms`` must then agree with it)."""
    from_data = data is not None and not _is_data_start(data)
    resolved = resolve(params, seed=seed, steps=steps, firms=None if from_data else firms, overrides=overrides)
    if data is None:
        return resolved, None
    if _is_data_start(data):
        return data.params, data  # type: ignore[union-attr]
    from .data import ClusterData, load_data, start_from_data

    if not isinstance(data, ClusterData):
        data = load_data(data, domains=resolved.init.domains)
    start = start_from_data(data, resolved, firms)
    return start.params, start


def _is_data_start(data: Any) -> bool:
    from .data import DataStart

    return isinstance(data, DataStart)


class Observer:
    """Watches a run. Override any of the three hooks; none may change the state."""

    def on_start(self, sim: Simulation) -> None:
        """Before the first step of this call to :meth:`Simulation.run` (also on a resumed run)."""

    def on_step(self, sim: Simulation) -> None:
        """After every step (``sim.steps_done`` is the step just finished)."""

    def on_end(self, sim: Simulation, result: Result) -> None:
        """After the last step, with the run's Result."""


class ProgressCallback(Observer):
    """Calls ``callback(done, total)`` after every step."""

    def __init__(self, callback: Callable[[int, int], None]) -> None:
        self.callback = callback

    def on_step(self, sim: Simulation) -> None:
        self.callback(sim.steps_done, sim.params.run.steps)


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
        data: ClusterData | DataStart | str | Path | None = None,
        panel_every: int = 0,
    ) -> None:
        if snapshot_every < 0:
            raise ConfigError(f"--snapshots must be an integer >= 0; got {snapshot_every}")
        if panel_every < 0:
            raise ConfigError(f"--panel must be an integer >= 0; got {panel_every}")
        resolved, start = resolve_run(params, seed=seed, steps=steps, firms=firms, overrides=overrides, data=data)
        schedule = schedule or Schedule.default(resolved)
        check_fits(resolved, schedule)
        schedule.init()
        state, slots = build_state(resolved, stream(resolved.run.seed, "init"), schedule.fields(),
                                   start.initial if start is not None else None)  # fmt: skip
        data_ids = start.assign_ids(state, slots) if start is not None else None
        self._setup(resolved, schedule, state, snapshot_every, start.source if start is not None else None, data_ids,
                    panel_every)  # fmt: skip
        self.recorder.record(self.state, self.schedule.start_step())

    def _setup(self, params: Params, schedule: Schedule, state: State, snapshot_every: int, data_source: str | None,
               data_ids: Any, panel_every: int = 0) -> None:  # fmt: skip
        self.params = params
        self.seed = params.run.seed
        self.schedule = schedule
        self.state = state
        self.data_source = data_source
        self.data_ids = data_ids
        self.recorder = Recorder(schedule, params.run.steps, snapshot_every, params.run.network_every, panel_every)
        self._streams: dict[str, np.random.Generator] = {}
        self._changes = set(params.change_steps())
        self.applied: list[dict[str, Any]] = []  # the interventions' changes, as they happened
        if params.interventions and state.step > 0:  # resumed mid-run: the parameters in force now
            self._in_force(params.at_step(state.step), found=False)
        self.wall_time = 0.0
        self.timings: dict[str, float] = {}  # seconds spent per process, housekeeping and the recorder
        self.extinct = False

    @property
    def steps_done(self) -> int:
        return self.state.step

    @property
    def finished(self) -> bool:
        return self.extinct or self.state.step >= self.params.run.steps

    def rng(self, name: str) -> np.random.Generator:
        """The random stream of process ``name`` (keyed by name under the root seed)."""
        if name not in self._streams:
            self._streams[name] = stream(self.seed, name)
        return self._streams[name]

    def _in_force(self, params: Params, *, found: bool) -> None:
        """Make ``params`` the parameters every process and the state read (an intervention's change between
        two steps); with ``found``, found the organisations whose count went up (their own random stream)."""
        self.state.params = params
        for process in self.schedule:
            process.params = params
            if process.section is not None and hasattr(params, process.section):
                process.p = getattr(params, process.section)
        if found:
            from .state.build import found_organisations

            founded = found_organisations(self.state, self.rng("interventions"))
            self.applied.append({"step": self.state.step + 1, "founded": founded})

    def step(self) -> None:
        """Advance one step: a fresh context, every active process in order, housekeeping, then record."""
        if self.finished:
            raise RuntimeError("the run is finished")
        t0 = time.perf_counter()
        state = self.state
        if state.step + 1 in self._changes:  # an intervention begins or ends with this step
            self._in_force(self.params.at_step(state.step + 1), found=True)
        ctx = self.schedule.start_step(state)
        clock, timings = time.perf_counter, self.timings  # each part's time, added up inline (twenty a step)
        timings["context"] = timings.get("context", 0.0) + clock() - t0
        for process in self.schedule.active():
            t = clock()
            process.step(state, ctx, self.rng(process.name))
            timings[process.name] = timings.get(process.name, 0.0) + clock() - t
        t = clock()
        self.schedule.end_step(state)
        timings["housekeeping"] = timings.get("housekeeping", 0.0) + clock() - t
        t = clock()
        self.recorder.record(state, ctx)
        timings["recorder"] = timings.get("recorder", 0.0) + clock() - t
        if state.pop.is_firm.sum() == 0:
            self.extinct = True
        self.wall_time += time.perf_counter() - t0

    def iterate(self) -> Iterator[int]:
        """Step to the end (or to extinction), yielding the number of each step just done. A large run keeps
        the memory it frees for its next steps (:func:`~clusterup.allocator.reused_memory`)."""
        with reused_memory(self.state.n):
            while not self.finished:
                self.step()
                yield self.state.step

    def run(self, observers: Iterable[Observer] = (), progress: Callable[[int, int], None] | None = None) -> Result:
        """Run to the end (or to extinction) and return the Result; ``observers`` watch every step
        (``progress(done, total)`` is a shorthand for one)."""
        settle()  # the console script's start-up is over (a no-op for library users)
        watching = list(observers) + ([ProgressCallback(progress)] if progress is not None else [])
        for obs in watching:
            obs.on_start(self)
        for _ in self.iterate():
            for obs in watching:
                obs.on_step(self)
        result = self.result()
        for obs in watching:
            obs.on_end(self, result)
        return result

    @property
    def timeseries(self):
        """The time series recorded so far (a DataFrame; one row per step done, and the initial state)."""
        return self.recorder.frame()

    def result(self) -> Result:
        """The run so far as a :class:`Result` (the whole run once it is finished)."""
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
        if self.params.interventions:
            meta["interventions"] = [{"step": iv.step, "until": iv.until, "set": iv.set, "label": iv.describe()}
                                     for iv in self.params.interventions]  # fmt: skip
            meta["organisations_founded"] = [a for a in self.applied if a["founded"]]
        snapshots = dict(self.recorder.snapshots)
        if self.recorder.snapshot_every and self.state.step not in snapshots:
            snapshots[self.state.step] = snapshot(self.state)  # the last step is always included
        # the tables as NumPy columns: DataFrames are made when read (a run that is only saved needs no pandas)
        result = Result.from_state(self.recorder.table(), self.params, self.state, meta, snapshots)
        result.data_ids = self.data_ids
        result.generations = self.recorder.generations_table()
        result.lifecycles = self.recorder.lifecycles.table()
        result.panel = self.recorder.panel_frame() if self.recorder.panel else None
        return result

    # -- save and restore ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything a run needs to go on exactly where it is: parameters, state, record, random streams.

        Each owner contributes its own part (``State.state_dict``, ``Recorder.state_dict``); snapshots taken so
        far are not included."""
        out: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "params": self.params.to_toml(),
            "snapshot_every": self.recorder.snapshot_every,
            "panel_every": self.recorder.panel_every,
            "extinct": self.extinct,
            "wall_time": self.wall_time,
            "data_source": self.data_source,
            "state": self.state.state_dict(),
            "recorder": self.recorder.state_dict(),
            "rngs": {name: g.bit_generator.state for name, g in self._streams.items()},
        }
        if self.data_ids is not None:
            out["data_ids"] = {"id": self.data_ids["id"].to_numpy(), "data_id": self.data_ids["data_id"].to_numpy(dtype=str)}
        return out

    @classmethod
    def from_state_dict(cls, d: dict[str, Any]) -> Simulation:
        """The run a :meth:`state_dict` describes, positioned where it was (no initial state is built)."""
        if d.get("format") != FORMAT_VERSION:
            raise ConfigError(f"saved run format {d.get('format')} is not {FORMAT_VERSION} (made by another clusterup version)")
        params = from_dict(parse_toml(d["params"], "saved configuration"))
        schedule = Schedule.default(params)
        check_fits(params, schedule)
        schedule.init()
        state = State.from_state_dict(params, d["state"], schedule.fields())
        data_ids = None
        if "data_ids" in d:
            import pandas as pd

            data_ids = pd.DataFrame({"id": d["data_ids"]["id"], "data_id": d["data_ids"]["data_id"].astype(object)})
        sim = cls.__new__(cls)
        sim._setup(params, schedule, state, int(d["snapshot_every"]), d.get("data_source"), data_ids, int(d["panel_every"]))
        sim.recorder.load_state_dict(d["recorder"])
        sim.extinct = bool(d["extinct"])
        sim.wall_time = float(d["wall_time"])
        for name, st in d["rngs"].items():
            sim.rng(name).bit_generator.state = st
        return sim


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


__all__ = ["Observer", "ProgressCallback", "Simulation", "estimate_memory", "resolve", "resolve_run", "simulate"]
