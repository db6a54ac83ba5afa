"""Results never go stale or wrong without a word: every file read is an input, every file aggregated is checked.

Workflow tests on small studies (about a minute in all); marked slow.
"""

import shutil

import numpy as np
import pytest
import scipy.io
import yaml

from conftest import result_bytes, snakemake, write_config

pytestmark = pytest.mark.slow


def planned_jobs(stdout):
    """{rule: count} from the "Job stats" table of a Snakemake dry run ({} when nothing is to be done)."""
    lines = stdout.splitlines()
    if "Job stats:" not in lines:
        return {}
    jobs = {}
    for line in lines[lines.index("Job stats:") + 3:]:
        name, count = line.split()
        if name == "total":
            return jobs
        jobs[name] = int(count)
    raise AssertionError("no total in the job stats:\n" + stdout)


def _mat(path, flip=False):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = (X[:, :1] > 0).astype(float)
    if flip:
        y = 1.0 - y
    scipy.io.savemat(path, {"X": X, "y": y, "Xval": X[:20], "yval": y[:20]})


def test_editing_a_mat_file_reruns_its_dataset_and_everything_built_from_it(tmp_path):
    source = tmp_path / "course data" / "data.mat"
    source.parent.mkdir()
    _mat(source)
    football = {"source": "mat", "path": str(source), "hidden_layers": [4], "epochs": 2, "batch_size": 8,
                "eval_every": 1}
    config = write_config(tmp_path, **{"datasets.football": football})
    target = ["--configfile", str(config), "--", "results/runs/football/adam/none.csv"]
    built = snakemake("--cores", "2", *target, workdir=tmp_path)
    assert built.returncode == 0, built.stderr[-3000:]
    assert planned_jobs(snakemake("-n", *target, workdir=tmp_path).stdout) == {}

    _mat(source, flip=True)
    planned = planned_jobs(snakemake("-n", *target, workdir=tmp_path).stdout)
    # The cell's jobs are those of its (dataset, optimizer), which wait for the
    # gate of every regularizer; its tuning is the search (the smoke study
    # tunes by search).
    gates = len(yaml.safe_load(config.read_text())["regularizers"])
    assert planned == {"dataset": 1, "gradcheck": gates, "search": 1, "train": 1}


@pytest.mark.course_data
def test_a_course_file_added_after_a_run_reruns_the_replication(tmp_path, course_data):
    folder = tmp_path / "course"
    folder.mkdir()
    config = write_config(tmp_path, course_data_dir=str(folder), replication=["regularization"])
    target = ["--configfile", str(config), "--", "results/tables/replication.csv"]
    skipped = snakemake("--cores", "1", *target, workdir=tmp_path)
    assert skipped.returncode == 0, skipped.stderr[-3000:]
    assert "data.mat" in (tmp_path / "results" / "tables" / "replication.csv.meta.json").read_text()
    assert planned_jobs(snakemake("-n", *target, workdir=tmp_path).stdout) == {}

    shutil.copy(course_data / "data.mat", folder / "data.mat")
    assert planned_jobs(snakemake("-n", *target, workdir=tmp_path).stdout) == {"replicate": 1}


@pytest.fixture
def finished_copy(smoke_study, tmp_path):
    """A copy of the finished smoke study, Snakemake's records included: (workdir, config path)."""
    reference, _ = smoke_study
    workdir = tmp_path / "study"
    shutil.copytree(reference, workdir, symlinks=True)
    return workdir, workdir / "config.yaml"


def test_a_row_deleted_from_a_cell_stops_aggregation_naming_the_file_and_the_remedy(smoke_study, finished_copy):
    workdir, config = finished_copy
    cell = "results/runs/digits/adam/none.csv"
    lines = (workdir / cell).read_text().splitlines(keepends=True)
    (workdir / cell).write_text("".join(lines[:2] + lines[3:]))

    result = snakemake("--cores", "2", "--configfile", str(config), workdir=workdir)
    assert result.returncode != 0
    assert f"{cell}: 5 rows where the configuration expects 6" in result.stderr
    assert f"snakemake --forcerun {cell}" in result.stderr
    # Nothing was aggregated from the damaged cell (Snakemake removes a failed job's outputs).
    assert not (workdir / "results" / "tables" / "summary.csv").exists()

    # The remedy the message names restores the study's results.
    fixed = snakemake("--cores", "2", "--configfile", str(config), "--forcerun", cell, workdir=workdir)
    assert fixed.returncode == 0, fixed.stderr[-3000:]
    assert result_bytes(workdir) == result_bytes(smoke_study[0])
