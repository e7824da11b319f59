"""clusterup: industrial-cluster upgrading through the co-evolution of firms' innovation and the
cluster's multiplex network (after Ji & Hu 2011).

>>> import clusterup
>>> result = clusterup.simulate("baseline", seed=1, steps=20, firms=100)
>>> result.timeseries[["step", "cap_mean"]].shape
(21, 2)
"""

from importlib import import_module
from typing import Any

from .errors import ClusterupError, ConfigError
from .version import __version__

# the rest loads on first use, so that `clusterup --version` and `--help` import no NumPy, pandas or Numba
_LAZY = {"Params": "params", "load_scenario": "params", "preset_names": "params", "Result": "result",
         "timeseries_columns": "result", "Schedule": "schedule", "Observer": "simulation", "Simulation": "simulation",
         "simulate": "simulation"}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'clusterup' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ClusterupError",
    "ConfigError",
    "Observer",
    "Params",
    "Result",
    "Schedule",
    "Simulation",
    "__version__",
    "load_scenario",
    "preset_names",
    "simulate",
    "timeseries_columns",
]
