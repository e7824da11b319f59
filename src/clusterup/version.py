"""The package's version (what every run records). The one place it is written: pyproject.toml reads it
from here (``[tool.setuptools.dynamic]``), and reading it costs no import of package metadata."""

__version__ = "0.1.0"
