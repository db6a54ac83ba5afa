"""Disk formats: each writer's output reads back to what was written."""

import signal
import subprocess
import sys

import numpy as np
import pandas as pd

from nnstudy import io
from nnstudy.study.experiment import ModelSpec, architecture_for, run_batch
from nnstudy.data.datasets import make_dataset
from nnstudy.core.training import TrainConfig


def test_rows_round_trip_with_commas_quotes_and_exact_floats(tmp_path):
    rows = [
        {"name": 'a, "quoted" name', "value": 0.1 + 0.2, "count": 3, "flag": True},
        {"name": "plain", "value": float("nan"), "count": -1, "flag": False},
    ]
    path = tmp_path / "rows.csv"
    io.write_rows(path, rows)
    back = io.read_rows(path)
    assert back[0] == rows[0]
    assert back[1]["name"] == "plain" and np.isnan(back[1]["value"]) and back[1]["flag"] is False
    assert pd.read_csv(path)["name"].tolist() == [rows[0]["name"], "plain"]


def test_h5_round_trip_keeps_arrays_strings_and_metadata(tmp_path):
    arrays = {"a": np.arange(6.0).reshape(2, 3), "group": {"labels": np.array(["x", "yz"]), "n": np.int64(4)}}
    path = tmp_path / "data.h5"
    io.write_h5(path, arrays, {"seed": 3, "nested": {"list": [1, 2]}})
    back, metadata = io.read_h5(path)
    assert np.array_equal(back["a"], arrays["a"])
    assert back["group"]["labels"].tolist() == ["x", "yz"] and back["group"]["n"] == 4
    assert metadata == {"seed": 3, "nested": {"list": [1, 2]}}


def test_identical_content_gives_identical_bytes(tmp_path):
    arrays = {"w": np.linspace(0, 1, 7)}
    io.write_h5(tmp_path / "one.h5", arrays, {"k": 1})
    io.write_h5(tmp_path / "two.h5", arrays, {"k": 1})
    assert (tmp_path / "one.h5").read_bytes() == (tmp_path / "two.h5").read_bytes()


def test_run_round_trip(tmp_path):
    splits = make_dataset("moons", 0, {"n_samples": 80})
    arch = architecture_for(splits, [4])
    specs = [ModelSpec("he", seed, 0.05, lambd=0.1) for seed in range(3)]
    outcome = run_batch(splits, arch, "adam", {}, TrainConfig(5, 16, eval_every=4), specs)
    path = tmp_path / "run.h5"
    io.write_run(path, outcome, {"cell": ["moons", "adam", "l2"]})
    arrays, metadata = io.read_run(path)
    for name, value in outcome.result.params.items():
        assert np.array_equal(arrays["params"][name], value)
    for name, value in outcome.result.history.items():
        assert np.array_equal(arrays["history"][name], value, equal_nan=True)
    assert arrays["status"].tolist() == outcome.result.status.tolist()
    assert arrays["specs"]["lambd"].tolist() == [0.1] * 3
    assert metadata["cell"] == ["moons", "adam", "l2"]


def test_a_failed_write_leaves_no_file(tmp_path):
    path = tmp_path / "table.csv"
    try:
        with io.atomic_path(path) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("killed")
    except RuntimeError:
        pass
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_write_killed_by_sigkill_leaves_nothing_once_the_file_is_written_again(tmp_path):
    path = tmp_path / "figure.svg"
    killed_writer = (
        "import os, signal, sys\n"
        "from nnstudy import io\n"
        "with io.atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_text('partial')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run([sys.executable, "-c", killed_writer, str(path)])
    assert killed.returncode == -signal.SIGKILL
    assert [p.suffix for p in tmp_path.iterdir()] == [".tmp"]  # no finally survives SIGKILL
    # The resumed job writes the same file again: the leftover goes with it.
    with io.atomic_path(path) as tmp:
        tmp.write_text("complete")
    assert [p.name for p in tmp_path.iterdir()] == ["figure.svg"]
    assert path.read_text() == "complete"
