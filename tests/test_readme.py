"""The README's two commands stay true: CI runs the README's test command, the run command exists."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```(?:bash|sh)\n(.*?)\n```", text, flags=re.S)[:2]


def test_readme_shows_install_run_and_test_commands():
    install_run, test = readme_commands()
    assert "pip install" in install_run and "clusterup run baseline" in install_run
    assert "pytest" in test


def test_ci_runs_the_readme_test_command():
    _, test = readme_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    test_cmd = test.split("&&", 1)[1].strip() if test.startswith(". .venv") else test
    assert test_cmd in ci
