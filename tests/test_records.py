"""The chosen learning rate is written once by the tuning job and read by every consumer."""

import ast
from pathlib import Path

import pytest

from nnstudy import io, records
from nnstudy.analysis import tables

PACKAGE = Path(records.__file__).parent


def _tuning_rows(dataset, optimizer):
    # Rate 0.1 has the best dev accuracy: the rule of the tuning job would choose it.
    return [
        {"dataset": dataset, "optimizer": optimizer, "learning_rate": rate, "seed": 100,
         "status": "ok", "train_accuracy": acc, "dev_accuracy": acc, "dev_cost": 1 - acc}
        for rate, acc in ((0.001, 0.6), (0.01, 0.7), (0.1, 0.9))
    ]


def test_a_chosen_rate_round_trips_exactly(tmp_path):
    path = tmp_path / "tuning" / "circles" / "adam.chosen.json"
    records.write_chosen_rate(path, "circles", "adam", 0.1 + 0.2)
    assert records.read_chosen_rate(path) == {"dataset": "circles", "optimizer": "adam", "learning_rate": 0.1 + 0.2}


def test_study_rate_reads_the_chosen_file_or_the_fixed_rate(tmp_path):
    path = tmp_path / "adam.chosen.json"
    records.write_chosen_rate(path, "circles", "adam", 0.01)
    tuned = {"learning_rates": {"tune": True}}
    fixed = {"learning_rates": {"tune": False, "fixed": {"adam": 0.003}}}
    assert records.study_rate(tuned, "adam", path) == 0.01
    assert records.study_rate(fixed, "adam") == 0.003


def test_the_learning_rates_table_flags_the_stored_choice_without_choosing_again(tmp_path):
    curve, chosen = tmp_path / "adam.csv", tmp_path / "adam.chosen.json"
    io.write_rows(curve, _tuning_rows("circles", "adam"))
    # A choice the rule would not make: the table must repeat it, not recompute its own.
    records.write_chosen_rate(chosen, "circles", "adam", 0.01)
    config = {"datasets": {"circles": {}}, "initializers": {}, "regularizers": {}, "optimizers": {"adam": {}}}
    table = tables.learning_rates_table([curve], [chosen], config)
    assert table.loc[table["chosen"], "learning_rate"].tolist() == [0.01]


def _imports(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", sorted((PACKAGE / "analysis").glob("*.py")), ids=lambda p: p.name)
def test_analysis_never_imports_the_study(path):
    assert not [name for name in _imports(path) if name.startswith("nnstudy.study")]


def test_only_the_tuning_job_applies_the_choosing_rule():
    users = [
        str(path.relative_to(PACKAGE.parents[1]))
        for path in [*PACKAGE.rglob("*.py"), *(PACKAGE.parents[1] / "workflow" / "scripts").glob("*.py")]
        if "choose_learning_rate(" in path.read_text() and path.name != "tuning.py"
    ]
    assert users == ["workflow/scripts/tune.py"]
