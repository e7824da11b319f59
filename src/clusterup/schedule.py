"""The schedule: the ordered, inspectable plan a step walks through, in three phases.

1. **start of step**: a fresh per-step context (the declared hand-overs, at their start values), and every
   firm grows one step older;
2. **processes**: every active process in order (insert, replace or disable them by name; a process whose
   section says ``enabled = false`` is skipped);
3. **end of step**: housekeeping -- the population is compacted when more than 20% of its slots are
   inactive (the network follows), and the step counter advances.

The recorder then reads the state. :meth:`Schedule.plan` lists the whole plan (``clusterup schedule``).
The schedule also collects what its processes declare: fields, columns, context fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .compiled import older
from .errors import ConfigError
from .processes import REGISTRY, Column, Process
from .state import ContextField, FieldSpec, State, StepContext
from .state.context import merge_fields as merge_context
from .state.firms import merge_fields

if TYPE_CHECKING:
    from .params import Params

COMPACT_WHEN_INACTIVE = 0.2  # compact the population when more than this share of its slots is inactive


@dataclass(frozen=True)
class PlanItem:
    phase: str  # "start", "process" or "end"
    name: str
    what: str
    runs: bool


def default_processes(params: Params) -> list[type[Process]]:
    """The registered processes in order, with the scenario's plugins placed where they ask (``after`` or
    ``before`` a named process; at the end where they name none)."""
    from .params import plugin_processes

    classes = list(REGISTRY)
    for cls in plugin_processes(getattr(params, "plugins", [])):
        names = [c.name for c in classes]
        anchor = cls.after or cls.before
        if anchor is not None and anchor not in names:
            raise ConfigError(f"plugin {cls.name}: no process {anchor!r} to go next to; processes: {', '.join(names)}")
        pos = len(classes) if anchor is None else names.index(anchor) + (1 if cls.after else 0)
        classes.insert(pos, cls)
    return classes


class Schedule:
    def __init__(self, processes: list[Process]) -> None:
        self._processes = list(processes)
        self._disabled: set[str] = set()
        self._context: tuple[tuple, list[ContextField]] | None = None  # (declarations, merged): context_fields
        self._check_unique()

    @classmethod
    def default(cls, params: Params) -> Schedule:
        return cls([proc(params) for proc in default_processes(params)])

    def _check_unique(self) -> None:
        names = [p.name for p in self._processes]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ConfigError(f"schedule: process names must be unique; repeated: {', '.join(sorted(dup))}")

    @property
    def names(self) -> list[str]:
        return [p.name for p in self._processes]

    def __iter__(self) -> Iterator[Process]:
        return iter(self._processes)

    def __len__(self) -> int:
        return len(self._processes)

    def __getitem__(self, name: str) -> Process:
        return self._processes[self._index(name)]

    def _index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise ConfigError(f"schedule has no process {name!r}; processes: {', '.join(self.names)}") from None

    def runs(self, process: Process) -> bool:
        return process.enabled and process.name not in self._disabled

    def active(self) -> list[Process]:
        """The processes that run this step, in order."""
        return [p for p in self._processes if self.runs(p)]

    def insert(self, process: Process, *, before: str | None = None, after: str | None = None) -> None:
        if (before is None) == (after is None):
            raise ConfigError("schedule.insert needs exactly one of before= or after=")
        pos = self._index(before) if before is not None else self._index(after) + 1  # type: ignore[arg-type]
        self._processes.insert(pos, process)
        self._check_unique()

    def replace(self, name: str, process: Process) -> None:
        self._processes[self._index(name)] = process
        self._check_unique()

    def disable(self, name: str) -> None:
        self._index(name)
        self._disabled.add(name)

    def enable(self, name: str) -> None:
        self._index(name)
        self._disabled.discard(name)

    # -- what the processes declare ----------------------------------------------------------
    def init(self) -> None:
        """Let every process see the whole schedule once, before the first step."""
        for p in self._processes:
            p.init(self._processes)

    def fields(self) -> list[FieldSpec]:
        """The per-firm fields the processes own (each once, in schedule order)."""
        try:
            return merge_fields([p.fields for p in self._processes])
        except ValueError as exc:
            raise ConfigError(f"schedule: {exc}") from None

    def columns(self) -> list[tuple[Process, Column]]:
        """The columns the processes record, with their owner, in schedule order."""
        out = [(p, c) for p in self._processes for c in p.columns]
        names = [c.name for _, c in out]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ConfigError(f"schedule: columns recorded by two processes: {', '.join(sorted(dup))}")
        return out

    def context_fields(self) -> list[ContextField]:
        # merged once per set of declarations (the start of every step asks): the processes' own tuples are the key
        key = tuple(p.context for p in self._processes)
        if self._context is not None and self._context[0] == key:
            return self._context[1]
        try:
            merged = merge_context(key)
        except ValueError as exc:
            raise ConfigError(f"schedule: {exc}") from None
        self._context = (key, merged)
        return merged

    # -- one step ------------------------------------------------------------------------------
    def start_step(self, state: State | None = None) -> StepContext:
        """Phase 1: the step's fresh context; the firms of ``state`` (if given) grow one step older."""
        if state is not None:
            pop = state.pop
            older(pop.age, pop.firms())  # age[firms] += 1
        return StepContext(self.context_fields())

    @staticmethod
    def end_step(state: State) -> None:
        """Phase 3: compaction when many slots are inactive, then the step counter."""
        pop = state.pop
        if pop.n and (pop.n - pop.nodes().size) > COMPACT_WHEN_INACTIVE * pop.n:  # inactive slots: n less the active nodes
            state.compact()
        state.step += 1

    def plan(self) -> list[PlanItem]:
        """The whole plan of a step, phase by phase."""
        fields = ", ".join(f.name for f in self.context_fields())
        items = [PlanItem("start", "context", f"a fresh per-step context: {fields}; firms age by one step", True)]
        items += [PlanItem("process", p.name, type(p).__name__, self.runs(p)) for p in self._processes]
        items += [
            PlanItem("end", "housekeeping",
                     f"compact the population when more than {COMPACT_WHEN_INACTIVE:.0%} of its slots are inactive; "
                     "advance the step counter", True),
            PlanItem("record", "recorder", "indicators, the processes' columns, snapshots", True),
        ]  # fmt: skip
        return items

    def describe(self) -> list[tuple[str, str, bool]]:
        """(name, class, runs?) for each process, in order."""
        return [(p.name, type(p).__name__, self.runs(p)) for p in self._processes]


def measure_plan(params: Params, steps: int) -> tuple[list[tuple[PlanItem, float | None]], float]:
    """The plan of the scenario's schedule, each part with its share of the time of a ``steps``-step run
    (None where a part was not measured; no run when ``steps`` is 0). Returns the rows and the run's seconds."""
    from .simulation import Simulation

    if steps == 0:
        return [(item, None) for item in Schedule.default(params).plan()], 0.0
    sim = Simulation(params.with_overrides({"run.steps": steps}))
    for _ in sim.iterate():
        pass
    total = sum(sim.timings.values())
    rows = [(item, sim.timings.get(item.name, 0.0) / total if total > 0 else None) for item in sim.schedule.plan()]
    return rows, total
