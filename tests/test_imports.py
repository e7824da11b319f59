"""Every module of the package imports on its own, as a user's first import: a circular import shows only
when a module is imported before the ones that would break the cycle (``import clusterup.processes`` first
used to fail, and with it ``clusterup schedule`` and any plugin file that starts with it)."""

import subprocess
import sys

_SCRIPT = r"""
import importlib, pkgutil, sys
import clusterup

names = sorted(m.name for m in pkgutil.walk_packages(clusterup.__path__, "clusterup."))
failed = []
for name in names:
    for loaded in [k for k in sys.modules if k == "clusterup" or k.startswith("clusterup.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
print(len(names))
print("\n".join(failed))
"""


def test_every_module_imports_first():
    done = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    count, *failed = done.stdout.strip().splitlines()
    assert int(count) > 40  # the walk found the package's modules
    assert not [f for f in failed if f], failed


def test_schedule_command_in_a_fresh_process():
    done = subprocess.run([sys.executable, "-m", "clusterup", "schedule", "--steps", "5", "--firms", "40"],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "mode_choice" in done.stdout
