"""The process protocol: a named, switchable unit of the model with its own parameter section."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from ..params import Params
    from ..state import State


class Process:
    """A mechanism of the model. Subclasses set ``name`` and ``section`` and implement :meth:`step`.

    ``section`` names the parameter section (``params.<section>``); if it has an ``enabled`` flag that
    is false, the schedule skips the process. Each process draws only from its own generator.
    """

    name: ClassVar[str] = "process"
    section: ClassVar[str | None] = None

    def __init__(self, params: Params) -> None:
        self.params = params
        self.p: Any = getattr(params, self.section) if self.section else None

    @property
    def enabled(self) -> bool:
        return bool(getattr(self.p, "enabled", True))

    def bind(self, processes: list[Process]) -> None:
        """Called once with the whole schedule, for processes that consult others."""

    def step(self, state: State, rng: np.random.Generator) -> None:  # pragma: no cover - protocol
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}{'' if self.enabled else ' (disabled)'}>"


class InnovationMode(Process):
    """An innovation mode: offers an expected gain to the mode choice, then resolves its attempts."""

    code: ClassVar[int] = 0

    def expected(self, state: State) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - protocol
        """Per slot: (expected relative capability gain, cost of an attempt)."""
        raise NotImplementedError

    def attempting(self, state: State) -> np.ndarray:
        """Slots of active firms that chose this mode this step."""
        pop = state.pop
        return np.flatnonzero((pop.view("mode") == self.code) & pop.is_firm)
