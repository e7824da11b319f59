"""Typed errors. Library code raises these; only the CLI turns them into exit codes."""

from __future__ import annotations


class ClusterupError(Exception):
    """Base class of every error clusterup raises on purpose."""


class ConfigError(ClusterupError, ValueError):
    """Bad user input (parameters, presets, flags, paths). The CLI maps it to exit code 2.

    The message is one line that names the offending key and what is allowed.
    """

    exit_code = 2


class OutputExistsError(ConfigError):
    """The output directory already holds a run and overwriting was not asked for."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped a command; the message says what was kept. The CLI maps it to exit code 130."""

    last: str | None = None  # the latest message, for a caller that only sees the exit code (Typer maps Ctrl-C to 130)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        Interrupted.last = message


class MissingExtra(ConfigError):
    """A command needs an optional part of clusterup that is not installed (exit code 2, one line)."""


def require(module: str, extra: str, what: str) -> None:
    """Raise :class:`MissingExtra` naming the ``pip install`` that brings ``module`` when it cannot be imported."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"{what} needs the optional package {module!r}: pip install 'clusterup[{extra}]'") from None
