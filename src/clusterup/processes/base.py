"""The process protocol: a named, switchable mechanism of the model that declares what it owns.

A process declares, in its own module (after Starsim's ``define_pars / define_states / define_results``):

- ``section`` and ``Params``: its parameter section (``params.<section>``), a :class:`~clusterup.params.Section`
  model; ``Params = None`` where it reads a shared section (``frontier``) or has none;
- ``fields``: the per-firm fields it owns (:class:`~clusterup.state.FieldSpec`), added to the population;
- ``columns``: the time-series columns it records (:class:`Column`), filled by :meth:`Process.record`;
- ``context``: the per-step values it hands to later processes or reads from earlier ones
  (:class:`~clusterup.state.ContextField`).

The engine collects the declarations of the processes in the schedule: a new mechanism is one new file
plus its registration (docs/extending.md). Each process draws only from its own random stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from ..compiled import slots_where
from ..state import ContextField, FieldSpec, Mode, State, StepContext

if TYPE_CHECKING:
    from ..params import Params, Section

GROUPS = ("population", "capability", "gap", "innovation", "generations", "learning", "knowledge", "network", "processes")


@dataclass(frozen=True)
class Column:
    """A time-series column: name, integer or float, meaning, and the group of the schema it belongs to
    (its position in the table: the core indicators of the group first, then the processes' columns in
    schedule order)."""

    name: str
    kind: Literal["int", "float"]
    description: str
    group: str = "processes"

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValueError(f"column {self.name}: group must be one of {', '.join(GROUPS)}; got {self.group!r}")


class Process:
    """A mechanism of the model. Subclasses set ``name`` (and their declarations) and implement :meth:`step`.

    If the parameter section has an ``enabled`` flag that is false, the schedule skips the process (its
    columns are still recorded, from its unchanged state or the context's start values).
    """

    name: ClassVar[str] = "process"
    section: ClassVar[str | None] = None
    Params: ClassVar[type[Section] | None] = None
    fields: ClassVar[tuple[FieldSpec, ...]] = ()
    columns: ClassVar[tuple[Column, ...]] = ()
    context: ClassVar[tuple[ContextField, ...]] = ()
    after: ClassVar[str | None] = None  # where a plugin process goes in the default schedule
    before: ClassVar[str | None] = None

    def __init__(self, params: Params) -> None:
        self.params = params
        self.p: Any = getattr(params, self.section, None) if self.section else None
        if self.p is None and self.Params is not None:  # inserted into a schedule whose parameters lack its section
            self.p = self.Params()

    @property
    def enabled(self) -> bool:
        return bool(getattr(self.p, "enabled", True))

    def init(self, processes: list[Process]) -> None:
        """Called once with the whole schedule, before the first step (for processes that consult others)."""

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:  # pragma: no cover - protocol
        raise NotImplementedError

    def record(self, state: State, ctx: StepContext) -> dict[str, float]:
        """This step's values of the declared ``columns`` (called after every step and for the initial state)."""
        return {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}{'' if self.enabled else ' (disabled)'}>"


# what every innovation mode reports to the mode choice's columns and to the knowledge ties
ATTEMPTS = ContextField("attempts", np.ndarray, "attempts per mode code this step", lambda: np.zeros(len(Mode), np.int64))
SUCCESSES = ContextField("successes", np.ndarray, "successes per mode code this step", lambda: np.zeros(len(Mode), np.int64))
SUCCEEDED = ContextField("succeeded", dict, "mode code -> slots of firms whose attempt succeeded this step", dict)


class InnovationMode(Process):
    """An innovation mode: offers an expected gain to the mode choice, then resolves its attempts."""

    code: ClassVar[Mode] = Mode.NONE
    context = (ATTEMPTS, SUCCESSES, SUCCEEDED)

    def expected(self, state: State, ctx: StepContext) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - protocol
        """Per slot: (expected relative capability gain, cost of an attempt)."""
        raise NotImplementedError

    def fees(self, state: State, ctx: StepContext) -> np.ndarray | None:
        """Per slot: payments expected on success and made then (not when the mode is chosen), such as
        licence fees; None when there are none."""
        return None

    def attempting(self, state: State) -> np.ndarray:
        """Slots of active firms that chose this mode this step."""
        pop = state.pop
        return slots_where(pop.view("mode"), self.code, pop.is_firm)  # ((mode == code) & is_firm).nonzero()[0]
