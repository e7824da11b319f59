"""The console script. ``clusterup --version`` answers before the CLI framework is imported (a fraction of
the start-up of any other command); everything else goes to :func:`clusterup.cli.main`."""

from __future__ import annotations

import sys


def run() -> None:  # pragma: no cover - console-script entry point
    if sys.argv[1:] == ["--version"]:
        from .version import __version__

        print(f"clusterup {__version__}")
        sys.exit(0)
    from .cli import main

    sys.exit(main())
