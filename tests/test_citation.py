"""Licence and citation: LICENSE, CITATION.cff (validated by cffconvert), codemeta.json and `clusterup cite`
say the same thing, and agree with pyproject.toml."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from clusterup import citation
from clusterup.cli import main

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
CFFCONVERT = os.environ.get("CLUSTERUP_CFFCONVERT") or shutil.which("cffconvert")


def test_licence_is_the_mit_licence_pyproject_names():
    assert PYPROJECT["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Permission is hereby granted, free of charge" in text


def test_citation_cff_and_codemeta_agree_with_the_package():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    meta = json.loads((ROOT / "codemeta.json").read_text())
    from clusterup import __version__

    assert cff["version"] == meta["version"] == __version__
    assert cff["title"] == citation.TITLE and cff["license"] == citation.LICENSE
    assert meta["license"].endswith("/MIT") and meta["name"] == PYPROJECT["name"] == "clusterup"
    theory = cff["references"][0]
    assert theory["doi"] == citation.THEORY["doi"] and meta["referencePublication"]["identifier"].endswith(citation.THEORY["doi"])
    assert [a["family-names"] for a in theory["authors"]] == [f for f, _ in citation.THEORY["authors"]]


@pytest.mark.skipif(CFFCONVERT is None and not os.environ.get("CI"), reason="cffconvert is installed by .ci/run")
def test_citation_cff_is_valid_cff():
    assert CFFCONVERT, "cffconvert not found (.ci/run installs it into .ci-tools; or set CLUSTERUP_CFFCONVERT)"
    done = subprocess.run([CFFCONVERT, "--validate", "-i", str(ROOT / "CITATION.cff")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    bib = subprocess.run([CFFCONVERT, "-f", "bibtex", "-i", str(ROOT / "CITATION.cff")], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert bib.returncode == 0 and "clusterup" in bib.stdout


def test_cite_prints_bibtex_for_the_software_and_the_theory(capsys):
    assert main(["cite"]) == 0
    text = capsys.readouterr().out
    assert text.count("@software{") == 1 and text.count("@article{") == 1
    assert text.count("{") == text.count("}")  # balanced: BibTeX reads it
    assert "version = {" in text and citation.THEORY["doi"] in text and r"Science \& Technology" in text
