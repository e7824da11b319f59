"""Real cluster data in and out: firm, organisation, tie and pipeline tables (docs/data-format.md),
and network export for Gephi and NetworkX (GEXF with dynamic spells, GraphML)."""

from .build import DataStart, data_overrides, initial_data, start_from_data
from .tables import EXAMPLE, ClusterData, DataError, example_dir, validate
from .tables import load as load_data

__all__ = [
    "EXAMPLE",
    "ClusterData",
    "DataError",
    "DataStart",
    "data_overrides",
    "example_dir",
    "initial_data",
    "load_data",
    "start_from_data",
    "validate",
]
