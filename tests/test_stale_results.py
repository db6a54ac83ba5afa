"""Results never go stale or wrong without a word: every file read is an input, every file aggregated is checked.

Workflow tests on small studies (about a minute in all); marked slow.
"""

import shutil

import numpy as np
import pytest
import scipy.io

from conftest import snakemake, write_config

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
    assert planned == {"dataset": 1, "gradcheck": 1, "tune": 1, "train": 1}


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
