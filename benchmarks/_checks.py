"""The argument checks the benchmark scripts share: a bad value stops a script with one line on stderr, naming
the argument and what it allows, and exit code 2. The scripts run as ``python benchmarks/NAME.py``, which puts
this folder first on ``sys.path``: they import this module as ``_checks``."""

from __future__ import annotations

import sys
from typing import NoReturn


def fail(prog: str, message: str) -> NoReturn:
    """Stop ``prog`` with ``message`` (one line on stderr, exit code 2)."""
    print(f"{prog}: {message}", file=sys.stderr)
    raise SystemExit(2)


def at_least(prog: str, label: str, value: int | None, low: int, why: str = "") -> None:
    """Stop ``prog`` where ``value`` (None: not given) is below ``low``: "LABEL must be >= LOW" and ``why``."""
    if value is not None and value < low:
        fail(prog, f"{label} must be >= {low}{why}")


def preset(prog: str, name: str) -> None:
    """Stop ``prog`` where ``name`` is not a shipped preset, naming the presets."""
    from clusterup.params import preset_names

    if name not in preset_names():
        fail(prog, f"--preset must be one of {', '.join(preset_names())}, not {name!r}")
