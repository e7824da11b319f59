"""Model state: struct-of-arrays population, the multiplex network, the innovation modes and the per-step
context. Nothing here imports a process."""

from .context import EXIT_CAUSES, EXITED, ContextField, StepContext
from .firms import CORE_FIELDS, FIRM, KIND_NAMES, ORG_KINDS, FieldSpec, Population
from .modes import INNOVATION_MODES, MODE_NAMES, Mode
from .multiplex import LAYERS, Layer, Multiplex, edge_keys
from .world import State

__all__ = [
    "CORE_FIELDS",
    "EXITED",
    "EXIT_CAUSES",
    "FIRM",
    "INNOVATION_MODES",
    "KIND_NAMES",
    "LAYERS",
    "MODE_NAMES",
    "ORG_KINDS",
    "ContextField",
    "FieldSpec",
    "Layer",
    "Mode",
    "Multiplex",
    "Population",
    "State",
    "StepContext",
    "edge_keys",
]
