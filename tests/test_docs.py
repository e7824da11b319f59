"""Docs stay true to the code."""

from pathlib import Path

from clusterup import timeseries_columns
from clusterup.params import describe_parameters, parameters_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_parameter_reference_is_current():
    assert (DOCS / "parameters.md").read_text() == parameters_markdown(), (
        "run: clusterup parameters --markdown > docs/parameters.md"
    )


def test_every_column_is_documented():
    schema = (DOCS / "output-schema.md").read_text()
    for col in timeseries_columns():
        layer_form = col.split("_", 1)[1] if col.startswith(("social_", "economic_", "knowledge_")) else None
        assert f"`{col}`" in schema or (layer_form and f"`L_{layer_form}`" in schema), col


def test_odd_names_every_process_and_parameter_section():
    odd = (DOCS / "ODD.md").read_text()
    sections = {key.split(".")[0] for key, *_ in describe_parameters()}
    for sec in sections - {"run"}:
        assert f"{sec}." in odd, sec


def test_experiment_examples_in_the_docs_are_valid(tmp_path):
    """Every TOML block of docs/experiments.md loads and plans as what it shows (sweep, sensitivity or
    calibration), so a user who copies one gets a working file."""
    import re

    import numpy as np
    import pandas as pd

    from clusterup.experiments import calibrate as cal
    from clusterup.experiments import load_sweep, make_plan
    from clusterup.experiments import sensitivity as sa

    blocks = re.findall(r"```toml\n(.*?)```", (DOCS / "experiments.md").read_text(), flags=re.S)
    kinds = []
    for k, text in enumerate(blocks):
        f = tmp_path / f"example{k}.toml"
        f.write_text(text)
        if "observed" in text:
            pd.DataFrame({"step": np.arange(0, 40, 4), "value": np.linspace(0.15, 0.9, 10)}).to_csv(
                tmp_path / "obs.csv", index=False
            )
            spec, _, obs = cal.load_calibration(f)
            assert len(obs) == 10 and spec.parameters
            kinds.append("calibration")
        elif "method" in text:
            spec, base = sa.load_sensitivity(f)
            plan, x = sa.make_sensitivity_plan(spec, base)
            assert len(plan.runs) == x.shape[0] * spec.replicates
            kinds.append("sensitivity")
        else:
            spec, base = load_sweep(f)
            assert make_plan(spec, base).runs
            kinds.append("sweep")
    assert sorted(set(kinds)) == ["calibration", "sensitivity", "sweep"], kinds


def test_validation_tables_are_the_stored_results():
    """docs/validation.md shows, for each size, exactly the table that docs/validation.json gives."""
    import json

    from clusterup.validation import markdown_table

    stored = json.loads((DOCS / "validation.json").read_text())
    text = (DOCS / "validation.md").read_text()
    assert set(stored["sizes"]) == {"150", "300", "1000"}
    for size, payload in stored["sizes"].items():
        assert len(payload["seeds"]) == 32 and payload["base_seed"] == 20261201
        assert f"### {size} initial firms\n\n{markdown_table(payload['rows'])}" in text, size
