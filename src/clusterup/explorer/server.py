"""Serving the explorer: the port check, the Solara command, the offline assets (``clusterup explore``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable

from ..errors import ConfigError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def free_port(host: str, port: int) -> int:
    """``port`` if the explorer can listen on ``host`` there (``0``: a free port the system picks); otherwise
    a ConfigError naming the problem."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be an integer in [0, 65535]; got {port}")
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.bind((host, port))
            return sock.getsockname()[1]
    except OSError as exc:
        msg = f"--host {host} --port {port}: cannot listen there ({exc.strerror}); --port 0 picks a free port"
        raise ConfigError(msg) from None


def explore_command(host: str, port: int, browser: bool) -> list[str]:
    """The Solara server command the explorer runs (loopback unless --host says otherwise)."""
    return [sys.executable, "-m", "solara", "run", "clusterup.explorer.app", "--host", host, "--port", str(port),
            "--production", "--open" if browser else "--no-open", "--no-access-log"]  # fmt: skip


def ensure_assets(fetch_assets: bool, log: Callable[[str], None]) -> None:
    """Fill Solara's asset cache from the npm registry when asked, or when the CDN is out of reach."""
    from . import assets

    if not (fetch_assets or assets.missing()):
        return
    try:
        import urllib.request

        request = urllib.request.Request("https://cdn.jsdelivr.net/npm/requirejs@2.3.6/require.js", method="HEAD")
        reachable = not fetch_assets and urllib.request.urlopen(request, timeout=3).status < 400
    except Exception:  # noqa: BLE001 - any failure means: no CDN from here
        reachable = False
    if not reachable:
        for name in assets.fetch(log=log):
            log(f"cached {name}")


def serve(host: str, port: int, browser: bool, fetch_assets: bool, log: Callable[[str], None]) -> int:
    """Serve the explorer until it is stopped; returns the server's exit code."""
    from ..errors import require

    require("solara", "explore", "clusterup explore")
    port = free_port(host, port)
    if host not in LOOPBACK:
        log(f"serving on {host}: other machines can reach the explorer")
    ensure_assets(fetch_assets, log)
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    log(f"clusterup explorer on http://{host}:{port} (Ctrl-C stops it)")
    return run_child(explore_command(host, port, browser), env)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: ask the kernel to send the child SIGTERM when its parent dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


def run_child(command: list[str], env: dict[str, str]) -> int:
    """Run the server as a child that never outlives this process: SIGTERM or SIGHUP to this process stops
    the child first; on Linux the child is also stopped when this process is killed outright."""
    child = subprocess.Popen(command, env=env, preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    previous = {}
    stopped: list[int] = []

    def stop(signum, _frame):  # stop the child; the wait below then returns and the command exits 128 + signal
        stopped.append(signum)
        child.terminate()

    for sig in (signal.SIGTERM, signal.SIGHUP):
        previous[sig] = signal.signal(sig, stop)
    try:
        code = child.wait()
        return 128 + stopped[0] if stopped else code
    except KeyboardInterrupt:  # Ctrl-C reaches the child too (same process group): let it finish
        child.wait()
        raise
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
