"""The nnstudy command line."""

import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import tool
from nnstudy import io
from nnstudy.cli import MAX_MODELS_PER_CALL, main, parse_layers, parse_seeds


def test_help_describes_every_subcommand():
    result = subprocess.run([tool("nnstudy"), "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "train" in result.stdout and "replicate" in result.stdout
    train_help = subprocess.run([tool("nnstudy"), "train", "--help"], capture_output=True, text=True)
    for option in ("--dataset", "--layers", "--init", "--regularizer", "--lambd", "--keep-prob",
                   "--optimizer", "--learning-rate", "--epochs", "--batch-size", "--seeds",
                   "--beta1", "--beta2", "--epsilon", "--decay", "--out"):
        assert option in train_help.stdout


def test_train_prints_per_seed_and_summary_and_writes_hdf5(tmp_path, capsys):
    out = tmp_path / "run.h5"
    code = main([
        "train", "--dataset", "circles", "--layers", "10,5", "--init", "he",
        "--regularizer", "l2", "--lambd", "0.7", "--optimizer", "adam",
        "--learning-rate", "0.01", "--epochs", "20", "--batch-size", "64",
        "--seeds", "0-3", "--out", str(out),
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.count("\n") >= 4 + 3
    assert "test_accuracy: mean" in printed
    arrays, metadata = io.read_run(out)
    assert arrays["params"]["W1"].shape == (4, 10, 2)
    assert list(arrays["status"]) == ["ok"] * 4
    assert metadata["arguments"]["lambd"] == 0.7
    assert metadata["architecture"] == [2, 10, 5, 1]
    assert np.all(arrays["specs"]["lambd"] == 0.7)


def test_seeds_trained_in_one_batch_equal_seeds_trained_alone(tmp_path):
    common = ["train", "--dataset", "moons", "--layers", "5,2", "--optimizer", "momentum",
              "--regularizer", "dropout", "--epochs", "5", "--batch-size", "32"]
    assert main(common + ["--seeds", "0-2", "--out", str(tmp_path / "all.h5")]) == 0
    assert main(common + ["--seeds", "1", "--out", str(tmp_path / "one.h5")]) == 0
    together, _ = io.read_run(tmp_path / "all.h5")
    alone, _ = io.read_run(tmp_path / "one.h5")
    for name, value in alone["params"].items():
        assert np.array_equal(together["params"][name][1:2], value)


def test_the_engine_is_chosen_on_the_command_line_and_changes_no_number(tmp_path):
    common = ["train", "--dataset", "moons", "--layers", "5,2", "--optimizer", "adam",
              "--regularizer", "l2_dropout", "--epochs", "5", "--batch-size", "32", "--seeds", "0-1"]
    runs = {}
    for engine in ("plain", "fused"):
        assert main(common + ["--engine", engine, "--out", str(tmp_path / f"{engine}.h5")]) == 0
        runs[engine], metadata = io.read_run(tmp_path / f"{engine}.h5")
        assert metadata["arguments"]["engine"] == engine
    for name, value in runs["plain"]["params"].items():
        assert np.array_equal(runs["fused"]["params"][name], value)


def test_an_unknown_engine_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--dataset", "circles", "--engine", "fast"])
    assert "--engine" in capsys.readouterr().err


@pytest.mark.parametrize(
    "arguments, words",
    [
        (["--learning-rate", "-1"], ["learning_rate", "-1"]),
        (["--regularizer", "dropout", "--keep-prob", "1.5"], ["keep_prob", "1.5"]),
        (["--seeds", "3-1"], ["--seeds", "3-1"]),
        (["--layers", "10,x"], ["--layers", "10,x"]),
        (["--dataset", "nowhere.csv"], ["--dataset", "nowhere.csv"]),
        (["--dataset", "missing.mat"], ["missing.mat"]),
    ],
)
def test_bad_parameters_get_one_clear_error(arguments, words, capsys):
    base = {"--dataset": "circles", "--epochs": "2"}
    for flag, value in zip(arguments[::2], arguments[1::2]):
        base[flag] = value
    argv = ["train"] + [item for pair in base.items() for item in pair]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("error:") == 1
    for word in words:
        assert word in error


def test_unknown_initializer_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["train", "--dataset", "circles", "--init", "bogus"])
    assert excinfo.value.code == 2
    assert "bogus" in capsys.readouterr().err


def test_parse_seeds():
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("1,5,9") == [1, 5, 9]
    assert parse_seeds("7") == [7]


def test_replicate_writes_the_tidy_table(tmp_path, capsys):
    out = tmp_path / "replication.csv"
    assert main(["replicate", "--out", str(out), "--experiments", "gradient_check"]) == 0
    import pandas as pd

    table = pd.read_csv(out)
    assert list(table.columns) == ["experiment", "variant", "metric", "value"]
    assert set(table["variant"]) == {"1d", "nd", "nd_with_mistakes", "nd_engine"}
    correct = table[table["variant"] != "nd_with_mistakes"]
    assert (correct["value"] < 2e-7).all()


def test_replicate_refuses_an_unknown_experiment(tmp_path, capsys):
    assert main(["replicate", "--out", str(tmp_path / "r.csv"), "--experiments", "bogus"]) == 2
    assert "bogus" in capsys.readouterr().err


@pytest.mark.parametrize("layers", ["10,,5", "10,", ",5", "10, ,5"])
def test_malformed_layer_lists_are_refused(layers, capsys):
    assert main(["train", "--dataset", "circles", "--epochs", "1", "--layers", layers]) == 2
    error = capsys.readouterr().err
    assert f"--layers={layers!r}" in error


def test_empty_layers_still_mean_logistic_regression():
    assert parse_layers("") == [] and parse_layers("10,5") == [10, 5]


def test_too_many_seeds_are_refused_before_the_range_is_expanded(capsys):
    started = time.perf_counter()
    assert main(["train", "--dataset", "circles", "--epochs", "1", "--seeds", "0-1000000000000"]) == 2
    assert time.perf_counter() - started < 5
    error = capsys.readouterr().err
    assert f"at most {MAX_MODELS_PER_CALL} seeds" in error and "1000000000001" in error
    assert len(parse_seeds(f"0-{MAX_MODELS_PER_CALL - 1}")) == MAX_MODELS_PER_CALL


def _unwritable_outputs(folder):
    a_file = folder / "a_file"
    a_file.write_text("")
    return {
        "a folder": (folder, "not a folder"),
        "inside a file": (a_file / "run.h5", "is not a folder"),
        "a read-only file system": (Path("/proc/nnstudy-run.h5"), "writable location"),
    }


@pytest.mark.parametrize("case", ["a folder", "inside a file", "a read-only file system"])
def test_unwritable_out_is_refused_before_training(case, tmp_path, capsys, monkeypatch):
    out, words = _unwritable_outputs(tmp_path)[case]
    import nnstudy.study.experiment

    def no_training(*args, **kwargs):
        raise AssertionError("training started before --out was checked")

    monkeypatch.setattr(nnstudy.study.experiment, "run_batch", no_training)
    assert main(["train", "--dataset", "circles", "--epochs", "1", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "--out" in error and words in error


def test_out_in_a_folder_yet_to_be_made_is_accepted(tmp_path):
    out = tmp_path / "new" / "deeper" / "run.h5"
    assert main(["train", "--dataset", "circles", "--epochs", "1", "--out", str(out)]) == 0
    assert out.is_file()


def test_analyze_writes_the_verdicts_and_every_statistics_table(tmp_path, capsys):
    import pandas as pd

    from test_verdicts import SMALL, planted_runs

    runs = planted_runs(0, lambda d, i, r, o: 0.05 * (o == "adam"), SMALL)
    runs.to_csv(tmp_path / "runs.csv", index=False)
    assert main(["analyze", str(tmp_path / "runs.csv"), "--out", str(tmp_path / "out"), "--rope", "0.01"]) == 0
    verdicts = pd.read_csv(tmp_path / "out" / "verdicts.csv")
    assert list(verdicts.columns) == ["factor", "level_a", "level_b", "scope", "estimate", "ci_low", "ci_high",
                                      "p_holm", "p_a_better", "p_equivalent", "p_b_better", "verdict"]
    overall = verdicts[(verdicts["factor"] == "optimizer") & (verdicts["scope"] == "all")].iloc[0]
    assert (overall["level_a"], overall["level_b"], overall["verdict"]) == ("gd", "adam", "b better")
    for name in ("interaction_tests", "level_aggregates", "improvement", "critical_differences", "power",
                 "failing_levels", "verdicts_without_failing"):
        assert (tmp_path / "out" / f"{name}.csv").is_file()
    assert (tmp_path / "out" / "critical_difference-optimizer.png").stat().st_size > 0
    assert "b better" in capsys.readouterr().out


def test_analyze_names_the_missing_columns(tmp_path, capsys):
    (tmp_path / "runs.csv").write_text("dataset,seed\nd0,0\n")
    assert main(["analyze", str(tmp_path / "runs.csv"), "--out", str(tmp_path / "out")]) == 2
    assert "missing: initializer, optimizer, regularizer, status" in capsys.readouterr().err
