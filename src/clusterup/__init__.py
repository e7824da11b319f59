"""clusterup: industrial-cluster upgrading through the co-evolution of firms' innovation and the
cluster's multiplex network (after Ji & Hu 2011).

>>> import clusterup
>>> result = clusterup.simulate("baseline", seed=1, steps=20, firms=100)
>>> result.timeseries[["step", "cap_mean"]].shape
(21, 2)
"""

from .errors import ClusterupError, ConfigError
from .params import Params, load_scenario, preset_names
from .result import Result, timeseries_columns
from .schedule import Schedule
from .simulation import Observer, Simulation, simulate
from .version import __version__

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
