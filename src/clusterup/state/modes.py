"""The innovation modes: the one definition that the choice, the outcomes, the recorder and the exports use."""

from __future__ import annotations

from enum import IntEnum


class Mode(IntEnum):
    """A firm's innovation mode in a step (the ``mode`` field holds its code)."""

    NONE = 0
    IMITATION = 1
    LOCAL = 2
    INTEGRATED = 3

    @property
    def label(self) -> str:
        return self.name.lower()


MODE_NAMES: tuple[str, ...] = tuple(m.label for m in Mode)  # code -> name: none, imitation, local, integrated
INNOVATION_MODES: tuple[Mode, ...] = tuple(m for m in Mode if m is not Mode.NONE)  # the three ways to innovate
