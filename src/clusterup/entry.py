"""The console script. ``clusterup --version`` answers before the CLI framework is imported (a fraction of
the start-up of any other command); everything else goes to :func:`clusterup.cli.main`.

The garbage collector is tuned for a short-lived command (docs/performance.md, "Start-up"): while the
libraries are imported it runs rarely (importing NumPy, pandas, Numba and the model creates some 180,000
long-lived objects, which a default collector traverses again and again), :func:`settle` freezes them once
the work begins, and at exit they are frozen again so that the interpreter's last collection does not
traverse them (it cost 0.4-0.7 s at the end of every run). Library users are not affected: only the console
script changes the collector, and :func:`settle` does nothing unless it did.

The console script also tells pydantic not to look for plugins (``PYDANTIC_DISABLE_PLUGINS=__all__``, unless
the variable is set already): the search reads the entry points of every installed distribution when the model's
first parameter class is built, 10-20 ms of every command here, and more in a larger environment, for the
parameter classes of the model, which no pydantic plugin is meant for. It holds for the command's own process and
the workers it starts. A user who wants pydantic's plugins in a command sets the variable, even to the empty
string. Library users are not affected.
"""

from __future__ import annotations

import os
import sys

_STARTUP_GEN0 = 100_000  # the youngest generation's threshold while the command imports (default 700)
_default_threshold: tuple[int, ...] | None = None


def settle() -> None:
    """The command's work begins: freeze what start-up created and restore the collector's thresholds.

    Called by :class:`clusterup.Simulation`; a no-op unless the console script tuned the collector."""
    global _default_threshold
    if _default_threshold is None:
        return
    import gc

    gc.freeze()
    gc.set_threshold(*_default_threshold)
    _default_threshold = None


def _tune_collector() -> None:
    global _default_threshold
    import atexit
    import gc

    _default_threshold = gc.get_threshold()
    gc.set_threshold(_STARTUP_GEN0, *_default_threshold[1:])
    atexit.register(gc.freeze)  # registered first, so run last: after every other exit handler


def run() -> None:  # pragma: no cover - console-script entry point
    if sys.argv[1:] == ["--version"]:
        from .version import __version__

        print(f"clusterup {__version__}")
        sys.exit(0)
    _tune_collector()
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")  # before pydantic builds a class (above)
    from .cli import main

    sys.exit(main())
