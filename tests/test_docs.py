"""Docs stay true to the code."""

from pathlib import Path

from clusterup.cli import parameters_markdown
from clusterup.params import describe_parameters
from clusterup.recorder import COLUMNS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_parameter_reference_is_current():
    assert (DOCS / "parameters.md").read_text() == parameters_markdown(), (
        "run: clusterup parameters --markdown > docs/parameters.md"
    )


def test_every_column_is_documented():
    schema = (DOCS / "output-schema.md").read_text()
    for col in COLUMNS:
        layer_form = col.split("_", 1)[1] if col.startswith(("social_", "economic_", "knowledge_")) else None
        assert f"`{col}`" in schema or (layer_form and f"`L_{layer_form}`" in schema), col


def test_odd_names_every_process_and_parameter_section():
    odd = (DOCS / "ODD.md").read_text()
    sections = {key.split(".")[0] for key, *_ in describe_parameters()}
    for sec in sections - {"run"}:
        assert f"{sec}." in odd, sec
