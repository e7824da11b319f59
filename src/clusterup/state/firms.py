"""The population: firms and supporting organisations as parallel arrays (one owner of size).

Firms and organisations share one node index, so the network layers need no second index space.
``kind`` tells them apart: 0 is a firm, 1..4 an organisation (see :data:`ORG_KINDS`). Slots of exited
firms stay inactive until :meth:`Population.compact` removes them and returns the index map that
the network uses to follow.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

FIRM = 0
ORG_KINDS = {"university": 1, "institute": 2, "platform": 3, "association": 4}
MODES = ("none", "imitation", "local", "integrated")

# name -> (dtype, fill value); ``knowledge`` is 2-D (slots x domains)
_FIELDS: dict[str, tuple[str, float]] = {
    "id": ("i8", -1),
    "kind": ("i1", 0),
    "active": ("?", 0),
    "capability": ("f8", 0.0),
    "generation": ("i4", 0),
    "segment": ("i4", 0),
    "rd": ("f8", 0.0),
    "wealth": ("f8", 0.0),
    "revenue": ("f8", 0.0),
    "profit": ("f8", 0.0),
    "profit_avg": ("f8", 0.0),
    "age": ("i4", 0),
    "parent": ("i8", -1),
    "x": ("f8", 0.0),
    "y": ("f8", 0.0),
    "mode": ("i1", 0),
    "capacity": ("i8", 0),
    "pipeline": ("f8", 0.0),
    "rent": ("f8", 0.0),
}


class Population:
    """Parallel arrays over node slots ``0..n-1`` (capacity may be larger)."""

    fields = tuple(_FIELDS) + ("knowledge",)

    def __init__(self, domains: int, capacity: int = 16) -> None:
        self.domains = domains
        self.n = 0
        self.next_id = 0
        self._alloc(max(capacity, 1))

    def _alloc(self, capacity: int) -> None:
        old = {name: getattr(self, name) for name in self.fields} if self.n else {}
        for name, (dtype, fill) in _FIELDS.items():
            arr = np.full(capacity, fill, dtype=dtype)
            if name in old:
                arr[: self.n] = old[name][: self.n]
            setattr(self, name, arr)
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
            self._alloc(max(2 * self.capacity_slots, self.n + count))
        idx = np.arange(self.n, self.n + count)
        for name, (_, fill) in _FIELDS.items():
            getattr(self, name)[idx] = fill
        self.knowledge[idx] = 0.0
        self.id[idx] = np.arange(self.next_id, self.next_id + count)
        self.kind[idx] = kind
        self.active[idx] = True
        self.next_id += count
        self.n += count
        return idx

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
        return np.flatnonzero(self.is_firm)

    def orgs(self) -> np.ndarray:
        return np.flatnonzero(self.is_org)

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
        for name, (_, fill) in _FIELDS.items():
            getattr(self, name)[self.n :] = fill
        return mapping

    def items(self) -> Iterator[tuple[str, np.ndarray]]:
        for name in self.fields:
            yield name, self.view(name)

    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in self.fields)

    @staticmethod
    def bytes_per_slot(domains: int) -> int:
        return sum(np.dtype(d).itemsize for d, _ in _FIELDS.values()) + 8 * domains
