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
    """A typed record of this step's hand-overs; only declared fields can be read or written.

    Each set of declared fields gets a class of its own with one slot per field (made once, then reused), so
    that reading a field is a plain attribute read: the processes read the context some thirty times a step."""

    __slots__ = ()
    _fields: dict[str, ContextField] = {}
    _classes: dict[tuple[ContextField, ...], type[StepContext]] = {}

    def __new__(cls, fields: Iterable[ContextField]) -> StepContext:
        declared = {f.name: f for f in fields}
        key = tuple(declared.values())
        kind = StepContext._classes.get(key)
        if kind is None:
            clash = sorted(set(declared) & set(dir(StepContext)))
            if clash:
                raise ValueError(f"step context field {clash[0]!r} is a name the step context itself uses")
            kind = StepContext._classes[key] = type("StepContext", (StepContext,), {"__slots__": tuple(declared),
                                                                                   "_fields": declared})  # fmt: skip
        out = object.__new__(kind)
        for name, f in declared.items():
            object.__setattr__(out, name, f.default() if f.default else None)
        return out

    def __getattr__(self, name: str) -> Any:  # only reached for a name that is not a declared field
        declared = ", ".join(type(self)._fields) or "none"
        raise AttributeError(f"the step context has no field {name!r}; declared: {declared}")

    def __setattr__(self, name: str, value: Any) -> None:
        spec = self._fields.get(name)
        if spec is None:
            raise AttributeError(f"the step context has no field {name!r}; a process must declare it (ContextField)")
        if value is not None and not isinstance(value, spec.type):
            raise TypeError(f"step context field {name!r} takes {spec.type}; got {type(value).__name__}")
        object.__setattr__(self, name, value)

    def __reduce__(self) -> tuple:  # a copy or a pickle: the same fields with the same values
        return _restore, (tuple(self._fields.values()), {name: getattr(self, name) for name in self._fields})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._fields)


def _restore(fields: tuple[ContextField, ...], values: dict[str, Any]) -> StepContext:
    out = StepContext(fields)
    for name, value in values.items():
        object.__setattr__(out, name, value)
    return out


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
