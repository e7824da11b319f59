"""Model state: struct-of-arrays population and the multiplex network."""

from .firms import FIRM, ORG_KINDS, Population
from .multiplex import LAYERS, Layer, Multiplex
from .world import Flows, State

__all__ = ["FIRM", "LAYERS", "ORG_KINDS", "Flows", "Layer", "Multiplex", "Population", "State"]
