"""The schedule: the ordered, inspectable list of processes a step walks through.

Processes can be inserted, replaced or disabled by name; a process whose parameter section says
``enabled = false`` is skipped as well.
"""

from __future__ import annotations

from collections.abc import Iterator

from .errors import ConfigError
from .params import Params
from .processes import DEFAULT_PROCESSES, Process


class Schedule:
    def __init__(self, processes: list[Process]) -> None:
        self._processes = list(processes)
        self._disabled: set[str] = set()
        self._check_unique()

    @classmethod
    def default(cls, params: Params) -> Schedule:
        return cls([proc(params) for proc in DEFAULT_PROCESSES])

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

    def active(self) -> list[Process]:
        """The processes that run this step, in order."""
        return [p for p in self._processes if p.enabled and p.name not in self._disabled]

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

    def bind(self) -> None:
        for p in self._processes:
            p.bind(self._processes)

    def describe(self) -> list[tuple[str, str, bool]]:
        """(name, class, runs?) for each process, in order."""
        return [(p.name, type(p).__name__, p.enabled and p.name not in self._disabled) for p in self._processes]
