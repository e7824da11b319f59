"""The per-step context: values one process hands to a later one within the same step.

Its fields are declared by the processes that write or read them (:class:`ContextField`), typed, and
live one step: the schedule makes a fresh context at the start of every step, so nothing computed in
one step can leak into the next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ContextField:
    """A declared value of the per-step context: its name, type, meaning and start value."""

    name: str
    type: type | tuple[type, ...]
    description: str
    default: Callable[[], Any] | None = None  # a factory for the start value; None: unset (None) until written


class StepContext:
    """A typed record of this step's hand-overs; only declared fields can be read or written."""

    __slots__ = ("_fields", "_values")

    def __init__(self, fields: Iterable[ContextField]) -> None:
        declared = {f.name: f for f in fields}
        object.__setattr__(self, "_fields", declared)
        object.__setattr__(self, "_values", {n: (f.default() if f.default else None) for n, f in declared.items()})

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name not in values:
            declared = ", ".join(object.__getattribute__(self, "_fields")) or "none"
            raise AttributeError(f"the step context has no field {name!r}; declared: {declared}")
        return values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        spec = self._fields.get(name)
        if spec is None:
            raise AttributeError(f"the step context has no field {name!r}; a process must declare it (ContextField)")
        if value is not None and not isinstance(value, spec.type):
            raise TypeError(f"step context field {name!r} takes {spec.type}; got {type(value).__name__}")
        self._values[name] = value

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._fields)


EXIT_CAUSES = ("losses", "lagging")  # cash below the exit threshold; capability too far below the mean
EXITED = ContextField("exited", tuple, "(ids, cause codes) of the firms that exited this step; causes index EXIT_CAUSES", tuple)


def merge_fields(groups: Iterable[Iterable[ContextField]]) -> list[ContextField]:
    """Context fields of several processes, each once; two different declarations of one name are an error."""
    out: dict[str, ContextField] = {}
    for group in groups:
        for f in group:
            if f.name in out and out[f.name] != f:
                raise ValueError(f"step context field {f.name!r} is declared twice, differently")
            out.setdefault(f.name, f)
    return list(out.values())
