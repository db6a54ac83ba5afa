"""Aggregation cross-checks every cell's rows against its run file and the configuration."""

import shutil

import pytest

from conftest import REPO
from nnstudy import config as config_module
from nnstudy import io
from nnstudy.study import grid as study
from nnstudy.study.integrity import ResultError, check_cell, check_cells


@pytest.fixture(scope="module")
def cell(tmp_path_factory):
    """One trained cell of the smoke study, written as the train rule writes it: (rows, run, config)."""
    config = config_module.load(REPO / "config" / "smoke.yaml", REPO / "workflow" / "schemas" / "config.schema.yaml")
    config["datasets"]["circles"]["epochs"] = 2
    pool = study.build_pool(config, "circles")
    outcome, rows = study.train_cell(config, "circles", "gd", "none", pool, study.one_rate(config, 0.1))
    folder = tmp_path_factory.mktemp("cell") / "results" / "runs" / "circles" / "gd"
    rows_path, run_path = folder / "none.csv", folder / "none.h5"
    io.write_run(run_path, outcome, {"config": config, "cell": ["circles", "gd", "none"]})
    io.write_rows(rows_path, rows)
    return rows_path, run_path, config


@pytest.fixture
def copy(cell, tmp_path):
    rows_path, run_path, config = cell
    rows_copy, run_copy = tmp_path / "none.csv", tmp_path / "none.h5"
    shutil.copy(rows_path, rows_copy)
    shutil.copy(run_path, run_copy)
    return rows_copy, run_copy, config


def _lines(path):
    return path.read_text().splitlines(keepends=True)


def _refused(rows_path, run_path, config, *words):
    with pytest.raises(ResultError) as excinfo:
        check_cell(rows_path, run_path, config)
    message = str(excinfo.value)
    assert f"--forcerun {rows_path}" in message
    for word in words:
        assert str(word) in message, message
    return message


def test_an_intact_cell_passes(copy):
    check_cell(*copy)


def test_a_deleted_row_is_refused_naming_the_file(copy):
    rows_path, run_path, config = copy
    lines = _lines(rows_path)
    rows_path.write_text("".join(lines[:3] + lines[4:]))
    message = _refused(rows_path, run_path, config, rows_path, "5 rows", "expects 6", "('random', 0)")
    assert message.count("\n") == 0


def test_a_repeated_row_is_refused(copy):
    rows_path, run_path, config = copy
    lines = _lines(rows_path)
    rows_path.write_text("".join(lines[:3] + lines[2:3] + lines[4:]))
    _refused(rows_path, run_path, config, rows_path, "repeated", "('zeros', 1)")


def test_an_edited_accuracy_is_refused(copy):
    rows_path, run_path, config = copy
    header, *rows = _lines(rows_path)
    columns = header.strip().split(",")
    values = rows[-1].strip().split(",")
    values[columns.index("test_accuracy")] = "0.99"
    rows_path.write_text("".join([header, *rows[:-1], ",".join(values) + "\n"]))
    _refused(rows_path, run_path, config, "test_accuracy", "0.99", run_path)


def test_rows_of_another_configuration_are_refused(copy):
    rows_path, run_path, config = copy
    _refused(rows_path, run_path, {**config, "seeds": [0, 1, 2]}, "expects 9", "('he', 2)")


@pytest.mark.parametrize("keep", [0, 200, 2000])
def test_a_truncated_run_file_is_refused_without_a_traceback(copy, keep):
    rows_path, run_path, config = copy
    run_path.write_bytes(run_path.read_bytes()[:keep])
    message = _refused(rows_path, run_path, config, run_path, "cannot read the run")
    assert "Traceback" not in message


def test_cells_pair_rows_and_runs_by_name(copy, tmp_path):
    rows_path, run_path, config = copy
    check_cells([rows_path], [tmp_path / "other.h5", run_path], config)
    with pytest.raises(ResultError, match="no run file"):
        check_cells([rows_path], [tmp_path / "other.h5"], config)
