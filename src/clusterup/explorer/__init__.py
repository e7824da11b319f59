"""The browser explorer (``clusterup explore``): a Solara app over :mod:`clusterup.explorer.model`."""
