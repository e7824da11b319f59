"""``python -m clusterup`` runs the CLI."""

import sys

from .cli import main

if __name__ == "__main__":  # not when imported as the main module of MPI worker ranks (mpi4py.futures)
    sys.exit(main())
