"""The installed package's version (what every run records)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("clusterup")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
