"""The population: firms and supporting organisations as parallel arrays (one owner of size).

Firms and organisations share one node index, so the network layers need no second index space.
``kind`` tells them apart: 0 is a firm, 1..4 an organisation (see :data:`ORG_KINDS`). Slots of exited
firms stay inactive until :meth:`Population.compact` removes them and returns the index map that
the network uses to follow.

The population holds the core fields below and every field a process declares (its
:attr:`~clusterup.processes.Process.fields`); one object grows and compacts all of them together.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FIRM = 0
ORG_KINDS = {"university": 1, "institute": 2, "platform": 3, "association": 4}
KIND_NAMES = {FIRM: "firm", **{v: k for k, v in ORG_KINDS.items()}}


@dataclass(frozen=True)
class FieldSpec:
    """A per-slot field: name, NumPy dtype, the value a new slot starts with, and its meaning."""

    name: str
    dtype: str
    fill: float
    description: str = ""


CORE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", "i8", -1, "stable node id (never reused)"),
    FieldSpec("kind", "i1", 0, "0 firm, 1 university, 2 research institute, 3 service platform, 4 business association"),
    FieldSpec("active", "?", 0, "the slot holds a live node"),
    FieldSpec("capability", "f8", 0.0, "technology level"),
    FieldSpec("generation", "i4", 0, "technology generation"),
    FieldSpec("segment", "i4", 0, "value-chain segment"),
    FieldSpec("rd", "f8", 0.0, "R&D propensity"),
    FieldSpec("wealth", "f8", 0.0, "cash"),
    FieldSpec("age", "i4", 0, "age in steps"),
    FieldSpec("parent", "i8", -1, "id of the parent of a spin-off, -1 otherwise"),
    FieldSpec("x", "f8", 0.0, "location (unit square)"),
    FieldSpec("y", "f8", 0.0, "location (unit square)"),
    FieldSpec("mode", "i1", 0, "innovation mode chosen this step"),
    FieldSpec("capacity", "i8", 0, "ties an organisation can serve"),
    FieldSpec("protection", "f8", 0.0, "share of the leakage from this firm that its intellectual property blocks"),
    FieldSpec("licence_fee", "f8", 0.0, "what another firm pays this one for a licence to imitate it"),
)


def merge_fields(groups: Sequence[Sequence[FieldSpec]]) -> list[FieldSpec]:
    """Field declarations of several owners, each once; one name declared differently twice is an error."""
    out: dict[str, FieldSpec] = {}
    for group in groups:
        for f in group:
            if f.name == "knowledge" or (f.name in out and out[f.name] != f):
                raise ValueError(f"population field {f.name!r} is declared twice, differently")
            out.setdefault(f.name, f)
    return list(out.values())


class Population:
    """Parallel arrays over node slots ``0..n-1`` (capacity may be larger)."""

    def __init__(self, domains: int, capacity: int = 16, fields: Sequence[FieldSpec] = ()) -> None:
        self.domains = domains
        self.specs = merge_fields([CORE_FIELDS, fields])
        self.fields = tuple(f.name for f in self.specs) + ("knowledge",)
        self.n = 0
        self.next_id = 0
        self._allocate(max(capacity, 1))

    def _allocate(self, capacity: int) -> None:
        old = {name: getattr(self, name) for name in self.fields} if self.n else {}
        for spec in self.specs:
            arr = np.full(capacity, spec.fill, dtype=spec.dtype)
            if spec.name in old:
                arr[: self.n] = old[spec.name][: self.n]
            setattr(self, spec.name, arr)
        k = np.zeros((capacity, self.domains))
        if "knowledge" in old:
            k[: self.n] = old["knowledge"][: self.n]
        self.knowledge = k
        self.capacity_slots = capacity

    def __len__(self) -> int:
        return self.n

    def add(self, count: int, kind: int = FIRM) -> np.ndarray:
        """Append ``count`` active nodes of ``kind``; return their slot indices."""
        if self.n + count > self.capacity_slots:
            self._allocate(max(2 * self.capacity_slots, self.n + count))
        new = slice(self.n, self.n + count)
        for spec in self.specs:
            getattr(self, spec.name)[new] = spec.fill
        self.knowledge[new] = 0.0
        self.id[new] = np.arange(self.next_id, self.next_id + count)
        self.kind[new] = kind
        self.active[new] = True
        self.next_id += count
        self.n += count
        return np.arange(new.start, new.stop)

    def view(self, name: str) -> np.ndarray:
        """The used part of a field (slots ``0..n-1``)."""
        return getattr(self, name)[: self.n]

    @property
    def is_firm(self) -> np.ndarray:
        return (self.kind[: self.n] == FIRM) & self.active[: self.n]

    @property
    def is_org(self) -> np.ndarray:
        return (self.kind[: self.n] != FIRM) & self.active[: self.n]

    def firms(self) -> np.ndarray:
        """Slot indices of active firms."""
        return self.is_firm.nonzero()[0]  # np.flatnonzero's result, without its wrappers (a few us a call)

    def orgs(self) -> np.ndarray:
        return self.is_org.nonzero()[0]

    def compact(self) -> np.ndarray | None:
        """Drop inactive slots. Returns the old->new slot map (-1 for dropped), or None if nothing moved."""
        keep = self.active[: self.n]
        if keep.all():
            return None
        mapping = np.full(self.n, -1, dtype=np.int64)
        kept = np.flatnonzero(keep)
        mapping[kept] = np.arange(kept.size)
        for name in self.fields:
            arr = getattr(self, name)
            arr[: kept.size] = arr[kept]
        self.n = int(kept.size)
        for spec in self.specs:
            getattr(self, spec.name)[self.n :] = spec.fill
        return mapping

    def items(self) -> Iterator[tuple[str, np.ndarray]]:
        for name in self.fields:
            yield name, self.view(name)

    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in self.fields)

    # -- save and restore ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild this population: sizes and the used part of every field."""
        return {"n": self.n, "next_id": self.next_id, "domains": self.domains,
                "fields": {name: arr.copy() for name, arr in self.items()}}  # fmt: skip

    @classmethod
    def from_state_dict(cls, d: dict[str, Any], fields: Sequence[FieldSpec] = ()) -> Population:
        """The population a :meth:`state_dict` describes (with room to grow), declared ``fields`` included."""
        n = int(d["n"])
        pop = cls(int(d["domains"]), capacity=max(n, 1), fields=fields)
        stored = d["fields"]
        missing = [name for name in pop.fields if name not in stored]
        if missing:
            raise ValueError(f"the saved population lacks the field(s) {', '.join(missing)}")
        pop.n = n
        pop.next_id = int(d["next_id"])
        for name in pop.fields:
            getattr(pop, name)[:n] = stored[name]
        return pop


def bytes_per_slot(domains: int, fields: Sequence[FieldSpec] = ()) -> int:
    """Bytes one slot takes with the core fields, ``fields`` and ``domains`` knowledge shares."""
    specs = merge_fields([CORE_FIELDS, fields])
    return sum(np.dtype(f.dtype).itemsize for f in specs) + 8 * domains
