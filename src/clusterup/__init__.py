"""clusterup: industrial-cluster upgrading through the co-evolution of firms' innovation and the
cluster's multiplex network (after Ji & Hu 2011).

>>> import clusterup
>>> result = clusterup.simulate("baseline", seed=1, steps=20, firms=100)
>>> result.timeseries[["step", "cap_mean"]].shape
(21, 2)
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("clusterup")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

from .errors import ClusterupError, ConfigError  # noqa: E402
from .params import Params, load_scenario, preset_names  # noqa: E402
from .result import Result  # noqa: E402
from .schedule import Schedule  # noqa: E402
from .simulation import Simulation, simulate  # noqa: E402

__all__ = [
    "ClusterupError",
    "ConfigError",
    "Params",
    "Result",
    "Schedule",
    "Simulation",
    "__version__",
    "load_scenario",
    "preset_names",
    "simulate",
]
